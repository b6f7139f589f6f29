import Foundation
import Logging
import SamverkanConfig
import SamverkanCore
import SamverkanSinks
import SamverkanStore

/// Routes a due notice to its sinks, renders it and delivers it, logging every attempt to the
/// journal with the fields of `design.md`.
struct Dispatcher: Sendable {
    let sinks: [String: any NoticeSink]
    /// One gate per sink: at most its `concurrentDeliveries` at a time.
    let gates: [String: DeliveryGate]
    let routes: [RouteConfig]
    let agreements: [String: Agreement]
    let zone: Zone
    let logger: Logger
    let metrics: DeliveryMetrics
    let renderer: NoticeRenderer
    /// `operator` of the settings: who gets downtime reports.
    let operatorTarget: String?
    /// Each sink's `retry: {initial, max}`.
    let retryPolicies: [String: (initial: Duration, max: Duration)]

    /// How a delivery ended: what the store records (`sent`, a `retry`, `dead`, or `deferred`
    /// to the route's digest).
    typealias Outcome = DeliveryResolution

    /// What one delivery did: the outcome for the store, and one record per sink tried.
    struct Result: Sendable {
        var outcome: Outcome
        var attempts: [DeliveryRecord]
    }

    init(
        config: LoadedConfig, stateDirectory: String, logger: Logger, metrics: DeliveryMetrics,
        clock: any WallClock = SystemWallClock()
    ) throws(SinkSetupError) {
        self.metrics = metrics
        var sinks: [String: any NoticeSink] = [:]
        for sink in config.settings.sinks {
            sinks[sink.name] = try SinkFactory.make(
                sink, stateDirectory: stateDirectory, zone: config.zone, clock: clock)
        }
        self.sinks = sinks
        self.gates = sinks.mapValues { DeliveryGate(limit: $0.concurrentDeliveries) }
        self.routes = config.settings.routes
        self.agreements = Dictionary(config.agreements.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.zone = config.zone
        self.logger = logger
        self.operatorTarget = config.settings.operator
        self.retryPolicies = Dictionary(
            config.settings.sinks.map { ($0.name, (initial: $0.retryInitial, max: $0.retryMax)) },
            uniquingKeysWith: { first, _ in first })
        self.renderer = NoticeRenderer(
            zone: config.zone, language: config.settings.language, templates: config.templates)
    }

    /// The sinks a notice goes to: those of the first matching route. No route: the journal
    /// entry is the delivery (the minimal configuration that needs nothing else).
    func route(agreement: String, kind: String, slot: String) -> RouteConfig? {
        routes.first { $0.matches(agreement: agreement, kind: kind, slot: slot) }
    }

    /// Renders a claimed notice and hands it to every sink of its route. `answered` names the
    /// respondents of a collection round who have answered (for the round's summary).
    ///
    /// `alreadyDelivered` names the sinks that took it on an earlier attempt. `manual` (a retry
    /// asked for with `samverkanctl retry`) tries once and goes to the fallback on failure.
    func deliver(
        _ claim: ClaimedNotice, answered: Set<String> = [], alreadyDelivered: Set<String> = [], manual: Bool = false,
        now: Date
    ) async -> Result {
        let (outgoing, situation, metadata) = render(claim, answered: answered, now: now)
        let notice = claim.notice
        let deadline = claim.deadline
        if notice.slot == "breach" {
            // A deviation: the window's target passed and the case is still open.
            var deviation = metadata
            deviation["message_id"] = "\(JournalEvent.caseBreach.rawValue)"
            logger.error(
                "deviation: case \(situation.caseReference ?? deadline.id) passed its target \(zone.rfc3339(deadline.due)) with no outcome; it stays open until closed",
                metadata: deviation)
        }
        guard let route = route(agreement: deadline.agreement, kind: deadline.kind, slot: notice.slot) else {
            var metadata = metadata
            metadata["message_id"] = "\(JournalEvent.noticeSent.rawValue)"
            metadata["samverkan_sink"] = "journal"
            logger.notice(
                "notice \(notice.id) due \(zone.rfc3339(notice.at)) (no route: journal only)", metadata: metadata)
            return Result(
                outcome: .sent(late: outgoing.late),
                attempts: [DeliveryRecord(noticeID: notice.id, sink: "journal", at: now, outcome: .ok)])
        }
        if !manual, route.digestAt != nil, !Self.isUrgent(notice.slot) {
            if case .deferTo(let instant) = digestDecision(claim, route: route, now: now) {
                logger.info(
                    "notice \(notice.id) is held for the digest at \(zone.rfc3339(instant))", metadata: metadata)
                return Result(outcome: .deferred(until: instant), attempts: [])
            }
        }
        // Retries are budgeted against the deadline: a reminder until its deadline is due (no
        // point after), anything at or after the due time for a day.
        let budgetEnd = notice.at < deadline.due ? deadline.due : notice.at.addingTimeInterval(86_400)
        return await send(
            outgoing, route: route, alreadyDelivered: alreadyDelivered, attempt: notice.attempts, budgetEnd: budgetEnd,
            manual: manual, metadata: metadata, now: now)
    }

    /// The text and the journal fields of a claimed notice.
    func render(_ claim: ClaimedNotice, answered: Set<String>, now: Date)
        -> (OutgoingNotice, NoticeRenderer.Situation, Logger.Metadata)
    {
        let notice = claim.notice
        let deadline = claim.deadline.deadline(notices: [notice.planned])
        let late = notice.late || now.timeIntervalSince(notice.at) > 60
        let agreement = agreements[deadline.agreement]
        let obligation = agreement?.obligations.first { $0.id == deadline.obligation }
        let situation = NoticeRenderer.Situation(
            slot: notice.slot, recipientRole: notice.recipients.joined(separator: ", "), late: late,
            missing: notice.slot == "summary" || notice.slot == "overdue"
                ? (obligation?.collectFrom ?? []).filter { !answered.contains($0) } : [],
            questions: obligation?.questions ?? [],
            quote: obligation?.quote,
            caseReference: claim.deadline.origin == .case
                ? claim.deadline.id.split(separator: "/").last.map(String.init) : nil)
        let text = renderer.render(deadline: deadline, agreement: agreement, situation: situation)
        let outgoing = OutgoingNotice(
            id: notice.id, slot: notice.slot, at: zone.rfc3339(notice.at), late: late, agreement: deadline.agreement,
            agreementTitle: agreement?.title ?? deadline.agreement,
            deadline: claim.deadline.view(zone: zone, notices: [notice], now: now),
            recipients: notice.recipients.map { .init(role: $0, address: agreement?.roles[$0]?.email) },
            subject: text.subject, body: text.body)
        var metadata: Logger.Metadata = [
            "samverkan_agreement": "\(deadline.agreement)",
            "samverkan_deadline": "\(deadline.id)",
            "samverkan_notice": "\(notice.id)",
            "samverkan_kind": "\(deadline.kind)",
            "samverkan_due": "\(zone.rfc3339(deadline.due))",
            "samverkan_slot": "\(notice.slot)",
            "samverkan_recipients": "\(notice.recipients.joined(separator: ","))",
            "samverkan_attempt": "\(notice.attempts)",
        ]
        if late { metadata["samverkan_late"] = "1" }
        return (outgoing, situation, metadata)
    }

    /// Hands a rendered notice (or a digest) to the sinks of its route that have not taken it,
    /// then decides: sent, a retry while the budget lasts, the fallback, or a dead letter.
    func send(
        _ outgoing: OutgoingNotice, route: RouteConfig, alreadyDelivered: Set<String>, attempt attemptNumber: Int,
        budgetEnd: Date, manual: Bool, metadata: Logger.Metadata, now: Date
    ) async -> Result {
        var metadata = metadata
        let pending = route.sinks.filter { !alreadyDelivered.contains($0) }
        var attempts: [DeliveryRecord] = []
        var transient: [String] = []
        var permanent: [String] = []
        for sinkName in pending {
            switch await attempt(sinkName, outgoing, metadata: metadata, now: now) {
            case .success(let record): attempts.append(record)
            case .failure(let failure):
                attempts.append(failure.record)
                if failure.record.outcome == .transient {
                    transient.append(sinkName)
                } else {
                    permanent.append(sinkName)
                }
            }
        }
        if transient.isEmpty && permanent.isEmpty {
            return Result(outcome: .sent(late: outgoing.late), attempts: attempts)
        }

        // Transient failures are retried with backoff while the budget lasts.
        if permanent.isEmpty, !manual {
            let delay =
                transient.map { retryDelay(sink: $0, noticeID: outgoing.id, attempt: attemptNumber) }.max() ?? 30
            let retryAt = now.addingTimeInterval(delay)
            if retryAt < budgetEnd {
                metadata["message_id"] = "\(JournalEvent.noticeFailed.rawValue)"
                logger.warning(
                    "notice \(outgoing.id) will be tried again at \(zone.rfc3339(retryAt)) (attempt \(attemptNumber + 1); retried until \(zone.rfc3339(budgetEnd)))",
                    metadata: metadata)
                return Result(outcome: .retry(at: retryAt), attempts: attempts)
            }
        }

        // The route's sinks cannot take it (a permanent failure, or the retry budget is spent):
        // the fallback sink, once; then a dead letter.
        if let fallback = route.fallback, !alreadyDelivered.contains(fallback), !pending.contains(fallback) {
            var viaFallback = metadata
            viaFallback["samverkan_fallback"] = "1"
            let result = await attempt(fallback, outgoing, metadata: viaFallback, now: now)
            switch result {
            case .success(let record):
                attempts.append(record)
                logger.warning(
                    "notice \(outgoing.id) went to the fallback sink \(fallback): \((transient + permanent).joined(separator: ", ")) could not take it",
                    metadata: viaFallback)
                return Result(outcome: .sent(late: outgoing.late), attempts: attempts)
            case .failure(let failure):
                attempts.append(failure.record)
            }
        }
        metadata["message_id"] = "\(JournalEvent.deadLetter.rawValue)"
        metadata["samverkan_sink"] = "\((transient + permanent).joined(separator: ","))"
        let reasons = attempts.filter { $0.outcome != .ok }.map { "\($0.sink): \($0.error ?? $0.outcome.rawValue)" }
        logger.critical(
            "notice \(outgoing.id) could not be delivered and was given up (a dead letter; `samverkanctl undelivered`, `samverkanctl retry \(outgoing.id)`): \(reasons.joined(separator: "; "))",
            metadata: metadata)
        return Result(outcome: .dead, attempts: attempts)
    }

    /// One delivery to one sink, logged and counted.
    private func attempt(_ sinkName: String, _ outgoing: OutgoingNotice, metadata: Logger.Metadata, now: Date) async
        -> Swift.Result<DeliveryRecord, AttemptFailure>
    {
        var metadata = metadata
        metadata["samverkan_sink"] = "\(sinkName)"
        guard let sink = sinks[sinkName], let gate = gates[sinkName] else {
            return .failure(
                AttemptFailure(
                    record: DeliveryRecord(
                        noticeID: outgoing.id, sink: sinkName, at: now, outcome: .permanent,
                        error: "no sink named \(sinkName)")))
        }
        do {
            // The latency is the sink's own, from the moment the gate lets the notice through.
            let (receipt, elapsed) = try await gate.pass {
                () async -> Swift.Result<(DeliveryReceipt, Duration), SinkError> in
                let started = ContinuousClock.now
                do throws(SinkError) {
                    let receipt = try await sink.deliver(outgoing)
                    return .success((receipt, ContinuousClock.now - started))
                } catch {
                    return .failure(error)
                }
            }.get()
            metrics.delivered(
                sink: sinkName,
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            metadata["message_id"] = "\(JournalEvent.noticeSent.rawValue)"
            logger.notice("notice \(outgoing.id) delivered to \(sinkName): \(receipt.detail)", metadata: metadata)
            return .success(DeliveryRecord(noticeID: outgoing.id, sink: sinkName, at: now, outcome: .ok))
        } catch {
            metadata["message_id"] = "\(JournalEvent.noticeFailed.rawValue)"
            logger.error("notice \(outgoing.id) not delivered to \(sinkName): \(error)", metadata: metadata)
            metrics.failed(sink: sinkName)
            return .failure(
                AttemptFailure(
                    record: DeliveryRecord(
                        noticeID: outgoing.id, sink: sinkName, at: now,
                        outcome: error.code == .transient ? .transient : .permanent, error: error.message)))
        }
    }

    struct AttemptFailure: Error {
        var record: DeliveryRecord
    }

    /// Exponential backoff with jitter: `initial × 2^(attempt − 1)`, at most `max`, then 75–100 %
    /// of that. The jitter comes from the notice id and attempt, so it spreads notices that failed
    /// together yet is the same on every run.
    func retryDelay(sink: String, noticeID: String, attempt: Int) -> TimeInterval {
        let (initial, maximum) = retryPolicies[sink] ?? (SinkConfig.defaultRetryInitial, SinkConfig.defaultRetryMax)
        let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let base = min(seconds(initial) * pow(2, Double(max(attempt - 1, 0))), seconds(maximum))
        var hash = StableHash()
        hash.add(noticeID, terminator: 0)
        hash.add(bits: UInt64(max(attempt, 0)))
        let fraction = Double(hash.value % 10_000) / 10_000
        return base * (0.75 + 0.25 * fraction)
    }
}

/// A sink in config that this version cannot run.
struct SinkSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Makes sinks from config: one line per type.
enum SinkFactory {
    static func make(_ config: SinkConfig, stateDirectory: String, zone: Zone, clock: any WallClock)
        throws(SinkSetupError)
        -> any NoticeSink
    {
        switch config.type {
        case "file":
            var directory = config.options["directory"] ?? "outbox"
            if !directory.hasPrefix("/") { directory = stateDirectory + "/" + directory }
            let formatName = config.options["format"] ?? "eml"
            guard let format = FileSink.Format(rawValue: formatName) else {
                throw SinkSetupError(
                    message: "sink '\(config.name)': format \(formatName) is not one of eml, json, txt")
            }
            let mode = config.options["mode"].flatMap { mode_t($0, radix: 8) } ?? 0o640
            return FileSink(name: config.name, directory: directory, format: format, mode: mode, zone: zone)
        case "email":
            do {
                return try EmailSink(name: config.name, options: config.options, zone: zone, clock: clock)
            } catch {
                throw SinkSetupError(message: error.message)
            }
        case "webhook":
            do {
                return try WebhookSink(name: config.name, options: config.options)
            } catch {
                throw SinkSetupError(message: error.message)
            }
        case "command":
            do {
                return try CommandSink(name: config.name, options: config.options, listOptions: config.listOptions)
            } catch {
                throw SinkSetupError(message: error.message)
            }
        default:
            throw SinkSetupError(
                message:
                    "sink '\(config.name)': type \(config.type) is not available in this version (available: file, email, webhook, command)"
            )
        }
    }
}

extension StoredDeadline {
    /// The JSON shape of `design.md`: `state` is `upcoming` or `overdue` for a planned deadline,
    /// else the stored state; each notice carries its stored state.
    func view(zone: Zone, notices: [StoredNotice], now: Date, explain: Bool = false) -> DeadlineView {
        let shownState =
            switch state {
            case .planned: due < now ? "overdue" : "upcoming"
            case .done, .cancelled: state.rawValue
            }
        return DeadlineView(
            id: id, agreement: agreement, obligation: obligation, kind: kind, title: title, due: zone.rfc3339(due),
            state: shownState,
            notices: notices.map {
                NoticeView(id: $0.id, slot: $0.slot, at: zone.rfc3339($0.at), state: $0.state.rawValue)
            },
            explanation: explain
                ? explanation + notices.compactMap { n in n.explanation.map { "\(n.slot): \($0)" } } : nil)
    }
}
