import Foundation
import Logging
import SamverkanConfig
import SamverkanControl
import SamverkanCore
import Systemd

/// The running daemon's config and its generations: loads, plans, reloads, and answers status.
actor Runtime {
    let options: DaemonOptions
    let clock: any WallClock
    let notifier: any ServiceNotifier
    let logger: Logger
    let scheduler: Scheduler
    let startedAt: Date
    let metrics = DeliveryMetrics()
    private(set) var config: LoadedConfig
    private(set) var generation = 1
    private(set) var loadedAt: Date
    private(set) var lastReloadError: String?

    /// How far ahead deadlines are planned, and how far back overdue ones are kept.
    static let horizonDays = 400
    static let lookbackDays = 60

    init(
        options: DaemonOptions, config: LoadedConfig, clock: any WallClock, notifier: any ServiceNotifier,
        logger: Logger
    ) throws(SinkSetupError) {
        self.options = options
        self.config = config
        self.clock = clock
        self.notifier = notifier
        self.logger = logger
        let now = clock.now()
        self.startedAt = now
        self.loadedAt = now
        let dispatcher = try Dispatcher(
            config: config, stateDirectory: options.stateDirectory, logger: logger, metrics: metrics, clock: clock)
        self.scheduler = Scheduler(clock: clock, dispatcher: dispatcher)
    }

    /// Plans the horizon and hands it to the scheduler.
    func start() async throws(CalendarError) {
        _ = await scheduler.install(plan: try plan(config), dispatcher: nil)
    }

    /// The deadlines of the rolling horizon. A date the calendar cannot place (outside
    /// 2005–2200) makes the whole plan fail: nothing is computed under the wrong law.
    func plan(_ config: LoadedConfig) throws(CalendarError) -> [Deadline] {
        let today = config.zone.today(clock.now())
        let planner = Planner(zone: config.zone, calendar: SwedishCalendar(closedDays: config.settings.closedDays))
        let recent = try planner.plan(
            config.agreements, from: today.adding(days: -Self.lookbackDays),
            through: today.adding(days: Self.horizonDays))
        // A renewal that was due long ago and never done is still something to act on (an ended
        // agreement with no successor): renewals are kept however old, other kinds for the lookback.
        let renewals = config.agreements.map { agreement in
            var only = agreement
            only.obligations = agreement.obligations.filter { $0.kind == .renewal }
            only.windows = []
            return only
        }
        let earliest = LocalDate(year: SwedishCalendar.supportedYears.lowerBound, month: 1, day: 1) ?? today
        let old = try planner.plan(renewals, from: earliest, through: today.adding(days: -Self.lookbackDays - 1))
        return (old + recent).sorted { ($0.due, $0.id) < ($1.due, $1.id) }
    }

    /// Reloads the config directory. An invalid config is refused and the running one stays.
    func reload(requestedBy who: String) async -> Result<ReloadView, ReloadFailure> {
        notifier.send(.reloading(status: "Reloading config (\(who))"))
        defer { Task { await self.notifyReady() } }
        let zoneToday = config.zone.today(clock.now())
        let newConfig: LoadedConfig
        let dispatcher: Dispatcher
        do {
            newConfig = try ConfigLoader().load(directory: options.configDirectory, today: zoneToday)
            dispatcher = try Dispatcher(
                config: newConfig, stateDirectory: options.stateDirectory, logger: logger, metrics: metrics,
                clock: clock)
        } catch let error as ConfigError {
            return refuse(ReloadFailure(message: "config is invalid", details: error.errors.map(\.description)))
        } catch {
            return refuse(ReloadFailure(message: "\(error)", details: ["\(error)"]))
        }
        let newPlan: [Deadline]
        do {
            newPlan = try plan(newConfig)
        } catch {
            return refuse(ReloadFailure(message: "cannot plan: \(error.message)", details: [error.message]))
        }
        let changed = newConfig.fingerprint != config.fingerprint
        let change = await scheduler.install(plan: newPlan, dispatcher: dispatcher)
        config = newConfig
        generation += 1
        loadedAt = clock.now()
        lastReloadError = nil
        metrics.reloaded(success: true)
        let summary = change.summary(zone: newConfig.zone)
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

    private func refuse(_ failure: ReloadFailure) -> Result<ReloadView, ReloadFailure> {
        metrics.reloaded(success: false)
        lastReloadError = ([failure.message] + failure.details).joined(separator: "\n")
        logger.error(
            "reload refused, generation \(generation) keeps running: \(failure.message)\n\(failure.details.joined(separator: "\n"))",
            metadata: ["message_id": "\(JournalEvent.reloadRefused.rawValue)"])
        return .failure(failure)
    }

    func notifyReady() async {
        notifier.send(.ready(status: await statusLine()))
    }

    /// The one-line STATUS= text systemctl shows.
    func statusLine() async -> String {
        let book = await scheduler.snapshot
        var line = "Generation \(generation): \(book.deadlines.count) deadlines planned"
        if let next = book.nextNotice {
            line += "; next notice \(config.zone.rfc3339(next.nextAttempt)) \(next.notice.id)"
        }
        if lastReloadError != nil { line += "; last reload refused" }
        return line
    }

    func status() async -> StatusView {
        let book = await scheduler.snapshot
        let zone = config.zone
        let now = clock.now()
        let next = book.ordered.first { $0.due >= now }
        let nextNotice = book.nextNotice.map {
            NoticeView(
                id: $0.notice.id, slot: $0.notice.slot, at: zone.rfc3339($0.nextAttempt), state: $0.state.rawValue)
        }
        return StatusView(
            version: SamverkanVersion.current, pid: getpid(), startedAt: zone.rfc3339(startedAt),
            uptimeSeconds: Int(now.timeIntervalSince(startedAt)),
            config: .init(
                directory: config.directory, generation: generation, loadedAt: zone.rfc3339(loadedAt),
                fingerprint: config.fingerprint, agreements: config.agreements.count, timezone: zone.identifier,
                warnings: config.warnings.count),
            deadlines: .init(
                planned: book.deadlines.count, pendingNotices: book.count(.pending), sentNotices: book.count(.sent),
                failedNotices: book.count(.failed) + book.count(.dead)),
            nextDue: next.map { view($0, book: book, now: now) }, nextNotice: nextNotice,
            lastReloadError: lastReloadError, status: await statusLine())
    }

    /// Deadlines due up to `within` from now, plus overdue ones, sorted by due.
    func deadlines(within seconds: Int, agreement: String?, kind: String?, limit: Int?) async -> [DeadlineView] {
        let book = await scheduler.snapshot
        let now = clock.now()
        let zone = config.zone
        let lastDay = zone.today(now.addingTimeInterval(TimeInterval(seconds)))
        var result: [DeadlineView] = []
        for deadline in book.ordered {
            let dueDay = zone.today(deadline.due)
            // Overdue deadlines (not done) stay listed for as long as the lookback keeps them.
            guard dueDay <= lastDay else { break }
            if let agreement, deadline.agreement != agreement { continue }
            if let kind, deadline.kind != kind { continue }
            result.append(view(deadline, book: book, now: now))
            if let limit, result.count >= limit { break }
        }
        return result
    }

    func deadline(id: String) async -> DeadlineView? {
        let book = await scheduler.snapshot
        guard let deadline = book.deadlines[id] else { return nil }
        return view(deadline, book: book, now: clock.now(), explain: true)
    }

    private func view(_ deadline: Deadline, book: ScheduleBook, now: Date, explain: Bool = false) -> DeadlineView {
        var states: [String: String] = [:]
        for notice in deadline.notices { states[notice.id] = book.state(ofNotice: notice.id)?.rawValue }
        return deadline.view(
            zone: config.zone, state: deadline.due < now ? "overdue" : "upcoming", noticeStates: states,
            explain: explain)
    }
}

/// Why a reload was refused.
struct ReloadFailure: Error, Sendable {
    var message: String
    var details: [String]
}

extension Runtime {
    /// `GET /metrics`: Prometheus text format.
    func prometheus() async -> String {
        let book = await scheduler.snapshot
        let now = clock.now()
        let counters = metrics.snapshot
        var out = PrometheusText()
        let overdue = book.ordered.filter { $0.due < now }.count
        out.family(
            "samverkan_deadlines", "gauge", "Planned deadlines by state.",
            [
                ([("state", "upcoming")], Double(book.ordered.count - overdue)),
                ([("state", "overdue")], Double(overdue)),
            ])
        let states: [ScheduleBook.NoticeState] = [.pending, .sending, .sent, .failed, .dead, .cancelled, .skipped]
        out.family(
            "samverkan_notices", "gauge", "Notices by state.",
            states.map { ([("state", $0.rawValue)], Double(book.count($0))) })
        let sinks = Set(config.settings.sinks.map(\.name)).union(counters.sent.keys).union(counters.failed.keys)
            .sorted()
        out.family(
            "samverkan_notices_sent_total", "counter", "Notices delivered, by sink.",
            sinks.map { ([("sink", $0)], Double(counters.sent[$0] ?? 0)) })
        out.family(
            "samverkan_notices_failed_total", "counter", "Failed delivery attempts, by sink.",
            sinks.map { ([("sink", $0)], Double(counters.failed[$0] ?? 0)) })
        out.histogram(
            "samverkan_delivery_duration_seconds", "Time to deliver one notice to one sink.", counters.latency,
            label: "sink")
        out.family(
            "samverkan_dead_letters", "gauge", "Notices given up after every retry.", [([], Double(book.count(.dead)))])
        out.family("samverkan_open_cases", "gauge", "Event-started windows (SMADIT cases) still open.", [([], 0)])
        let next = book.nextAttempt.map { max($0.timeIntervalSince(now), 0) }
        out.family(
            "samverkan_next_notice_seconds", "gauge", "Seconds until the next notice is due (absent when none is).",
            next.map { [([], $0)] } ?? [])
        out.family(
            "samverkan_config_generation", "gauge", "Generation of the running config.", [([], Double(generation))])
        out.family(
            "samverkan_config_last_reload_success", "gauge",
            "1 if the last reload succeeded (or none was tried), 0 if refused.",
            [([], lastReloadError == nil ? 1 : 0)])
        out.family(
            "samverkan_config_reloads_total", "counter", "Reloads, by outcome.",
            [
                ([("outcome", "applied")], Double(counters.reloads)),
                ([("outcome", "refused")], Double(counters.refusedReloads)),
            ])
        out.family(
            "samverkan_start_time_seconds", "gauge", "Start time of the daemon, seconds since the epoch.",
            [([], startedAt.timeIntervalSince1970.rounded(.down))])
        return out.text
    }

    /// `GET /v1/calendar.ics`: the planned deadlines from today on, with their reminders as alarms.
    func calendar() async -> String {
        let book = await scheduler.snapshot
        let now = clock.now()
        let zone = config.zone
        let titles = Dictionary(config.agreements.map { ($0.id, $0.title) }, uniquingKeysWith: { first, _ in first })
        let events = book.ordered.filter { $0.due >= now }.map { deadline in
            ICalendar.Event(
                uid: deadline.id, summary: deadline.title,
                description:
                    "\(titles[deadline.agreement] ?? deadline.agreement)\nId: \(deadline.id)\nMarkera som klar: samverkanctl done \(deadline.id)",
                start: deadline.due,
                alarms: deadline.notices.filter { $0.slot.hasPrefix("-") }.map {
                    ($0.at, "Påminnelse: \(deadline.title)")
                })
        }
        return ICalendar(zone: zone).render(events, now: now)
    }
}
