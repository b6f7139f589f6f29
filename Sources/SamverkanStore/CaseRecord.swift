public import Foundation

/// A window opened by an event (a SMADIT handover), under a neutral reference.
public struct CaseRecord: Sendable, Hashable {
    /// `YYYY-NNNN`, or a registry-style number the client gave (`design.md`, "Cases").
    public var reference: String
    public var agreement: String
    public var window: String
    public var openedAt: Date
    public var closedAt: Date?
    /// `contacted`, `unreachable`, `declined` (checked by the control layer).
    public var outcome: String?
    /// `AGREEMENT/WINDOW/REFERENCE`.
    public var deadlineID: String

    public init(
        reference: String, agreement: String, window: String, openedAt: Date, closedAt: Date?, outcome: String?,
        deadlineID: String
    ) {
        self.reference = reference
        self.agreement = agreement
        self.window = window
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.outcome = outcome
        self.deadlineID = deadlineID
    }

    public var isOpen: Bool { closedAt == nil }
}

/// A request to open a case.
public struct CaseOpening: Sendable, Hashable {
    /// The client's reference, or nil to have the store assign the next `YYYY-NNNN`.
    public var reference: String?
    public var agreement: String
    public var window: String
    public var openedAt: Date
    /// The `YYYY` of an assigned reference (the year of `openedAt` in the config's zone).
    public var referenceYear: Int

    public init(reference: String?, agreement: String, window: String, openedAt: Date, referenceYear: Int) {
        self.reference = reference
        self.agreement = agreement
        self.window = window
        self.openedAt = openedAt
        self.referenceYear = referenceYear
    }
}

/// The answer to `openCase`: the case, its deadline, and whether it was opened now (201) or
/// already open with the same fields (200).
public struct CaseOpened: Sendable, Hashable {
    public var record: CaseRecord
    public var deadline: DeadlineListing
    public var created: Bool

    public init(record: CaseRecord, deadline: DeadlineListing, created: Bool) {
        self.record = record
        self.deadline = deadline
        self.created = created
    }
}
