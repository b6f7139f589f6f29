import Foundation
import Logging
import SamverkanConfig
import SamverkanCore
import SamverkanSinks
import SamverkanStore

/// The report of notices that fell due while nothing could send them (`design.md`, "Time and
/// missed notices"): one journal entry with its own MESSAGE_ID that lists each missed notice and
/// what was done, and the same text as a notice (slot `downtime`) to the sinks of the route that
/// matches kind and slot `downtime` (the operator's route), addressed to `operator`.
extension Dispatcher {
    enum MissedCause: Sendable {
        /// Found at start: the daemon was not running.
        case downtime
        /// Found while running: a suspend, or the wall clock jumped forward.
        case jump
    }

    /// The report's notice id: `samverkand/downtime/20261127T031500Z`. Unique per report, so a
    /// receiver that drops duplicates by id never drops a second report.
    static func reportID(_ now: Date) -> String {
        let utc = Zone.utc.local(now)
        let d = utc.date
        let t = utc.time
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let year = String(d.year)
        return "samverkand/downtime/\(year)\(two(d.month))\(two(d.day))T\(two(t.hour))\(two(t.minute))\(two(t.second))Z"
    }

    func reportMissed(_ report: CatchUpReport, cause: MissedCause, now: Date) async {
        guard !report.isEmpty else { return }
        let id = Self.reportID(now)
        let english = renderer.language == "en"
        var lines: [String] = []
        for missed in report.missed {
            let what: String
            switch missed.action {
            case .sendLate: what = english ? "sent now, late" : "skickas nu, sent"
            case .superseded(let by): what = english ? "superseded by \(by)" : "ersatt av \(by)"
            }
            lines.append("\(missed.noticeID) (\(zone.rfc3339(missed.at))): \(what)")
        }
        let why =
            switch cause {
            case .downtime:
                english ? "while samverkand was not running" : "medan samverkand inte körde"
            case .jump:
                english
                    ? "while the machine was suspended or the clock jumped" : "medan datorn sov eller klockan hoppade"
            }
        let summary = report.summary
        logger.warning(
            "downtime report: \(summary)\n\(lines.joined(separator: "\n"))",
            metadata: [
                "message_id": "\(JournalEvent.downtimeReport.rawValue)", "samverkan_notice": "\(id)",
                "samverkan_missed": "\(report.missed.count)",
                "samverkan_sent_late": "\(report.toSend.count)",
            ])
        guard let route = route(agreement: "samverkand", kind: "downtime", slot: "downtime") else { return }
        let subject =
            english
            ? "samverkand: \(report.missed.count) notices fell due \(why)"
            : "samverkand: \(report.missed.count) påminnelser förföll \(why)"
        let intro =
            english
            ? "These notices fell due \(why). Of several missed notices of one deadline only the latest was sent, marked late; the others were superseded."
            : "De här påminnelserna förföll \(why). Av flera missade påminnelser för samma tidsfrist skickades bara den senaste, markerad som sen; de övriga ersattes."
        let body =
            ([intro, ""] + lines + ["", english ? "Check: samverkanctl status" : "Kontrollera: samverkanctl status"])
            .joined(separator: "\n") + "\n"
        let outgoing = daemonNotice(
            id: id, slot: "downtime", at: now, title: english ? "Downtime report" : "Driftstopprapport",
            recipients: operatorRecipients, subject: subject, body: body)
        for sinkName in route.sinks {
            guard let sink = sinks[sinkName] else { continue }
            do {
                let receipt = try await sink.deliver(outgoing)
                logger.notice(
                    "downtime report \(id) delivered to \(sinkName): \(receipt.detail)",
                    metadata: [
                        "message_id": "\(JournalEvent.noticeSent.rawValue)", "samverkan_notice": "\(id)",
                        "samverkan_sink": "\(sinkName)",
                    ])
            } catch {
                logger.error(
                    "downtime report \(id) not delivered to \(sinkName): \(error); the journal entry stands",
                    metadata: [
                        "message_id": "\(JournalEvent.noticeFailed.rawValue)", "samverkan_notice": "\(id)",
                        "samverkan_sink": "\(sinkName)",
                    ])
            }
        }
    }

