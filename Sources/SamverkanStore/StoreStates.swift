public import Foundation

/// Where a deadline stands.
public enum DeadlineState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Planned and not yet completed (overdue when its due time has passed).
    case planned
    /// Completed: by `samverkanctl done`, by every respondent of a round, or by closing its case.
    case done
    /// The plan no longer has it (a rule or an agreement changed). It comes back as `planned`
    /// if a later plan has it again.
    case cancelled
}

/// Where a notice stands: the states of `design.md` ("Names, flags and defaults") and one more,
/// `skipped`.
public enum NoticeState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for its time (`next_attempt`).
    case pending
    /// Claimed for delivery; the claim was committed before any sink was called. A notice found
    /// in this state at start was interrupted and is sent again with the same id.
    case sending
    case sent
    /// A delivery failed and will be retried at `next_attempt`.
    case failed
    /// Delivery gave up (a dead letter).
    case dead
    /// No longer wanted: its deadline was completed or left the plan, or its respondent answered.
    case cancelled
    /// Missed while the daemon was down, and a later notice of the same deadline was sent instead.
    case superseded
    /// Never to be sent because its time had already passed when it entered the store: a fresh
    /// install, a new rule or a rule change never fires old notices (`design.md`, "First start";
    /// issue 6, "never fires a notice just because a rule changed"). An extension of the design's
    /// list; it is pending again if a later plan moves its time into the future.
    case skipped

    /// States that still want a delivery: what the scheduler waits for.
    public static let waiting: [NoticeState] = [.pending, .failed]
}

/// How one delivery attempt to one sink ended.
public enum DeliveryOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case ok
    /// Trying again later may succeed.
    case transient
    /// Trying again will fail the same way.
    case permanent
}

/// Why a notice is in a state other than the one its time suggests, as stored in `notice.reason`.
///
/// The raw values are stored; `explanation` is what people read.
public enum NoticeReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// Fell due before it (or its deadline) first entered the store.
    case beforeFirstSeen = "before-first-seen"
    /// A plan change moved it to a time already past.
    case movedIntoPast = "moved-into-past"
    /// The plan no longer has it, or its deadline left the plan.
    case removed
    /// Its deadline was completed.
    case completed
    /// Its respondent answered the round.
    case answered
    /// A later missed notice of the same deadline was sent instead.
    case superseded
    /// Its case was closed.
    case caseClosed = "case-closed"

    public var explanation: String {
        switch self {
        case .beforeFirstSeen: "its time had passed when it first entered the store"
        case .movedIntoPast: "a plan change moved it to a time already past"
        case .removed: "the plan no longer has it"
        case .completed: "the deadline was completed"
        case .answered: "the respondent answered"
        case .superseded: "missed while the daemon was down; a later notice was sent instead"
        case .caseClosed: "the case was closed"
        }
    }
}

/// One notice's delivery, to be recorded with others (`finishDeliveries`).
public struct FinishedDelivery: Sendable, Hashable {
    public var noticeID: String
    public var attempts: [DeliveryRecord]
    public var outcome: DeliveryResolution

    public init(noticeID: String, attempts: [DeliveryRecord], outcome: DeliveryResolution) {
        self.noticeID = noticeID
        self.attempts = attempts
        self.outcome = outcome
    }
}

/// How a delivery ended, as `finishDelivery` records it.
public enum DeliveryResolution: Sendable, Hashable {
    /// Delivered; `late` when after its time.
    case sent(late: Bool)
    /// Failed for now; try again at this instant.
    case retry(at: Date)
    /// Given up: a dead letter.
    case dead
    /// Not sent yet, on purpose: held for a route's daily digest at this instant. The notice is
    /// `pending` again, and this claim does not count as an attempt.
    case deferred(until: Date)
}
