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
            for _ in 0..<helpers {
                Thread.detachNewThread {
                    loop.work(); loop.finished.signal()
                }
            }
            loop.work()
            // The body escapes only into these threads, and they are all done with it before it
            // returns. A thread may still hold `loop` for a moment after its signal, so the loop
            // lets go of the body here (withoutActuallyEscaping traps if anything still holds it).
            for _ in 0..<helpers { loop.finished.wait() }
            loop.body = nil
        }
    }

    /// What the threads of one loop share.
    ///
    /// `@unchecked Sendable` is safe here: `body` is called from several threads, which is what a
    /// caller of `forEach` agrees to (each index exactly once), and set to nil only after every
    /// thread has signalled `finished` (the semaphore orders their reads before the write);
    /// `next` is atomic and `finished` is a semaphore, both made for sharing.
    private final class Loop: @unchecked Sendable {
        let iterations: Int
        var body: ((Int) -> Void)?
        let next = Atomic<Int>(0)
        let finished = DispatchSemaphore(value: 0)

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
