import Foundation
import Logging
import SamverkanConfig
import SamverkanCore
import SamverkanStore

/// Something that wakes the scheduler at a wall-clock instant: the timerfd in the daemon, a
/// hand-driven fake in unit tests.
protocol WakeTimer: Sendable {
    /// Arms the timer for `instant` of the daemon's clock; nil: nothing to wait for.
    func arm(at instant: Date?)
}

extension WallTimer: WakeTimer {}

/// Sleeps until the earliest waiting notice in the store, wakes early for new work, reloads,
/// watchdog pings, wall-clock changes and shutdown, and hands due notices to the dispatcher.
///
/// Every state change goes through the store and is committed before its side effect:
/// `claimDue` commits `sending` before a sink is called, so a crash at any moment leaves each
/// notice either waiting, `sending` (sent again at start, with the same id), or finished.
///
/// The loop runs on this actor; while it sleeps or delivers, the actor is free, so status
/// queries, completions and reloads never wait for it.
actor Scheduler {
    /// A notice the loop finds more than this long after its time was missed, not merely due: the
    /// machine was suspended or the clock jumped. It goes through catch-up (latest per deadline,
    /// marked late, in a report), like the notices missed while the daemon was down.
    static let missedGrace: TimeInterval = 300
    /// How many due notices one claim takes (one transaction, one fsync): a burst of notices due
    /// together is claimed at once, and all of a claim is handed to the sinks at once.
    static let claimBatch = 1024
    /// After a store error the loop tries again after this long (a full disk, a locked file).
    static let storeRetry: Duration = .seconds(5)

    /// What one look at the store decided.
    enum Step: Sendable, Equatable {
        /// Work was done; look again at once.
        case again
        /// Nothing is due; sleep until this instant (nil: until woken).
        case sleep(until: Date?)
        /// The store failed; wait `storeRetry` and try again.
        case storeFailed
    }

    private let clock: any WallClock
    private let store: any DeadlineStore
    private let logger: Logger
    private let wake = WakeSignal()
    /// Wakes the loop at the next due instant and when the wall clock is set; without one
    /// (unit tests), the loop sleeps with a monotonic timer instead.
    private var timer: (any WakeTimer)?
    private(set) var clockChanges = 0
    private var dispatcher: Dispatcher
    /// Notices to deliver before anything else: those a crash left in `sending`, and those
    /// missed while the daemon was down.
    private var startup: [ClaimedNotice] = []
    /// When the planning horizon is extended next (shortly after local midnight), and how.
    private var replanAt: Date?
    private var replan: (@Sendable () async -> Date?)?
    private var pings: [CheckedContinuation<Void, Never>] = []
    private var wedged = false
    private(set) var loops = 0
    /// Notices handed to sinks since start, for tests and `status`.
    private(set) var delivered = 0

    init(clock: any WallClock, store: any DeadlineStore, dispatcher: Dispatcher, logger: Logger) {
        self.clock = clock
        self.store = store
        self.dispatcher = dispatcher
        self.logger = logger
    }

    /// A new sink set after a reload.
    func use(_ dispatcher: Dispatcher) {
        self.dispatcher = dispatcher
        wake.signal()
    }

    /// The store changed (a reconcile, a completion, a case): the next due notice may be earlier.
    nonisolated func wakeUp() { wake.signal() }

    /// Logs (and sends to the operator's route) what was missed.
    func report(_ missed: CatchUpReport, cause: Dispatcher.MissedCause) async {
        await dispatcher.reportMissed(missed, cause: cause, now: clock.now())
    }

    /// Delivers these first when the loop starts (start-up recovery and catch-up).
    func deliverFirst(_ claims: [ClaimedNotice]) {
        startup += claims
        wake.signal()
    }

    /// Extends the planning horizon at `at` by calling `action`, which says when to do it next.
    func scheduleReplan(at: Date?, action: @escaping @Sendable () async -> Date?) {
        replanAt = at
        replan = action
        wake.signal()
    }

    /// Uses a timerfd for the wall clock: no polling, and an immediate wake when the clock is set.
    func useWallTimer(offsetSeconds: Double) throws {
        let wake = self.wake
        timer = try WallTimer(offsetSeconds: offsetSeconds) { [weak self] event in
            if case .clockChanged = event { Task { await self?.noteClockChange() } }
            wake.signal()
        }
    }

    /// Uses another timer (unit tests).
    func use(timer: any WakeTimer) { self.timer = timer }

    /// The wall clock was set: the loop looks again, and notices that fell due in the jump are
    /// caught up (`missedGrace`).
    func noteClockChange() {
        clockChanges += 1
        logger.notice("the wall clock was set; looking at the schedule again")
        wake.signal()
    }

    func run() async {
        while !Task.isCancelled {
            if wedged {
                // Test-only fault: the loop stops making progress, so the watchdog must starve.
                await wake.wait(timeout: nil)
                continue
            }
            answerPings()
            switch await step() {
            case .again:
                continue
            case .storeFailed:
                await wake.wait(timeout: Self.storeRetry)
            case .sleep(let until):
                if let timer {
                    timer.arm(at: until)
                    await wake.wait(timeout: nil)
                } else {
                    let timeout = until.map { next -> Duration in
                        let seconds = max(next.timeIntervalSince(clock.now()), 0)
                        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
                    }
                    await wake.wait(timeout: timeout)
                }
            }
        }
        answerPings()
    }

    /// One look at the store: recovery first, then the horizon, missed notices, due notices, and
    /// otherwise when to wake next. Unit tests drive the scheduler with this and an injected clock.
    func step() async -> Step {
        loops += 1
        let now = clock.now()
        do {
            if !startup.isEmpty {
                let claims = startup
                startup = []
                await deliver(claims)
                return .again
            }
            if let replanAt, now >= replanAt, let replan {
                self.replanAt = nil
                let next = await replan()
                if self.replanAt == nil { self.replanAt = next }
                return .again
            }
            let missed = try await store.catchUp(missedBefore: now.addingTimeInterval(-Self.missedGrace), now: now)
            if !missed.isEmpty {
                await dispatcher.reportMissed(missed, cause: .jump, now: now)
                await deliver(missed.toSend)
                return .again
            }
            let due = try await store.claimDue(now: now, limit: Self.claimBatch)
            if !due.isEmpty {
                await deliver(due)
                return .again
            }
            let next = try await store.nextDue()
            return .sleep(until: [next, replanAt].compactMap { $0 }.min())
        } catch {
            logger.critical(
                "the store failed: \(error); the scheduler tries again in \(Self.storeRetry)",
                metadata: ["message_id": "\(JournalEvent.storeFailed.rawValue)"])
            return .storeFailed
        }
    }

    /// Delivers claimed notices, each sink taking as many at once as it can, and records each
    /// outcome in the store.
    private func deliver(_ claims: [ClaimedNotice]) async {
        let dispatcher = self.dispatcher
        let store = self.store
        let clock = self.clock
        let logger = self.logger
        // Notices whose digest is now go out together, one message per recipient and route.
        let now = clock.now()
        var digests: [RouteConfig: [ClaimedNotice]] = [:]
        var single: [ClaimedNotice] = []
        for claim in claims {
            if let route = dispatcher.digestRoute(for: claim),
                dispatcher.digestDecision(claim, route: route, now: now) == .sendNow
            {
                digests[route, default: []].append(claim)
            } else {
                single.append(claim)
            }
        }
        for (route, members) in digests {
            let results = await dispatcher.deliverDigest(members, route: route, now: now)
            await Self.record(
                results.map {
                    FinishedDelivery(
                        noticeID: $0.key, attempts: $0.value.attempts, outcome: $0.value.outcome)
                },
                store: store, clock: clock, logger: logger)
        }
        // Up to `deliveryWindow` notices are under way at once, and each sink lets through as many
        // as it takes (`NoticeSink.concurrentDeliveries`, the dispatcher's gates): a burst to a
        // file sink is written side by side while a mail server still sees a few connections.
        //
        // Outcomes are committed as a group commit: one commit (one fsync of the store) at a
        // time, in a child task so that deliveries never wait for it, holding every outcome that
        // came in while the one before was being written. An outcome waits at most for one
        // commit, never for a slow delivery of another notice; until then the notice stays
        // `sending`, so a crash sends it again (same id).
        enum Progress: Sendable {
            case delivered(FinishedDelivery)
            case recorded
        }
        await withTaskGroup(of: Progress.self) { group in
            var waiting = single[...]
            var running = 0
            // Outcomes waiting for the commit under way; the loop ends only once it is empty.
            var finished: [FinishedDelivery] = []
            var recording = false
            func launch(_ group: inout TaskGroup<Progress>) {
                while running < Self.deliveryWindow, let claim = waiting.popFirst() {
                    running += 1
                    group.addTask {
                        let result = await Self.attempt(
                            claim, dispatcher: dispatcher, store: store, clock: clock, manual: false)
                        return .delivered(
                            FinishedDelivery(
                                noticeID: claim.notice.id, attempts: result.attempts, outcome: result.outcome))
                    }
                }
            }
            func commit(_ group: inout TaskGroup<Progress>) {
                guard !recording, !finished.isEmpty else { return }
                let batch = finished
                finished = []
                recording = true
                group.addTask {
                    await Self.record(batch, store: store, clock: clock, logger: logger)
                    return .recorded
                }
            }
            launch(&group)
            while let progress = await group.next() {
                switch progress {
                case .delivered(let done):
                    running -= 1
                    launch(&group)
                    finished.append(done)
                case .recorded:
                    recording = false
                }
                commit(&group)
                // A busy loop is alive: the watchdog is for a wedged one.
                answerPings()
            }
        }
        delivered += claims.count
    }

    /// At most this many deliveries are under way at once (each sink also has its own bound).
    /// Enough to keep the file sink's commits full; few enough that a notice is rendered just
    /// before it is written, not after every other notice of a burst.
    static let deliveryWindow = 64

    private static func record(
        _ finished: [FinishedDelivery], store: any DeadlineStore, clock: any WallClock, logger: Logger
    ) async {
        guard !finished.isEmpty else { return }
        do {
            // In a task of its own, which shutdown does not cancel: what went out is recorded
            // even when SIGTERM came while it was being delivered.
            let now = clock.now()
            try await Task { try await store.finishDeliveries(finished, at: now) }.value
        } catch {
            // The notices stay in `sending` and are sent again after a restart, with the same ids.
            logger.critical(
                "cannot record the delivery of \(finished.count) notices: \(error); they will be sent again at the next start",
                metadata: ["message_id": "\(JournalEvent.storeFailed.rawValue)"])
        }
    }

    /// One claimed notice rendered and handed to its sinks; the outcome is not recorded yet.
    private static func attempt(
        _ claim: ClaimedNotice, dispatcher: Dispatcher, store: any DeadlineStore, clock: any WallClock, manual: Bool
    ) async -> Dispatcher.Result {
        let id = claim.notice.id
        var answered: Set<String> = []
        if claim.notice.slot == "summary" || claim.notice.slot == "overdue",
            let detail = try? await store.deadline(id: claim.deadline.id)
        {
            answered = Set(detail.completions.compactMap(\.role))
        }
        var alreadyDelivered: Set<String> = []
        if claim.notice.attempts > 1 || manual {
            alreadyDelivered = Set(
                ((try? await store.deliveries(noticeID: id)) ?? []).filter { $0.outcome == .ok }.map(\.sink))
        }
        return await dispatcher.deliver(
            claim, answered: answered, alreadyDelivered: alreadyDelivered, manual: manual, now: clock.now())
    }

    /// One notice delivered and recorded at once (a retry asked for by hand).
    private static func deliver(
        _ claim: ClaimedNotice, dispatcher: Dispatcher, store: any DeadlineStore, clock: any WallClock,
        logger: Logger, manual: Bool
    ) async -> Dispatcher.Result {
        let result = await attempt(claim, dispatcher: dispatcher, store: store, clock: clock, manual: manual)
        await record(
            [
                FinishedDelivery(
                    noticeID: claim.notice.id, attempts: result.attempts, outcome: result.outcome)
            ],
            store: store, clock: clock, logger: logger)
        return result
    }

    /// A test notice through one sink (`samverkanctl test-sink`).
    func test(sink: String, to address: String?) async -> Dispatcher.Result {
        await dispatcher.test(sink: sink, to: address, now: clock.now())
    }

    /// A delivery asked for by hand (`samverkanctl retry`): once, now, with the fallback on failure.
    func deliverNow(_ claim: ClaimedNotice) async -> Dispatcher.Result {
        await Self.deliver(claim, dispatcher: dispatcher, store: store, clock: clock, logger: logger, manual: true)
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
