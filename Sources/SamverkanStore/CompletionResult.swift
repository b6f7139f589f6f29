/// What `complete` did.
public struct CompletionResult: Sendable, Hashable {
    public var deadlineID: String
    /// The respondent who answered, or nil when the deadline was completed as a whole.
    public var role: String?
    /// The deadline's state afterwards: `done` once completed as a whole or once every
    /// respondent of a round has answered.
    public var state: DeadlineState
    /// The same completion (or the same respondent's answer) was already recorded; nothing changed.
    public var alreadyRecorded: Bool
    /// Notices this completion cancelled.
    public var cancelledNotices: [String]
    /// For a round: respondents who have answered, and those still waited for (sorted).
    public var answered: [String]
    public var waitingFor: [String]

    public init(
        deadlineID: String, role: String?, state: DeadlineState, alreadyRecorded: Bool, cancelledNotices: [String],
        answered: [String], waitingFor: [String]
    ) {
        self.deadlineID = deadlineID
        self.role = role
        self.state = state
        self.alreadyRecorded = alreadyRecorded
        self.cancelledNotices = cancelledNotices
        self.answered = answered
        self.waitingFor = waitingFor
    }

    public var isDone: Bool { state == .done }
}
