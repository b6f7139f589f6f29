/// A notice handed to the dispatcher, with its deadline, after its `sending` state was committed.
public struct ClaimedNotice: Sendable, Hashable {
    public var notice: StoredNotice
    public var deadline: StoredDeadline

    public init(notice: StoredNotice, deadline: StoredDeadline) {
        self.notice = notice
        self.deadline = deadline
    }
}
