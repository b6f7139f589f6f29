public import Foundation

/// What start-up (or a wake after suspend or a clock jump) did about notices whose time passed
/// while nobody was sending: the content of the downtime report.
///
/// Of several missed notices of one deadline only the latest is sent (marked late); the others
/// are recorded as superseded (`design.md`, "Time and missed notices").
public struct CatchUpReport: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// Claimed to be sent now, marked late.
        case sendLate
        /// Not sent: the later notice named here goes out instead.
        case superseded(by: String)
    }

    public struct Missed: Sendable, Hashable {
        public var noticeID: String
        public var deadlineID: String
        public var slot: String
        public var at: Date
        public var action: Action

        public init(noticeID: String, deadlineID: String, slot: String, at: Date, action: Action) {
            self.noticeID = noticeID
            self.deadlineID = deadlineID
            self.slot = slot
            self.at = at
            self.action = action
        }
    }

    /// Every missed notice, by deadline and then time.
    public var missed: [Missed]
    /// The notices to send now, already committed as `sending` and `late`.
    public var toSend: [ClaimedNotice]

    public init(missed: [Missed] = [], toSend: [ClaimedNotice] = []) {
        self.missed = missed
        self.toSend = toSend
    }

    public var isEmpty: Bool { missed.isEmpty }

    /// "5 notices missed: 2 sent late, 3 superseded", or "no notice missed".
    public var summary: String {
        if missed.isEmpty { return "no notice missed" }
        let late = missed.filter { $0.action == .sendLate }.count
        let noun = missed.count == 1 ? "notice" : "notices"
        return "\(missed.count) \(noun) missed: \(late) sent late, \(missed.count - late) superseded"
    }
}