    /// A notice of the daemon's own (a downtime report, a digest, a sink test): agreement
    /// `samverkand`, and a deadline that is only the notice itself, with `slot` as its kind.
    func daemonNotice(
        id: String, slot: String, at instant: Date, late: Bool = false, title: String,
        recipients: [OutgoingNotice.Recipient], subject: String, body: String
    ) -> OutgoingNotice {
        let at = zone.rfc3339(instant)
        return OutgoingNotice(
            id: id, slot: slot, at: at, late: late, agreement: "samverkand", agreementTitle: "samverkand",
            deadline: DeadlineView(
                id: id, agreement: "samverkand", obligation: slot, kind: slot, title: title, due: at, state: slot,
                notices: []),
            recipients: recipients, subject: subject, body: body)
    }

    /// `operator` from the settings: an address, or a role name with no address of its own.
    var operatorRecipients: [OutgoingNotice.Recipient] {
        guard let target = operatorTarget else { return [] }
        return target.contains("@")
            ? [.init(role: "operator", address: target)] : [.init(role: target, address: nil)]
    }
}

extension Dispatcher {
    /// `samverkanctl test-sink NAME`: a test notice through one sink, now, to `to` or the
    /// operator. Nothing is stored; the answer says what the sink said.
    func test(sink name: String, to address: String?, now: Date) async -> Result {
        // To the millisecond, so two tests in one second are two notices (and two files).
        let second = String((Self.reportID(now).split(separator: "/").last ?? "").dropLast())
        let milliseconds = Int((now.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
        let id = "samverkand/test/\(second)\(String(milliseconds + 1000).dropFirst())Z"
        guard let sink = sinks[name] else {
            return Result(
                outcome: .dead,
                attempts: [
                    DeliveryRecord(
                        noticeID: id, sink: name, at: now, outcome: .permanent,
                        error: "no sink named '\(name)'; the sinks are: \(sinks.keys.sorted().joined(separator: ", "))")
                ])
        }
        let english = renderer.language == "en"
        let outgoing = daemonNotice(
            id: id, slot: "test", at: now, title: english ? "Test notice" : "Testmeddelande",
            recipients: address.map { [OutgoingNotice.Recipient(role: "test", address: $0)] } ?? operatorRecipients,
            subject: english ? "samverkand: test of sink \(name)" : "samverkand: test av kanalen \(name)",
            body: (english
                ? "A test notice from samverkand through sink \(name). Nothing needs doing.\n"
                : "Ett testmeddelande från samverkand genom kanalen \(name). Inget behöver göras.\n"))
        do {
            let receipt = try await sink.deliver(outgoing)
            logger.notice(
                "test notice \(id) delivered to \(name): \(receipt.detail)",
                metadata: [
                    "message_id": "\(JournalEvent.noticeSent.rawValue)", "samverkan_notice": "\(id)",
                    "samverkan_sink": "\(name)",
                ])
            return Result(
                outcome: .sent(late: false),
                attempts: [DeliveryRecord(noticeID: id, sink: name, at: now, outcome: .ok, error: receipt.detail)])
        } catch {
            logger.error(
                "test notice \(id) not delivered to \(name): \(error)",
                metadata: [
                    "message_id": "\(JournalEvent.noticeFailed.rawValue)", "samverkan_notice": "\(id)",
                    "samverkan_sink": "\(name)",
                ])
            return Result(
                outcome: error.code == .transient ? .retry(at: now) : .dead,
                attempts: [
                    DeliveryRecord(
                        noticeID: id, sink: name, at: now, outcome: error.code == .transient ? .transient : .permanent,
                        error: error.message)
                ])
        }
    }
}
