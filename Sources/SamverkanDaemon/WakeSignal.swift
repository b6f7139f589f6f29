import SamverkanSinks
import Synchronization

/// Wakes the scheduler loop early: new work, a reload, a ping from the watchdog, shutdown.
///
/// `wait(timeout:)` returns when `signal()` is called, when the timeout passes, or when the
/// waiting task is cancelled. A signal that arrives while nobody waits is remembered, so none is
/// lost between two waits.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            state.timer?.cancel()
            state.timer = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(timeout: Duration?) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    if let timeout {
                        state.timer = Task { [weak self] in
                            try? await EventLoopSleep.sleep(for: timeout)
                            if !Task.isCancelled { self?.signal() }
                        }
                    }
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
        state.withLock { $0.pending = false }
    }
}
