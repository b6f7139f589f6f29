import NIOCore
import NIOPosix
import Synchronization

/// Sleeps on a timer of NIO's event loops instead of `Task.sleep`.
///
/// On Linux, `Task.sleep` runs its wake-up on libdispatch's global queues, and the first worker
/// thread of those starts libdispatch's workqueue monitor: a timer that wakes the process every
/// second for as long as it lives. `samverkand` runs Swift concurrency on NIO's event loops
/// (`NIOSingletons`, installed first thing in `main`) and sleeps with this, so an idle daemon
/// makes no wake-ups but the watchdog's (issue 6). Outside the daemon it works the same.
public enum EventLoopSleep {
    /// Returns after `duration`, or throws `CancellationError` as soon as the task is cancelled.
    public static func sleep(for duration: Duration) async throws {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let scheduled = Mutex<Scheduled<Void>?>(nil)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let task = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(nanoseconds)) {}
                task.futureResult.whenComplete { result in
                    switch result {
                    case .success: continuation.resume()
                    case .failure: continuation.resume(throwing: CancellationError())
                    }
                }
                scheduled.withLock { $0 = task }
                // Cancelled before the timer was stored: the handler below found nothing to cancel.
                if Task.isCancelled { task.cancel() }
            }
        } onCancel: {
            scheduled.withLock { $0 }?.cancel()
        }
    }
}
