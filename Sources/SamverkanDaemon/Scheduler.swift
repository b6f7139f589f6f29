import Foundation
import Logging
import SamverkanCore

/// Sleeps until the earliest pending notice, wakes early for new work, reloads, watchdog pings
/// and shutdown, and hands due notices to the dispatcher.
///
/// The loop runs on this actor; while it sleeps the actor is free, so status queries and
/// reloads never wait for it.
actor Scheduler {
    private let clock: any WallClock
    private let wake = WakeSignal()
    /// Wakes the loop at the next due instant and when the wall clock is set; without one
    /// (unit tests), the loop sleeps with a monotonic timer instead.
    private var timer: WallTimer?
    private(set) var clockChanges = 0
    private var book = ScheduleBook()
    private var dispatcher: Dispatcher
    private var pings: [CheckedContinuation<Void, Never>] = []
    private var wedged = false
    private(set) var loops = 0

    init(clock: any WallClock, dispatcher: Dispatcher) {
        self.clock = clock
        self.dispatcher = dispatcher
    }

    /// Installs a new plan and sink set; returns what changed.
    func install(plan: [Deadline], dispatcher: Dispatcher?) -> ScheduleBook.Change {
        if let dispatcher { self.dispatcher = dispatcher }
        let change = book.replace(with: plan, now: clock.now())
        wake.signal()
        return change
    }

    var snapshot: ScheduleBook { book }

    /// Uses a timerfd for the wall clock: no polling, and an immediate wake when the clock is set.
    func useWallTimer(offsetSeconds: Double) throws {
        let wake = self.wake
        timer = try WallTimer(offsetSeconds: offsetSeconds) { [weak self] event in
            if case .clockChanged = event { Task { await self?.noteClockChange() } }
            wake.signal()
        }
    }

    private func noteClockChange() { clockChanges += 1 }

    func run() async {
        while !Task.isCancelled {
            if wedged {
                // Test-only fault: the loop stops making progress, so the watchdog must starve.
                await wake.wait(timeout: nil)
                continue
            }
            loops += 1
            answerPings()
            let now = clock.now()
            let due = book.claimDue(now: now)
            for entry in due {
                guard let deadline = book.deadlines[entry.deadlineID] else { continue }
                switch await dispatcher.deliver(entry, deadline: deadline, now: now) {
                case .sent(let late): book.markSent(entry.notice.id, late: late)
                case .retry(let at): book.markFailed(entry.notice.id, retryAt: at)
                case .dead: book.markFailed(entry.notice.id, retryAt: nil)
                }
            }
            if !due.isEmpty { continue }
            if let timer {
                timer.arm(at: book.nextAttempt)
                await wake.wait(timeout: nil)
            } else {
                let timeout = book.nextAttempt.map { next -> Duration in
                    let seconds = max(next.timeIntervalSince(clock.now()), 0)
                    return .milliseconds(Int64((seconds * 1000).rounded(.up)))
                }
                await wake.wait(timeout: timeout)
            }
        }
        answerPings()
    }

    /// Completes once the loop has gone round: the watchdog's proof of life.
    func roundTrip() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                pings.append(continuation)
                wake.signal()
            }
        } onCancel: {
            Task { await self.answerPings() }
        }
    }

    /// Test-only fault switch: wedges the loop so the watchdog stops.
    func wedge() {
        wedged = true
        wake.signal()
    }

    private func answerPings() {
        let waiting = pings
        pings = []
        for ping in waiting { ping.resume() }
    }
}
