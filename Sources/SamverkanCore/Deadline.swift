public import Foundation

/// One occurrence of an obligation (or one opened window): what is due, when, and the notices
/// it produces.
///
/// Its id is `AGREEMENT/OBLIGATION/YYYY-MM-DD` with the **nominal** date, before any working-day
/// move, so a move changes `due` and never the id (`design.md`, "Identity and idempotency").
public struct Deadline: Sendable, Hashable {
    public var id: String
    public var agreement: String
    public var obligation: String
    public var kind: String
    public var title: String
    /// The occurrence date the rule gave, before any move.
    public var nominal: LocalDate
    /// The due instant, after working-day moves and DST resolution.
    public var due: Date
    public var notices: [PlannedNotice]
    /// How the due time was derived, step by step, in plain English.
    public var explanation: [String]

    public init(
        id: String, agreement: String, obligation: String, kind: String, title: String, nominal: LocalDate,
        due: Date, notices: [PlannedNotice], explanation: [String]
    ) {
        self.id = id
        self.agreement = agreement
        self.obligation = obligation
        self.kind = kind
        self.title = title
        self.nominal = nominal
        self.due = due
        self.notices = notices
        self.explanation = explanation
    }
}

/// A notice the planner asks for: a reminder before due, the due notice, an escalation, ….
///
/// Its id is the deadline id, `/` and the slot: `avesta-falun/arlig-uppfoljning/2026-11-02/-30d`.
/// That id is the idempotency key everywhere (file name, Message-ID, webhook key, journal field).
public struct PlannedNotice: Sendable, Hashable {
    public var id: String
    public var slot: String
    public var at: Date
    /// Role ids that receive it.
    public var recipients: [String]
    public var explanation: String?

    public init(id: String, slot: String, at: Date, recipients: [String], explanation: String? = nil) {
        self.id = id
        self.slot = slot
        self.at = at
        self.recipients = recipients
        self.explanation = explanation
    }
}

extension PlannedNotice {
    /// The notice id as a file name: `/` becomes `.` (reversible, since no id segment holds a dot).
    public var fileName: String { NoticeID.fileName(id) }
}

/// Helpers for the id scheme of `design.md`.
public enum NoticeID {
    public static func fileName(_ id: String) -> String { id.replacingOccurrences(of: "/", with: ".") }
    public static func fromFileName(_ name: String) -> String { name.replacingOccurrences(of: ".", with: "/") }
}
