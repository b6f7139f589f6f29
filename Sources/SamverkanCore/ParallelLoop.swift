import Foundation
import Synchronization

/// `DispatchQueue.concurrentPerform` without libdispatch's worker threads.
///
/// The first worker of libdispatch's global (non-overcommit) queues starts its workqueue monitor,
/// a timer that wakes the process every second for as long as it lives; `concurrentPerform` uses
/// those workers. The daemon must make no wake-ups while idle, so work that is spread over the
/// cores (loading agreement files, planning) runs on threads of its own that end with the loop.
public enum ParallelLoop {
    /// Calls `body` once for every index in `0..<iterations`, on up to `width` threads at once
    /// (the caller's among them; nil: one per core); returns when every call has returned.
    public static func forEach(iterations: Int, width: Int? = nil, _ body: (Int) -> Void) {
        guard iterations > 0 else { return }
        let width = width ?? ProcessInfo.processInfo.activeProcessorCount
        let helpers = max(0, min(width, iterations) - 1)
        guard helpers > 0 else {
            for index in 0..<iterations { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let loop = Loop(iterations: iterations, body: body)
            let join = detach(helpers) { loop.work() }
            loop.work()
            // The body escapes only into these threads, and they are all done with it before it
            // returns. A thread may still hold `loop` for a moment after it is done, so the loop
            // lets go of the body here (withoutActuallyEscaping traps if anything still holds it).
            join()
            loop.body = nil
        }
    }

    /// Calls `produce` for every index in `0..<iterations` on up to `width` threads of its own
    /// (nil: one per core), and `consume` on the caller's thread with each result, in index
    /// order, as soon as it and every result before it are ready; returns when every result has
    /// been consumed.
    ///
    /// This lets the caller start on the first results while the others are still being made
    /// (the daemon's reload stores the first agreement files while it reads the next). At most
    /// `ahead` results wait to be consumed, so memory holds a window of them, not all.
    public static func forEachInOrder<Result: Sendable>(
        iterations: Int, width: Int? = nil, ahead: Int = 64, _ produce: @Sendable (Int) -> Result,
        then consume: (Int, Result) -> Void
    ) {
        guard iterations > 0 else { return }
        let width = width ?? ProcessInfo.processInfo.activeProcessorCount
        let threads = min(width, iterations)
        guard threads > 1 else {
            for index in 0..<iterations { consume(index, produce(index)) }
            return
        }
        withoutActuallyEscaping(produce) { produce in
            let loop = OrderedLoop(iterations: iterations, ahead: max(ahead, threads), produce: produce)
            let join = detach(threads) { loop.work() }
            for index in 0..<iterations { consume(index, loop.take(index)) }
            // As in `forEach`: every thread is done with `produce` before it is let go.
            join()
            loop.produce = nil
        }
    }

    /// Runs `work` on `count` threads of their own; the function returned waits until every one
    /// of them has returned from it.
    private static func detach(_ count: Int, _ work: @escaping @Sendable () -> Void) -> () -> Void {
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            Thread.detachNewThread {
                work()
                finished.signal()
            }
        }
        return { for _ in 0..<count { finished.wait() } }
    }

    /// What the threads of one ordered loop share.
    ///
    /// `@unchecked Sendable` is safe here: every stored property but the constants is read and
    /// written only with `condition` locked, except `produce`, which is read by the threads
    /// while they run and set to nil only after all of them have returned (`detach`'s
    /// semaphore orders their reads before the write). Each index is produced by exactly one
    /// thread (`taken` hands it out under the lock) and consumed once.
    private final class OrderedLoop<Result: Sendable>: @unchecked Sendable {
        let iterations: Int
        let ahead: Int
        var produce: (@Sendable (Int) -> Result)?
        let condition = NSCondition()
        /// Results made and not yet consumed, by index.
        private var ready: [Int: Result] = [:]
        /// The next index to hand to a thread.
        private var taken = 0
        /// How many results the caller has consumed.
        private var consumed = 0

        init(iterations: Int, ahead: Int, produce: @escaping @Sendable (Int) -> Result) {
            self.iterations = iterations
            self.ahead = ahead
            self.produce = produce
        }

        func work() {
            while true {
                condition.lock()
                while taken < iterations && taken >= consumed + ahead { condition.wait() }
                guard taken < iterations, let produce else {
                    condition.unlock()
                    return
                }
                let index = taken
                taken += 1
                condition.unlock()
                let result = produce(index)
                condition.lock()
                ready[index] = result
                condition.broadcast()
                condition.unlock()
            }
        }

        /// The result of `index`, once made; the indexes must be taken in order.
        func take(_ index: Int) -> Result {
            condition.lock()
            defer { condition.unlock() }
            while true {
                if let result = ready.removeValue(forKey: index) {
                    consumed = index + 1
                    condition.broadcast()
                    return result
                }
                condition.wait()
            }
        }
    }

    /// What the threads of one loop share.
    ///
    /// `@unchecked Sendable` is safe here: `body` is called from several threads, which is what a
    /// caller of `forEach` agrees to (each index exactly once), and set to nil only after every
    /// thread has returned (`detach`'s semaphore orders their reads before the write); `next` is
    /// atomic, made for sharing.
    private final class Loop: @unchecked Sendable {
        let iterations: Int
        var body: ((Int) -> Void)?
        let next = Atomic<Int>(0)

        init(iterations: Int, body: @escaping (Int) -> Void) {
            self.iterations = iterations
            self.body = body
        }

        func work() {
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < iterations, let body else { return }
                body(index)
            }
        }
    }
}
