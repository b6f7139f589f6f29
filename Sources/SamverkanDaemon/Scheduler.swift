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
    /// Notices due within this long of the next due instant are prepared before it: rendered,
    /// and written ahead by the sinks that can (`PreparedNotice`). A burst due together then
    /// appears within milliseconds of its time instead of after every render and file sync.
    static let prepareLead: TimeInterval = 2
    /// `prepareLead`, or 0 to prepare nothing (tests compare with and without).
    private(set) var prepareLead = Scheduler.prepareLead
    /// Preparing needs a little time; a notice due sooner than this is delivered as it comes.
    static let prepareMinimum: TimeInterval = 0.2
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
    /// Notices prepared ahead of their time, by id, and how far ahead the store was looked at:
    /// every notice due before `preparedBefore` that was waiting then is in `prepared`.
    private var prepared: [String: PreparedNotice] = [:]
    private var preparedBefore: Date?
    /// Bumped whenever preparations become worthless (a reload, another lead): a preparation
    /// that was under way across such a change throws away what it made.
    private var preparationEpoch = 0
    /// How many claimed notices had been prepared, and how many went out in a sink's batch (tests).
    private(set) var claimedPrepared = 0
    private(set) var deliveredInBatches = 0
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
        // Rendered with the old config and staged by the old sinks.
        dropPreparations()
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

    /// Prepares notices this long ahead, or not at all (0).
    func usePrepareLead(_ seconds: TimeInterval) {
        prepareLead = max(0, seconds)
        dropPreparations()
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
        dropPreparations()
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
            let claimStart = ContinuousClock.now
            let due = try await store.claimDue(now: now, limit: Self.claimBatch)
            if !due.isEmpty {
                logger.debug(
                    "claimed \(due.count) due notices in \((ContinuousClock.now - claimStart).milliseconds), \(due.count { prepared[$0.notice.id] != nil }) of them prepared"
                )
                await deliver(due)
                return .again
            }
            // Whatever was prepared for a time now past was not claimed: cancelled, moved, done.
            discardPrepared { $0.expected.notice.nextAttempt <= now }
            let next = try await store.nextDue()
            // A preparation left over (its notice cancelled or moved) goes when its time comes.
            let leftover = prepared.values.map(\.expected.notice.nextAttempt).min()
            if let next, prepareLead > 0, preparedBefore.map({ next >= $0 }) ?? true {
                let lead = next.timeIntervalSince(now)
                if lead > prepareLead {
                    return .sleep(
                        until: [next.addingTimeInterval(-prepareLead), replanAt, leftover].compactMap { $0 }.min())
                }
                if lead >= Self.prepareMinimum {
                    try await prepare(from: next)
                    return .again
                }
            }
            return .sleep(until: [next, replanAt, leftover].compactMap { $0 }.min())
        } catch {
            logger.critical(
                "the store failed: \(error); the scheduler tries again in \(Self.storeRetry)",
                metadata: ["message_id": "\(JournalEvent.storeFailed.rawValue)"])
            return .storeFailed
        }
    }

    /// Prepares the notices due from `next` to `prepareLead` after it (at most `claimBatch`),
    /// many side by side. It stops starting new ones `prepareMinimum` before `next` (a slow disk
    /// must not hold up the notices it prepares: the rest go the usual way), and keeps nothing
    /// when a reload came meanwhile.
    private func prepare(from next: Date) async throws(StoreError) {
        let epoch = preparationEpoch
        let until = next.addingTimeInterval(prepareLead)
        let found = try await store.waiting(from: next, before: until, limit: Self.claimBatch)
        let waiting = found.filter { prepared[$0.notice.id] == nil }
        let dispatcher = self.dispatcher
        let clock = self.clock
        let stopAt = next.addingTimeInterval(-Self.prepareMinimum)
        let made = await withTaskGroup(of: PreparedNotice?.self) { group in
            var rest = waiting[...]
            var made: [PreparedNotice] = []
            func startNext(_ group: inout TaskGroup<PreparedNotice?>) {
                guard clock.now() < stopAt, let notice = rest.popFirst() else { return }
                group.addTask { await dispatcher.prepare(notice) }
            }
            for _ in 0..<Self.deliveryWindow { startNext(&group) }
            while let result = await group.next() {
                if let result { made.append(result) }
                startNext(&group)
            }
            return made
        }
        guard epoch == preparationEpoch else {
            for notice in made { notice.discard() }
            return
        }
        for notice in made { prepared[notice.expected.notice.id] = notice }
        // When the batch is full, the rest of its last instant is not prepared (nor looked for
        // again); notices not started in time, or added since, go the usual way.
        preparedBefore =
            found.count == Self.claimBatch
            ? Date(timeIntervalSince1970: found[found.count - 1].notice.nextAttempt.timeIntervalSince1970.nextUp)
            : until
        logger.debug(
            "prepared \(made.count) of \(waiting.count) notices due from \(dispatcher.zone.rfc3339(next)) for \(prepareLead) s"
        )
    }

    /// Every preparation thrown away, and one under way when this is called keeps nothing.
    private func dropPreparations() {
        preparationEpoch += 1
        discardPrepared { _ in true }
        preparedBefore = nil
    }

    private func discardPrepared(where stale: (PreparedNotice) -> Bool) {
        for (id, notice) in prepared where stale(notice) {
            notice.discard()
            prepared[id] = nil
        }
    }

    /// Delivers claimed notices, each sink taking as many at once as it can, and records each
    /// outcome in the store.
    private func deliver(_ claims: [ClaimedNotice]) async {
        let dispatcher = self.dispatcher
        var preparedHere: [String: PreparedNotice] = [:]
        for claim in claims {
            if let notice = prepared.removeValue(forKey: claim.notice.id) { preparedHere[claim.notice.id] = notice }
        }
        claimedPrepared += preparedHere.count
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
            for member in members { preparedHere.removeValue(forKey: member.notice.id)?.discard() }
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
        // Prepared notices whose only sink staged them go to it in one batch per sink: a burst due
        // together appears at once, with no task of its own per notice.
        var batches: [String: [(claim: ClaimedNotice, prepared: PreparedNotice)]] = [:]
        var separate: [ClaimedNotice] = []
        for claim in single {
            if let prepared = preparedHere[claim.notice.id],
                let sink = dispatcher.batchSink(for: claim, prepared: prepared, now: now)
            {
                preparedHere[claim.notice.id] = nil
                batches[sink, default: []].append((claim, prepared))
            } else {
                separate.append(claim)
            }
        }
        enum Progress: Sendable {
            case delivered(FinishedDelivery)
            /// A batch's outcomes, and the notices of it to deliver the usual way after all.
            case batch([FinishedDelivery], again: [(ClaimedNotice, DeliveryRecord)])
            case recorded
        }
        await withTaskGroup(of: Progress.self) { group in
            var waiting = separate[...]
            var running = 0
            // Failed attempts of batched notices, recorded with their delivery the usual way.
            var earlier: [String: DeliveryRecord] = [:]
            // Outcomes waiting for the commit under way; the loop ends only once it is empty.
            var finished: [FinishedDelivery] = []
            var recording = false
            func launch(_ group: inout TaskGroup<Progress>) {
                while running < Self.deliveryWindow, let claim = waiting.popFirst() {
                    running += 1
                    let prepared = preparedHere.removeValue(forKey: claim.notice.id)
                    let before = earlier.removeValue(forKey: claim.notice.id)
                    group.addTask {
                        let result = await Self.attempt(
                            claim, dispatcher: dispatcher, store: store, clock: clock, manual: false, prepared: prepared
                        )
                        return .delivered(
                            FinishedDelivery(
                                noticeID: claim.notice.id, attempts: (before.map { [$0] } ?? []) + result.attempts,
                                outcome: result.outcome))
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
            for (sink, batch) in batches {
                group.addTask {
                    var done: [FinishedDelivery] = []
                    var again: [(ClaimedNotice, DeliveryRecord)] = []
                    let results = await dispatcher.deliverStaged(batch, sink: sink, now: clock.now())
                    for (item, result) in zip(batch, results) {
                        switch result {
                        case .delivered(let result):
                            done.append(
                                FinishedDelivery(
                                    noticeID: item.claim.notice.id, attempts: result.attempts, outcome: result.outcome))
                        case .again(let attempt):
                            again.append((item.claim, attempt))
                        }
                    }
                    return .batch(done, again: again)
                }
            }
            launch(&group)
            while let progress = await group.next() {
                switch progress {
                case .delivered(let done):
                    running -= 1
                    launch(&group)
                    finished.append(done)
                case .batch(let done, let again):
                    deliveredInBatches += done.count
                    finished += done
                    for (claim, attempt) in again { earlier[claim.notice.id] = attempt }
                    waiting += again.map(\.0)
                    launch(&group)
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
        _ claim: ClaimedNotice, dispatcher: Dispatcher, store: any DeadlineStore, clock: any WallClock, manual: Bool,
        prepared: PreparedNotice? = nil
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
            claim, answered: answered, alreadyDelivered: alreadyDelivered, manual: manual, now: clock.now(),
            prepared: prepared)
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
