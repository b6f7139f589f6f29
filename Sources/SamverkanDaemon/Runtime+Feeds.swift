import Foundation
import SamverkanConfig
import SamverkanControl
import SamverkanCore
import SamverkanStore

extension Runtime {
    /// `GET /metrics`: Prometheus text format, gauges read from the store when scraped.
    func prometheus() async throws(StoreError) -> String {
        let now = clock.now()
        let counters = metrics.snapshot
        let counts = try await store.counts()
        let overdue = try await store.overdueCount(now: now)
        let planned = counts.deadlines[.planned] ?? 0
        var out = PrometheusText()
        out.family(
            "samverkan_deadlines", "gauge", "Deadlines by state.",
            [
                ([("state", "upcoming")], Double(planned - overdue)),
                ([("state", "overdue")], Double(overdue)),
                ([("state", "done")], Double(counts.deadlines[.done] ?? 0)),
                ([("state", "cancelled")], Double(counts.deadlines[.cancelled] ?? 0)),
            ])
        out.family(
            "samverkan_notices", "gauge", "Notices by state.",
            NoticeState.allCases.map { ([("state", $0.rawValue)], Double(counts.notices[$0] ?? 0)) })
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
            "samverkan_dead_letters", "gauge", "Notices given up after every retry.", [([], Double(counts.deadLetters))]
        )
        let openCases = counts.openCases
        out.family(
            "samverkan_open_cases", "gauge", "Event-started windows (SMADIT cases) still open.",
            [([], Double(openCases))])
        let next = try await store.nextDue().map { max($0.timeIntervalSince(now), 0) }
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

    /// `GET /v1/calendar.ics`: the deadlines not yet done from today on, with their reminders as
    /// alarms.
    func calendar() async throws(StoreError) -> String {
        let now = clock.now()
        let zone = config.zone
        let titles = Dictionary(config.agreements.map { ($0.id, $0.title) }, uniquingKeysWith: { first, _ in first })
        let listings = try await store.deadlines(DeadlineQuery(dueFrom: now, states: [.planned]))
        let events = listings.map { listing in
            let deadline = listing.deadline
            return ICalendar.Event(
                uid: deadline.id, summary: deadline.title,
                description:
                    "\(titles[deadline.agreement] ?? deadline.agreement)\nId: \(deadline.id)\n"
                    + (deadline.origin == .case
                        ? "Stäng ärendet: samverkanctl case close \(deadline.id.split(separator: "/").last ?? "") contacted|unreachable|declined"
                        : "Markera som klar: samverkanctl done \(deadline.id)"),
                start: deadline.due,
                // A round's reminders go to each respondent at the same time: one alarm per time.
                alarms: Set(
                    listing.notices.filter { $0.slot.hasPrefix("-") && NoticeState.waiting.contains($0.state) }.map(
                        \.at)
                ).sorted().map {
                    ($0, "Påminnelse: \(deadline.title)")
                })
        }
        return ICalendar(zone: zone).render(events, now: now)
    }
}

extension Runtime {
    /// `GET /v1/agreements` (at most five next deadlines each) and `GET /v1/agreements/{id}`
    /// (`limit` nil: every deadline not yet done).
    func agreements(only id: String? = nil, limit: Int? = 5) async throws(StoreError) -> [AgreementView] {
        let zone = config.zone
        let now = clock.now()
        let today = zone.today(now)
        var views: [AgreementView] = []
        for agreement in config.agreements where id == nil || agreement.id == id {
            let listings = try await store.deadlines(
                DeadlineQuery(
                    dueFrom: now, includeOverdue: true, agreement: agreement.id, states: [.planned], limit: limit))
            let state: String
            if let until = agreement.valid.until, until.date < today {
                state = "ended"
            } else if let from = agreement.valid.from, from.date > today {
                state = "not_yet"
            } else {
                state = "in_force"
            }
            views.append(
                AgreementView(
                    id: agreement.id, title: agreement.title,
                    parties: agreement.parties.map { .init(name: $0.name, kind: $0.kind) },
                    validFrom: agreement.valid.from?.text, validUntil: agreement.valid.until?.text, state: state,
                    source: agreement.source, obligations: agreement.obligations.map(\.id),
                    windows: agreement.windows.map(\.id), roles: agreement.roles.keys.sorted(),
                    next: listings.map { $0.deadline.view(zone: zone, notices: $0.notices, now: now) }))
        }
        return views
    }
}
