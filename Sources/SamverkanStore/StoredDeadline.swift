public import Foundation
public import SamverkanCore

/// Where a stored deadline came from: the planner's rolling horizon, or a case opened by an event.
///
/// Reconcile only ever cancels `plan` deadlines; a case's deadline lives until the case closes.
public enum DeadlineOrigin: String, Sendable, Hashable, Codable {
    case plan
    case `case`
}

/// A deadline as the store keeps it: the planner's fields plus its state and history.
public struct StoredDeadline: Sendable, Hashable {
    public var id: String
    public var agreement: String
    public var obligation: String
    public var kind: String
    public var title: String
    public var nominal: LocalDate
    public var due: Date
    public var state: DeadlineState
    public var origin: DeadlineOrigin
    public var explanation: [String]
    /// When it first entered the store: notices due before this are never sent.
    public var firstSeen: Date
    public var updated: Date

    public init(
        id: String, agreement: String, obligation: String, kind: String, title: String, nominal: LocalDate,
        due: Date, state: DeadlineState, origin: DeadlineOrigin, explanation: [String], firstSeen: Date,
        updated: Date
    ) {
        self.id = id
        self.agreement = agreement
        self.obligation = obligation
        self.kind = kind
        self.title = title
        self.nominal = nominal
        self.due = due
        self.state = state
        self.origin = origin
        self.explanation = explanation
        self.firstSeen = firstSeen
        self.updated = updated
    }

    /// The planner's shape of this deadline, with the given notices.
    public func deadline(notices: [PlannedNotice] = []) -> Deadline {
        Deadline(
            id: id, agreement: agreement, obligation: obligation, kind: kind, title: title, nominal: nominal,
            due: due, notices: notices, explanation: explanation)
    }
}

/// A notice as the store keeps it.
public struct StoredNotice: Sendable, Hashable {
    public var id: String
    public var deadlineID: String
    public var slot: String
    /// The respondent of a collection round (`…/SLOT/ROLE`), nil for every other notice.
    public var role: String?
    /// The planned time.
    public var at: Date
    public var state: NoticeState
    /// Sent after its time.
    public var late: Bool
    /// How many times it was claimed for delivery.
    public var attempts: Int
    /// When it wants attention next: the planned time, or a retry's backoff.
    public var nextAttempt: Date
    public var recipients: [String]
    public var explanation: String?
    /// Why it is cancelled, skipped or superseded.
    public var reason: NoticeReason?
    public var firstSeen: Date
    public var updated: Date

    public init(
        id: String, deadlineID: String, slot: String, role: String?, at: Date, state: NoticeState, late: Bool,
        attempts: Int, nextAttempt: Date, recipients: [String], explanation: String?, reason: NoticeReason?,
        firstSeen: Date, updated: Date
    ) {
        self.id = id
        self.deadlineID = deadlineID
        self.slot = slot
        self.role = role
        self.at = at
        self.state = state
        self.late = late
        self.attempts = attempts
        self.nextAttempt = nextAttempt
        self.recipients = recipients
        self.explanation = explanation
        self.reason = reason
        self.firstSeen = firstSeen
        self.updated = updated
    }

    /// The planner's shape of this notice.
    public var planned: PlannedNotice {
        PlannedNotice(id: id, slot: slot, at: at, recipients: recipients, explanation: explanation)
    }
}

/// A deadline with its notices, as listings (`GET /v1/deadlines`) need it.
public struct DeadlineListing: Sendable, Hashable {
    public var deadline: StoredDeadline
    /// Sorted by time, then id.
    public var notices: [StoredNotice]

    public init(deadline: StoredDeadline, notices: [StoredNotice]) {
        self.deadline = deadline
        self.notices = notices
    }
}

/// One deadline with everything the store knows about it (`GET /v1/deadlines/{id}`).
public struct DeadlineDetail: Sendable, Hashable {
    public var deadline: StoredDeadline
    public var notices: [StoredNotice]
    /// Oldest first.
    public var deliveries: [DeliveryRecord]
    /// Oldest first.
    public var completions: [CompletionRecord]

    public init(
        deadline: StoredDeadline, notices: [StoredNotice], deliveries: [DeliveryRecord],
        completions: [CompletionRecord]
    ) {
        self.deadline = deadline
        self.notices = notices
        self.deliveries = deliveries
        self.completions = completions
    }
}

/// One delivery attempt of one notice to one sink.
public struct DeliveryRecord: Sendable, Hashable {
    public var noticeID: String
    public var sink: String
    public var at: Date
    public var outcome: DeliveryOutcome
    public var error: String?

    public init(noticeID: String, sink: String, at: Date, outcome: DeliveryOutcome, error: String? = nil) {
        self.noticeID = noticeID
        self.sink = sink
        self.at = at
        self.outcome = outcome
        self.error = error
    }
}

/// Who asked for a change: the peer of the control socket (`SO_PEERCRED`), or nobody in
/// particular (the daemon itself, a test).
public struct Requester: Sendable, Hashable {
    public var uid: UInt32?
    public var pid: Int32?

    public init(uid: UInt32? = nil, pid: Int32? = nil) {
        self.uid = uid
        self.pid = pid
    }

    /// The daemon acting on its own.
    public static let daemon = Requester()
}

/// A recorded completion: the whole deadline (`role` nil) or one respondent's answer.
public struct CompletionRecord: Sendable, Hashable {
    public var deadlineID: String
    public var role: String?
    public var at: Date
    public var by: Requester
    public var note: String?

    public init(deadlineID: String, role: String?, at: Date, by: Requester, note: String?) {
        self.deadlineID = deadlineID
        self.role = role
        self.at = at
        self.by = by
        self.note = note
    }
}
