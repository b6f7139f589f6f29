public import Foundation
public import SamverkanCore

/// The plain Swedish text of a notice, following `domain.md` §7: "du", ISO dates with weekday,
/// "kl. 09.00", what is due, for which agreement, and what to do. Mustache templates replace this
/// with the sinks issue; the words stay.
public struct NoticeText: Sendable {
    public let zone: Zone

    public init(zone: Zone) {
        self.zone = zone
    }

    static let weekdays = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]

    /// `måndag 2026-11-30 kl. 09.00`.
    public func swedishDateTime(_ instant: Date) -> String {
        let local = zone.local(instant)
        let time = local.time
        let minute = time.minute < 10 ? "0\(time.minute)" : "\(time.minute)"
        let hour = time.hour < 10 ? "0\(time.hour)" : "\(time.hour)"
        return "\(Self.weekdays[local.date.weekday - 1]) \(local.date) kl. \(hour).\(minute)"
    }

    public func render(deadline: Deadline, slot: String, agreementTitle: String) -> (subject: String, body: String) {
        let when = swedishDateTime(deadline.due)
        let dueDate = zone.today(deadline.due)
        let subject: String
        let opening: String
        if slot == "due" {
            subject = "[Samverkan] \(deadline.title) – sista dag i dag \(dueDate)"
            opening = "I dag, \(when), är sista dag för \"\(deadline.title)\" enligt \(agreementTitle)."
        } else {
            subject = "[Samverkan] \(deadline.title) senast \(dueDate)"
            opening = "Påminnelse: \"\(deadline.title)\" enligt \(agreementTitle) ska vara klar senast \(when)."
        }
        let body = """
            Hej!

            \(opening)
            – gör det som behövs före dess
            – markera som klar när det är gjort: samverkanctl done \(deadline.id)

            Du får meddelandet som kontaktperson för överenskommelsen. Automatiskt meddelande.

            Vänliga hälsningar
            Påminnelsetjänsten för brottsförebyggande samverkan

            """
        return (subject, body)
    }
}
