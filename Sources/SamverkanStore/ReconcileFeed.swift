import Foundation
import Synchronization

/// The plan of a reconcile that is still being made, handed to the store agreement by agreement
/// (``DeadlineStore/startReconcile(feed:window:now:progress:recording:)``).
///
/// A reload reads, checks and plans each agreement file on its own, so the store can compare and
/// insert the first agreements while the others are still being read. The caller sends each
/// agreement's whole plan once, then ends the feed: `finish` commits the reconcile, `abandon`
/// (an invalid config, say) rolls all of it back. The store waits for what is sent on a thread
/// of its own; sending never waits.
///
/// `@unchecked Sendable` is safe here: every stored property but `condition` is read and written
/// only with `condition` locked, and `NSCondition` is made for sharing.
public final class ReconcileFeed: @unchecked Sendable {
    /// What the store takes next.
    enum Next {
        /// One agreement's whole plan (empty: the agreement is gone; its deadlines are cancelled).
        case agreement(String, PreparedPlan)
        /// The plan is complete: commit, stamping this config fingerprint.
        case finished(fingerprint: String)
        /// Roll everything back.
        case abandoned
    }

    private let condition = NSCondition()
    private var queue: [(String, PreparedPlan)] = []
    private var head = 0
    private var end: Next?

    public init() {}

    /// Hands over one agreement's plan: every deadline of the window whose id starts with
    /// `agreement/`, prepared on the sender's thread. Each agreement is sent once (a second plan
    /// of it would be reconciled against the first). Ignored once the feed has ended, or once
    /// the store's transaction has failed. Plans wait in memory for the writer, as a whole
    /// plan handed to `reconcile` would.
    public func send(agreement: String, plan: PreparedPlan) {
        condition.lock()
        defer { condition.unlock() }
        guard end == nil else { return }
        queue.append((agreement, plan))
        condition.signal()
    }

    /// Ends the feed: the store commits what it was sent, with the config's fingerprint.
    public func finish(fingerprint: String) { close(.finished(fingerprint: fingerprint)) }

    /// Ends the feed: the store rolls back everything it was sent. Harmless after `finish`.
    public func abandon() { close(.abandoned) }

    private func close(_ how: Next) {
        condition.lock()
        defer { condition.unlock() }
        guard end == nil else { return }
        end = how
        condition.signal()
    }

    /// The next agreement, or the end once every agreement sent has been taken; waits for the
    /// sender. Abandoning skips what is still queued.
    func next() -> Next {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if case .abandoned = end {
                queue = []
                return .abandoned
            }
            if head < queue.count {
                let (agreement, plan) = queue[head]
                // Let go of the plan as soon as it is taken; the slots are dropped in bulk.
                queue[head] = ("", PreparedPlan(lazily: []))
                head += 1
                if head == queue.count {
                    queue.removeAll(keepingCapacity: true)
                    head = 0
                }
                return .agreement(agreement, plan)
            }
            if let end { return end }
            condition.wait()
        }
    }
}

/// A reconcile started with ``DeadlineStore/startReconcile(feed:window:now:progress:recording:)``:
/// its report once the feed has ended and the transaction committed or rolled back.
public final class ReconcileInProgress: Sendable {
    private enum State {
        case running
        case waiting(CheckedContinuation<Result<ReconcileReport, StoreError>, Never>)
        case done(Result<ReconcileReport, StoreError>)
    }

    private let state = Mutex(State.running)

    public init() {}

    /// Called once by the store with the outcome.
    public func complete(_ result: Result<ReconcileReport, StoreError>) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<ReconcileReport, StoreError>, Never>? in
            defer { state = .done(result) }
            if case .waiting(let waiter) = state { return waiter }
            return nil
        }
        waiter?.resume(returning: result)
    }

    /// The report, when the transaction has committed; the error, when it has not (an abandoned
    /// feed gives a `cancelled` error). Awaited by one caller, once.
    public func report() async throws(StoreError) -> ReconcileReport {
        let result = await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Result<ReconcileReport, StoreError>? in
                if case .done(let result) = state { return result }
                state = .waiting(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
        return try result.get()
    }
}
