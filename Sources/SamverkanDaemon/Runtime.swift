import Foundation
import Logging
import SamverkanConfig
import SamverkanControl
import SamverkanCore
import SamverkanStore
import Systemd

/// The running daemon: its config and generations, the store, and the scheduler. Loads, plans
/// and reconciles (at start, on reload, and as the horizon rolls on), and answers the socket.
actor Runtime {
    let options: DaemonOptions
    let clock: any WallClock
    let notifier: any ServiceNotifier
    let logger: Logger
    let store: any DeadlineStore
    let scheduler: Scheduler
    let startedAt: Date
    let metrics = DeliveryMetrics()
    private(set) var config: LoadedConfig
    private(set) var generation = 0
    private(set) var loadedAt: Date
    private(set) var lastReloadError: String?
    /// The agreement files as last loaded: a reload parses only the files that changed.
    private var agreementFiles: AgreementFileCache
    /// Reconciles run one at a time, each with the config current when it starts: a horizon
    /// extension never applies an old config's plan after a reload's.
    /// `GET /v1/deadlines` answers kept while they cannot have changed.
    private var listings = ListingCache()
    private var reconciling = false
    /// Reloads whose plan was stored while their files were read (``loadForReload(recording:)``).
    private(set) var reloadsStoredWhileRead = 0
    private var waitingToReconcile: [CheckedContinuation<Void, Never>] = []

    /// How far ahead deadlines are planned, and how far back overdue ones are taken in on a
    /// first start.
    static let horizonDays = 400
    static let lookbackDays = 60

    init(
        options: DaemonOptions, config: LoadedConfig, agreementFiles: AgreementFileCache = AgreementFileCache(),
        store: any DeadlineStore, clock: any WallClock, notifier: any ServiceNotifier, logger: Logger
    ) throws(SinkSetupError) {
        self.options = options
        self.config = config
        self.agreementFiles = agreementFiles
        self.store = store
        self.clock = clock
        self.notifier = notifier
        self.logger = logger
        let now = clock.now()
        self.startedAt = now
        self.loadedAt = now
        let dispatcher = try Dispatcher(
            config: config, stateDirectory: options.stateDirectory, logger: logger, metrics: metrics, clock: clock)
        self.scheduler = Scheduler(clock: clock, store: store, dispatcher: dispatcher, logger: logger)
    }

    /// The start-up order of `DeadlineStore`: notices a crash left in `sending` are taken back,
    /// the plan is reconciled (skipped when config and horizon are unchanged), notices missed
    /// while the daemon was down are caught up and reported, and the scheduler gets them first.
    /// READY=1 waits for this; a long reconcile asks systemd for more time.
    func start() async throws(StartError) {
        let now = clock.now()
        do {
            let recovered = try await store.recoverSending(now: now)
            if !recovered.isEmpty {
                logger.notice(
                    "\(recovered.count) notices were being sent when samverkand stopped; sending them again with the same ids"
                )
            }
            let report = try await reconcile(config, requestedBy: "start", skipIfUnchanged: true)
            generation = try await store.recordGeneration(
                fingerprint: config.fingerprint, requestedBy: "start", at: now)
            if let report { logger.notice("plan reconciled at start: \(report.summary(zone: config.zone))") }
            let missed = try await store.catchUp(now: now)
            if !missed.isEmpty { await scheduler.report(missed, cause: .downtime) }
            await scheduler.deliverFirst(recovered + missed.toSend)
        } catch let error as StoreError {
            throw .store(error)
        } catch let error as CalendarError {
            throw .plan(error)
        } catch {
            throw .store(StoreError(.database, "\(error)"))
        }
        await scheduler.scheduleReplan(at: nextReplan(after: now)) { [weak self] in
            await self?.extendHorizon()
        }
    }

    enum StartError: Error, CustomStringConvertible {
        case store(StoreError)
        case plan(CalendarError)

        var description: String {
            switch self {
            case .store(let error): error.message
            case .plan(let error): "cannot plan: \(error.message)"
            }
        }
    }

    /// The window of instants a plan covers, from the lookback to the horizon.
    func window(_ config: LoadedConfig, now: Date) -> PlanWindow {
        let today = config.zone.today(now)
        return PlanWindow(
            from: today.adding(days: -Self.lookbackDays), through: today.adding(days: Self.horizonDays),
            zone: config.zone)
    }

    /// Shortly after the next local midnight: when the horizon moves on by a day.
    func nextReplan(after now: Date) -> Date {
        let tomorrow = config.zone.today(now).adding(days: 1)
        return config.zone.instant(LocalDateTime(date: tomorrow, time: LocalTime(hour: 0, minute: 5) ?? .nine))
    }

    /// The deadlines of the rolling horizon, of every agreement or of those in `scope`. A date the
    /// calendar cannot place (outside 2005–2200) makes the whole plan fail: nothing is computed
    /// under the wrong law.
    func plan(_ config: LoadedConfig, scope: ReconcileScope, now: Date) throws(CalendarError) -> [Deadline] {
        let agreements: [Agreement]
        switch scope {
        case .all: agreements = config.agreements
        case .agreements(let ids): agreements = config.agreements.filter { ids.contains($0.id) }
        }
        return try Self.plan(
            agreements,
            planner: Planner(zone: config.zone, calendar: SwedishCalendar(closedDays: config.settings.closedDays)),
            today: config.zone.today(now))
    }

    /// ``plan(_:scope:now:)`` of some agreements, with `planner`, around `today` (in its zone).
    static func plan(_ agreements: [Agreement], planner: Planner, today: LocalDate) throws(CalendarError)
        -> [Deadline]
    {
        let recent = try planner.plan(
            agreements, from: today.adding(days: -Self.lookbackDays), through: today.adding(days: Self.horizonDays))
        // A renewal that was due long ago and never done is still something to act on (an ended
        // agreement with no successor): renewals are kept however old, other kinds for the lookback.
        let renewals = agreements.map { agreement in
            var only = agreement
            only.obligations = agreement.obligations.filter { $0.kind == .renewal }
            only.windows = []
            return only
        }
        let earliest = LocalDate(year: SwedishCalendar.supportedYears.lowerBound, month: 1, day: 1) ?? today
        let old = try planner.plan(renewals, from: earliest, through: today.adding(days: -Self.lookbackDays - 1))
        return old + recent
    }

    /// Plans `config` and reconciles the store with it, one reconcile at a time. With
    /// `skipIfUnchanged`, nothing is done (nil) when the store already holds this config's plan
    /// for the same window. With `replacing` (a reload: the config running until now), only the
    /// agreements that changed are planned and reconciled when the store holds the running
    /// config's plan for the same window and the zone and closed days are the same: the other
    /// agreements' deadlines would plan as they are stored (``ReconcileScope``).
    private func reconcile(
        _ config: LoadedConfig, requestedBy: String, skipIfUnchanged: Bool, replacing running: LoadedConfig? = nil,
        recording: ReconcileRecording? = nil
    ) async throws -> ReconcileReport? {
        await acquireReconcile()
        defer { releaseReconcile() }
        return try await reconcileInTurn(
            config, skipIfUnchanged: skipIfUnchanged, replacing: running, recording: recording)
    }

    /// ``reconcile(_:requestedBy:skipIfUnchanged:replacing:recording:)`` when it is the caller's
    /// turn to reconcile (``acquireReconcile()``).
    private func reconcileInTurn(
        _ config: LoadedConfig, skipIfUnchanged: Bool, replacing running: LoadedConfig? = nil,
        recording: ReconcileRecording? = nil
    ) async throws -> ReconcileReport? {
        let now = clock.now()
        let window = window(config, now: now)
        let stamp = try await store.lastReconcile()
        if skipIfUnchanged, let stamp, stamp.fingerprint == config.fingerprint, stamp.window == window {
            logger.info("plan unchanged since the last reconcile (\(config.zone.rfc3339(stamp.at))); not reconciling")
            return nil
        }
        var scope = ReconcileScope.all
        if let running, let stamp, stamp.fingerprint == running.fingerprint, stamp.window == window,
            let changed = config.agreementsChanged(since: running)
        {
            scope = .agreements(changed)
        }
        // systemd waits TimeoutStartSec= for READY=1 (and for a reload); a large plan may take
        // longer, so planning and every few thousand deadlines reconciled ask for 30 s more.
        // (No timer: a cancelled one would still wake an event loop once.)
        notifier.send(.extendTimeout(seconds: 30))
        // The same `now` as the window's: around midnight, plan and window agree on the day.
        let stopwatch = ContinuousClock()
        let planStart = stopwatch.now
        let deadlines = try plan(config, scope: scope, now: now)
        notifier.send(.extendTimeout(seconds: 30))
        let storeStart = stopwatch.now
        let report = try await store.reconcile(
            plan: deadlines, window: window, now: now, fingerprint: config.fingerprint, scope: scope,
            progress: { [notifier] _ in notifier.send(.extendTimeout(seconds: 30)) }, recording: recording)
        let what =
            if case .agreements(let changed) = scope { "the \(changed.count) agreements that changed" } else {
                "every agreement"
            }
        logger.debug(
            "reconciled \(what): \(deadlines.count) deadlines planned in \((storeStart - planStart).milliseconds), stored in \((stopwatch.now - storeStart).milliseconds)"
        )
        scheduler.wakeUp()
        return report
    }

    private func acquireReconcile() async {
        while reconciling { await withCheckedContinuation { waitingToReconcile.append($0) } }
        reconciling = true
    }

    private func releaseReconcile() {
        reconciling = false
        if !waitingToReconcile.isEmpty { waitingToReconcile.removeFirst().resume() }
    }

    /// Moves the horizon on by a day (called by the scheduler after local midnight); returns when
    /// to do it next.
    func extendHorizon() async -> Date {
        // The config of the moment the turn comes: a reload queued before it has replaced it.
        await acquireReconcile()
        defer { releaseReconcile() }
        do {
            if let report = try await reconcileInTurn(config, skipIfUnchanged: true), !report.isEmpty {
                logger.info("planning horizon moved on: \(report.summary(zone: config.zone))")
            }
        } catch {
            logger.error(
                "cannot extend the planning horizon: \(error); trying again in an hour",
                metadata: ["message_id": "\(JournalEvent.storeFailed.rawValue)"])
            return clock.now().addingTimeInterval(3600)
        }
        return nextReplan(after: clock.now())
    }

    /// Reloads the config directory. An invalid config is refused and the running one stays.
    /// `auditBy` (a request through the socket) is written to the audit trail: with the new plan
    /// and its generation, in one transaction, or on its own when the reload is refused.
    func reload(requestedBy who: String, auditBy: Requester? = nil) async -> Result<ReloadView, ReloadFailure> {
        let auditRecord = auditBy.map { AuditRecord(at: clock.now(), by: $0, action: "reload") }
        // A refused reload is audited on its own.
        func refuseAudited(_ failure: ReloadFailure) async -> Result<ReloadView, ReloadFailure> {
            if let auditBy { await audit(action: "reload", target: nil, detail: nil, by: auditBy) }
            return refuse(failure)
        }
        notifier.send(.reloading(status: "Reloading config (\(who))"))
        defer { Task { await self.notifyReady() } }
        let stopwatch = ContinuousClock()
        let loadStart = stopwatch.now
        await acquireReconcile()
        defer { releaseReconcile() }
        // The generation (and the request's audit row) in the reconcile's own transaction.
        let recording = ReconcileRecording(requestedBy: who, at: clock.now(), audit: auditRecord)
        let newConfig: LoadedConfig
        let dispatcher: Dispatcher
        let newGeneration: Int
        var report: ReconcileReport?
        do {
            (newConfig, dispatcher, report) = try await loadForReload(recording: recording)
            if report == nil {
                report = try await reconcileInTurn(
                    newConfig, skipIfUnchanged: false, replacing: config, recording: recording)
            }
            if let recorded = report?.generation {
                newGeneration = recorded
            } else {
                newGeneration = try await store.recordGeneration(
                    fingerprint: newConfig.fingerprint, requestedBy: who, at: clock.now())
            }
            logger.debug("the reload took \((stopwatch.now - loadStart).milliseconds)")
        } catch let error as ConfigError {
            return await refuseAudited(
                ReloadFailure(message: "config is invalid", details: error.errors.map(\.description)))
        } catch let error as CalendarError {
            return await refuseAudited(
                ReloadFailure(message: "cannot plan: \(error.message)", details: [error.message]))
        } catch let error as StoreError {
            return await refuseAudited(
                ReloadFailure(message: "cannot store the new plan: \(error)", details: ["\(error)"]))
        } catch {
            return await refuseAudited(ReloadFailure(message: "\(error)", details: ["\(error)"]))
        }
        let changed = newConfig.fingerprint != config.fingerprint
        await scheduler.use(dispatcher)
        // The generation and the config change together, with no suspension between: an answer
        // kept under a generation (ListingCache) is always one of that generation's config.
        config = newConfig
        generation = newGeneration
        loadedAt = clock.now()
        lastReloadError = nil
        metrics.reloaded(success: true)
        var summary = report?.summary(zone: newConfig.zone) ?? "no change"
        if changed, report?.isEmpty ?? true {
            summary = "no change in deadlines (the config changed: sinks, routes, templates or wording)"
        }
        logger.notice(
            "config reloaded (\(who)): generation \(generation), \(summary)",
            metadata: [
                "message_id": "\(JournalEvent.reloaded.rawValue)", "samverkan_generation": "\(generation)",
                "samverkan_config_fingerprint": "\(newConfig.fingerprint)",
            ])
        for warning in newConfig.warnings { logger.warning("\(warning)") }
        return .success(
            ReloadView(
                generation: generation, changed: changed, summary: summary,
                warnings: newConfig.warnings.map(\.description)))
    }

    /// What a plan derived from one agreement file while a reload reads the others.
    private enum AgreementPlan: Sendable {
        /// The agreement is the running config's: its deadlines are stored as they plan.
        case unchanged
        case planned(PreparedPlan)
        case failed(CalendarError)
        /// The file was read under another zone or other closed days than the running config's:
        /// every deadline may differ, so the plan is reconciled as a whole.
        case otherBasis
    }

    /// A reload's config and its dispatcher, with the plan already stored (the reconcile's
    /// `report`) when that could be done while the files were read; otherwise (nil) the caller
    /// reconciles. Throws when the config is invalid, cannot be planned, or cannot be
    /// stored; the store is then as it was.
    ///
    /// When the store holds the running config's plan for the current window (after every start
    /// and reload, unless a reconcile failed), a reload changes only the agreements whose files
    /// changed, added or removed (``ReconcileScope``). Each such agreement is planned on the
    /// thread that read its file, and handed to the store in file order while later files are
    /// still being read: storing overlaps reading and planning, in one transaction that commits
    /// only once the whole config has been read and found valid, and its dispatcher made.
    private func loadForReload(recording: ReconcileRecording) async throws -> (
        config: LoadedConfig, dispatcher: Dispatcher, report: ReconcileReport?
    ) {
        let now = clock.now()
        let running = config
        let today = running.zone.today(now)
        let window = window(running, now: now)
        let stamp = try await store.lastReconcile()
        let stopwatch = ContinuousClock()
        let start = stopwatch.now
        guard let stamp, stamp.fingerprint == running.fingerprint, stamp.window == window else {
            let loaded = try ConfigLoader().load(
                directory: options.configDirectory, today: { _ in today }, cache: &agreementFiles)
            logger.debug("config read in \((stopwatch.now - start).milliseconds)")
            return (loaded, try dispatcher(for: loaded), nil)
        }

        notifier.send(.extendTimeout(seconds: 30))
        let feed = ReconcileFeed()
        let storing = store.startReconcile(
            feed: feed, window: window, now: now,
            progress: { [notifier] _ in notifier.send(.extendTimeout(seconds: 30)) }, recording: recording)
        // The store's writer waits for the feed's end: whatever way this returns or throws, the
        // feed ends (abandoning after `finish` changes nothing).
        defer { feed.abandon() }
        // Rolls the transaction back and waits until it has been.
        func rollBack() async {
            feed.abandon()
            _ = try? await storing.report()
        }
        let known = Dictionary(running.agreements.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let zone = running.zone.identifier
        let closedDays = running.settings.closedDays
        // Each agreement on the thread that read it: one thread apiece.
        let planner = Planner(zone: running.zone, calendar: SwedishCalendar(closedDays: closedDays), threads: 1)
        var otherBasis = false
        var failure: CalendarError?
        var sent = 0
        let loaded: LoadedConfig
        let dispatcher: Dispatcher
        do {
            loaded = try ConfigLoader().load(
                directory: options.configDirectory, today: { _ in today }, cache: &agreementFiles,
                deriving: { agreement, context -> AgreementPlan in
                    guard context.zone.identifier == zone, context.settings.closedDays == closedDays else {
                        return .otherBasis
                    }
                    if known[agreement.id] == agreement { return .unchanged }
                    do throws(CalendarError) {
                        return .planned(
                            PreparedPlan(preparing: try Self.plan([agreement], planner: planner, today: today)))
                    } catch {
                        return .failed(error)
                    }
                },
                handingOver: { agreement, plan in
                    switch plan {
                    case .unchanged: break
                    case .planned(let deadlines):
                        feed.send(agreement: agreement.id, plan: deadlines)
                        sent += 1
                    case .failed(let error): failure = failure ?? error
                    case .otherBasis: otherBasis = true
                    }
                })
            // The agreements gone from the config: their deadlines are cancelled.
            let ids = Set(loaded.agreements.map(\.id))
            for id in known.keys.sorted() where !ids.contains(id) {
                feed.send(agreement: id, plan: PreparedPlan(preparing: []))
                sent += 1
            }
            // The zone and closed days as read, also when no agreement was (all removed, say).
            if loaded.zone.identifier != zone || loaded.settings.closedDays != closedDays { otherBasis = true }
            if let failure, !otherBasis { throw failure }
            dispatcher = try self.dispatcher(for: loaded)
        } catch {
            await rollBack()
            throw error
        }
        let read = stopwatch.now
        guard !otherBasis else {
            await rollBack()
            logger.debug("config read in \((read - start).milliseconds); the zone or closed days changed")
            return (loaded, dispatcher, nil)
        }
        feed.finish(fingerprint: loaded.fingerprint)
        let report = try await storing.report()
        logger.debug(
            "config read in \((read - start).milliseconds), the \(sent) agreements that changed planned and stored meanwhile; committed \((stopwatch.now - read).milliseconds) later"
        )
        reloadsStoredWhileRead += 1
        scheduler.wakeUp()
        return (loaded, dispatcher, report)
    }

    private func dispatcher(for config: LoadedConfig) throws -> Dispatcher {
        try Dispatcher(
            config: config, stateDirectory: options.stateDirectory, logger: logger, metrics: metrics, clock: clock)
    }

    private func refuse(_ failure: ReloadFailure) -> Result<ReloadView, ReloadFailure> {
        metrics.reloaded(success: false)
        lastReloadError = ([failure.message] + failure.details).joined(separator: "\n")
        logger.error(
            "reload refused, generation \(generation) keeps running: \(failure.message)\n\(failure.details.joined(separator: "\n"))",
            metadata: ["message_id": "\(JournalEvent.reloadRefused.rawValue)"])
        return .failure(failure)
    }

    /// The journal entry of READY=1.
    func readyMessage() async -> (String, Logger.Metadata) {
        let planned = (try? await store.counts().deadlines[.planned]) ?? 0
        return (
            "samverkand \(SamverkanVersion.current) ready: config \(config.directory), generation \(generation), \(planned) deadlines planned",
            [
                "message_id": "\(JournalEvent.started.rawValue)", "samverkan_generation": "\(generation)",
                "samverkan_config_fingerprint": "\(config.fingerprint)",
            ]
        )
    }

    func notifyReady() async {
        notifier.send(.ready(status: await statusLine()))
    }

    /// The one-line STATUS= text systemctl shows.
    func statusLine() async -> String {
        statusLine(counts: try? await store.counts(), next: (try? await store.nextNotice()) ?? nil)
    }

    private func statusLine(counts: StoreCounts?, next: ClaimedNotice?) -> String {
        var line = "Generation \(generation)"
        if let counts {
            line += ": \(counts.deadlines[.planned] ?? 0) deadlines planned"
            if counts.deadLetters > 0 { line += ", \(counts.deadLetters) undelivered" }
        }
        if let next {
            line += "; next notice \(config.zone.rfc3339(next.notice.nextAttempt)) \(next.notice.id)"
        }
        if lastReloadError != nil { line += "; last reload refused" }
        return line
    }

    func status() async throws(StoreError) -> StatusView {
        let zone = config.zone
        let now = clock.now()
        let counts = try await store.counts()
        let next = try await store.nextDeadline(dueFrom: now)
        let nextClaim = try await store.nextNotice()
        let nextNotice = nextClaim.map {
            NoticeView(
                id: $0.notice.id, slot: $0.notice.slot, at: zone.rfc3339($0.notice.nextAttempt),
                state: $0.notice.state.rawValue)
        }
        return StatusView(
            version: SamverkanVersion.current, pid: getpid(), startedAt: zone.rfc3339(startedAt),
            uptimeSeconds: Int(now.timeIntervalSince(startedAt)),
            config: .init(
                directory: config.directory, generation: generation, loadedAt: zone.rfc3339(loadedAt),
                fingerprint: config.fingerprint, agreements: config.agreements.count, timezone: zone.identifier,
                warnings: config.warnings.count),
            deadlines: .init(
                planned: counts.deadlines[.planned] ?? 0, done: counts.deadlines[.done] ?? 0,
                pendingNotices: counts.notices[.pending] ?? 0, sentNotices: counts.notices[.sent] ?? 0,
                failedNotices: counts.notices[.failed] ?? 0, deadLetters: counts.deadLetters),
            nextDue: next.map { $0.deadline.view(zone: zone, notices: $0.notices, now: now) },
            nextNotice: nextNotice, lastReloadError: lastReloadError,
            status: statusLine(counts: counts, next: nextClaim))
    }

    /// Deadlines due from today up to `within` from now, plus overdue ones not done, sorted by
    /// due, as the JSON `GET /v1/deadlines` answers (kept with the listing while it holds).
    func deadlinesJSON(
        within seconds: Int, agreement: String?, kind: String?, states: Set<DeadlineState>, shown: Set<String>?,
        limit: Int?
    ) async throws(StoreError) -> [UInt8] {
        let now = clock.now()
        let zone = config.zone
        let today = zone.today(now)
        let lastDay = zone.today(now.addingTimeInterval(TimeInterval(seconds)))
        // Read before the store is: a write during the read makes the kept answer stale at once.
        let version = store.contentVersion
        let generation = self.generation
        let key =
            shown == nil
            ? ListingCache.Key(within: seconds, agreement: agreement, kind: kind, states: states, limit: limit) : nil
        if let key,
            let kept = listings.body(
                key, storeVersion: version, generation: generation, firstDay: today, lastDay: lastDay, now: now)
        {
            return kept
        }
        let midnight = LocalTime(hour: 0, minute: 0) ?? .nine
        let from = zone.instant(LocalDateTime(date: today, time: midnight))
        let through = zone.instant(LocalDateTime(date: lastDay.adding(days: 1), time: midnight))
            .addingTimeInterval(-0.001)
        var query = DeadlineQuery(
            dueFrom: from, dueThrough: through, includeOverdue: states.contains(.planned), agreement: agreement,
            kind: kind, states: states, limit: shown == nil ? limit : nil)
        // One side of `planned` alone: that side's range in SQL, with the limit, rather than every
        // planned deadline (thousands overdue, in a large store) filtered here.
        if states == [.planned], let shown, shown.count == 1 {
            if shown.contains("upcoming") {
                query.dueFrom = max(from, now)
                query.includeOverdue = false
                query.limit = limit
            } else if shown.contains("overdue") {
                query.dueThrough = min(through, now.addingTimeInterval(-0.001))
                query.limit = limit
            }
        }
        let listed = try await store.deadlines(query)
        var views = listed.map { $0.deadline.view(zone: zone, notices: $0.notices, now: now) }
        // `upcoming` and `overdue` are the two sides of `planned`, told apart by the time now.
        if let shown { views = Array(views.filter { shown.contains($0.state) }.prefix(limit ?? Int.max)) }
        let body = DeadlineView.listingJSON(views).map { $0 + [0x0A] } ?? ControlResponse.json(views)
        // Kept unless a reload came in while the store was read.
        if let key, generation == self.generation {
            let stable = listed.lazy.map(\.deadline).filter { $0.state == .planned && $0.due >= now }.map(\.due).min()
            listings.keep(
                ListingCache.Entry(
                    storeVersion: version, generation: generation, firstDay: today, lastDay: lastDay, readAt: now,
                    stableThrough: stable ?? .distantFuture, body: body),
                for: key)
        }
        return body
    }

    func deadline(id: String) async throws(StoreError) -> DeadlineView? {
        guard let detail = try await store.deadline(id: id) else { return nil }
        let zone = config.zone
        var view = detail.deadline.view(zone: zone, notices: detail.notices, now: clock.now(), explain: true)
        view.deliveries = detail.deliveries.map {
            DeliveryView(
                notice: $0.noticeID, sink: $0.sink, at: zone.rfc3339($0.at), outcome: $0.outcome.rawValue,
                error: $0.error)
        }
        view.completions = detail.completions.map {
            CompletionView(role: $0.role, at: zone.rfc3339($0.at), uid: $0.by.uid, note: $0.note)
        }
        return view
    }

    /// `POST /v1/deadlines/{id}/complete`: marks it (or one respondent's part) done; the
    /// scheduler looks again, since notices were cancelled.
    func complete(id: String, role: String?, note: String?, by: Requester) async throws(StoreError)
        -> CompletionResultView
    {
        let now = clock.now()
        // A case is done when it is closed with its outcome, which `done` would not record.
        let stored = try await store.deadline(id: id)
        if let stored, stored.deadline.origin == .case {
            let reference = id.split(separator: "/").last.map(String.init) ?? id
            throw StoreError(
                .conflict,
                "\(id) is case \(reference): close it with its outcome, `samverkanctl case close \(reference) contacted|unreachable|declined`"
            )
        }
        let result = try await store.complete(
            deadlineID: id, role: role, by: by, note: note, at: now,
            audit: AuditRecord(at: now, by: by, action: "complete", target: id, detail: role.map { "role \($0)" }))
        scheduler.wakeUp()
        // Completing a deadline does not move it.
        let due = stored?.deadline.due ?? now
        return CompletionResultView(
            id: result.deadlineID, role: result.role,
            state: result.isDone ? "done" : due < now ? "overdue" : "upcoming",
            alreadyRecorded: result.alreadyRecorded, cancelledNotices: result.cancelledNotices,
            answered: result.answered, waitingFor: result.isDone ? [] : result.waitingFor)
    }

    /// Dead letters, oldest first, each with its last failed attempt.
    func undelivered() async throws -> [UndeliveredView] {
        let zone = config.zone
        let now = clock.now()
        var views: [UndeliveredView] = []
        for claim in try await store.undelivered() {
            let last = try await store.deliveries(noticeID: claim.notice.id).last { $0.outcome != .ok }
            views.append(
                UndeliveredView(
                    notice: NoticeView(
                        id: claim.notice.id, slot: claim.notice.slot, at: zone.rfc3339(claim.notice.at),
                        state: claim.notice.state.rawValue),
                    deadline: claim.deadline.view(zone: zone, notices: [claim.notice], now: now),
                    attempts: claim.notice.attempts, lastSink: last?.sink, lastError: last?.error,
                    lastAttemptAt: last.map { zone.rfc3339($0.at) }))
        }
        return views
    }

    /// `samverkanctl retry ID`: one delivery now, to the sinks that have not taken it (then the
    /// fallback); answers with what happened.
    func retry(noticeID: String) async throws -> RetryResultView {
        let claim = try await store.claimForRetry(noticeID, now: clock.now())
        let result = await scheduler.deliverNow(claim)
        let outcome: String
        switch result.outcome {
        case .sent: outcome = "sent"
        case .retry, .deferred: outcome = "failed"
        case .dead: outcome = "dead"
        }
        let zone = config.zone
        return RetryResultView(
            id: noticeID, state: outcome,
            attempts: result.attempts.map {
                DeliveryView(
                    notice: $0.noticeID, sink: $0.sink, at: zone.rfc3339($0.at), outcome: $0.outcome.rawValue,
                    error: $0.error)
            })
    }

    /// Appends to the store's audit trail; a failure is logged, never fatal to the request.
    func audit(action: String, target: String?, detail: String?, by: Requester) async {
        do {
            try await store.appendAudit(
                AuditRecord(at: clock.now(), by: by, action: action, target: target, detail: detail))
        } catch {
            logger.error("cannot append to the audit trail: \(error)")
        }
    }

    /// A consistent copy of the store, as bytes (`samverkanctl backup`).
    func backup() async throws(StoreError) -> [UInt8] {
        let path = (options.stateDirectory as NSString).appendingPathComponent(
            "backup-\(getpid())-\(UInt64(clock.now().timeIntervalSince1970 * 1000)).sqlite")
        try await store.backup(to: path)
        defer { unlink(path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(.backupFailed, "cannot read the backup copy \(path)")
        }
        return Array(data)
    }
}

/// Why a reload was refused.
struct ReloadFailure: Error, Sendable {
    var message: String
    var details: [String]
}
