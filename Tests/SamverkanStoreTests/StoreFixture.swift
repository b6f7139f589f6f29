import Foundation
import SamverkanCore

@testable import SamverkanStore

/// A fresh state directory under /tmp, removed when the value goes away.
final class Scratch: Sendable {
    let path: String

    init() {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("samverkan-store-\(UUID().uuidString)")
            .path
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Instants written as UTC text, so tests read like the schedule they describe.
func utc(_ text: String) -> Date {
    // Test data is literal; a typo gives a date in 1 AD that every expectation trips over.
    (try? Date(text, strategy: .iso8601)) ?? .distantPast
}

/// A one-notice-per-slot deadline, as the planner makes them (`AGREEMENT/OBLIGATION/DATE`,
/// notices `ID/SLOT`).
func deadline(
    agreement: String = "avesta-falun", obligation: String = "arlig-uppfoljning", nominal: String,
    due: String, reminders: [(slot: String, at: String)] = [], title: String = "Årlig uppföljning",
    kind: String = "review"
) -> Deadline {
    let date = LocalDate(iso: nominal) ?? LocalDate(dayNumber: 0)
    let id = "\(agreement)/\(obligation)/\(date)"
    var notices = reminders.map {
        PlannedNotice(id: "\(id)/\($0.slot)", slot: $0.slot, at: utc($0.at), recipients: ["samordnare"])
    }
    notices.append(PlannedNotice(id: "\(id)/due", slot: "due", at: utc(due), recipients: ["samordnare"]))
    return Deadline(
        id: id, agreement: agreement, obligation: obligation, kind: kind, title: title, nominal: date, due: utc(due),
        notices: notices, explanation: ["nominal date: \(date)"])
}

/// A collection round: per-respondent reminders `ID/SLOT/ROLE` and the summary at due.
func round(nominal: String, due: String, reminders: [(slot: String, at: String)], respondents: [String]) -> Deadline {
    let date = LocalDate(iso: nominal) ?? LocalDate(dayNumber: 0)
    let id = "avesta-falun/lagesbild/\(date)"
    var notices: [PlannedNotice] = []
    for reminder in reminders {
        for role in respondents {
            notices.append(
                PlannedNotice(
                    id: "\(id)/\(reminder.slot)/\(role)", slot: reminder.slot, at: utc(reminder.at), recipients: [role])
            )
        }
    }
    notices.append(PlannedNotice(id: "\(id)/summary", slot: "summary", at: utc(due), recipients: ["samordnare"]))
    return Deadline(
        id: id, agreement: "avesta-falun", obligation: "lagesbild", kind: "lagesbild", title: "Månadens lägesbild",
        nominal: date, due: utc(due), notices: notices, explanation: [])
}

/// The whole of 2026 and 2027: wide enough that tests choose what is in the window by date.
let wideWindow = PlanWindow(start: utc("2026-01-01T00:00:00Z"), end: utc("2028-01-01T00:00:00Z"))

extension SQLiteStore {
    /// The states of a deadline's notices, by notice id.
    func noticeStates(_ deadlineID: String) async throws -> [String: NoticeState] {
        let detail = try await deadline(id: deadlineID)
        return Dictionary(uniqueKeysWithValues: (detail?.notices ?? []).map { ($0.id, $0.state) })
    }
}
