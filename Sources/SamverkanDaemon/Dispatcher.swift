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
    /// Names this dispatcher (one per config generation): what it prepared is used by it alone.
    let identity = UUID()

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
    ///
    /// `prepared` is what `prepare` made of the notice shortly before its time: used when it is
    /// exactly what rendering the claim now would give, and discarded otherwise.
    func deliver(
        _ claim: ClaimedNotice, answered: Set<String> = [], alreadyDelivered: Set<String> = [], manual: Bool = false,
        now: Date, prepared: PreparedNotice? = nil
    ) async -> Result {
        var prepared = prepared
        if let unfit = prepared, manual || !canUse(unfit, for: claim, now: now) {
            unfit.discard()
            prepared = nil
        }
        let (outgoing, situation, metadata) =
            prepared.map { ($0.outgoing, $0.situation, $0.metadata) } ?? render(claim, answered: answered, now: now)
        let staged = prepared?.staged ?? [:]
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
            for delivery in staged.values { delivery.discard() }
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
                for delivery in staged.values { delivery.discard() }
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
            manual: manual, metadata: metadata, now: now, staged: staged)
    }

    /// Renders a notice that falls due shortly, as of just after its time, and has the sinks of
    /// its route that can stage it do so (`StagingSink`): at its time, delivering it is the
    /// sinks' last step only. `waiting` is the notice as the store holds it before its claim.
    ///
    /// Not prepared (nil): a round's summary and overdue notices, which list who has answered
    /// by the time they go; notices of a route with a digest; notices with no route.
    func prepare(_ waiting: ClaimedNotice) async -> PreparedNotice? {
        let claim = PreparedNotice.expectedClaim(of: waiting)
        let notice = claim.notice
        guard notice.slot != "summary", notice.slot != "overdue",
            let route = route(agreement: claim.deadline.agreement, kind: claim.deadline.kind, slot: notice.slot),
            route.digestAt == nil
        else { return nil }
        let asOf = notice.nextAttempt.addingTimeInterval(PreparedNotice.renderedAfter)
        let (outgoing, situation, metadata) = render(claim, answered: [], now: asOf)
        var staged: [String: StagedDelivery] = [:]
        for name in Set(route.sinks) {
            guard let sink = sinks[name] as? any StagingSink else { continue }
            // A sink that cannot stage it now (a full disk) gets the notice at its time as usual.
            if case .success(let delivery) = await sink.stage(outgoing) { staged[name] = delivery }
        }
        return PreparedNotice(
            madeBy: identity, expected: PreparedNotice.withoutStamps(claim), renderedAsOf: asOf, outgoing: outgoing,
            situation: situation, metadata: metadata, staged: staged)
    }

    /// Whether this dispatcher may deliver `claim` as `prepared`: it made it (with this config and
    /// these sinks), and rendering the claim now gives the same.
    func canUse(_ prepared: PreparedNotice, for claim: ClaimedNotice, now: Date) -> Bool {
        prepared.madeBy == identity && prepared.fits(claim, now: now)
    }

    /// The sink a claimed notice can go to together with others as a batch
    /// (`deliverStaged`): its first attempt, prepared and still fitting, to a route whose only
    /// sink staged it. Nil: it goes the usual way, one delivery of its own.
    func batchSink(for claim: ClaimedNotice, prepared: PreparedNotice, now: Date) -> String? {
        guard claim.notice.attempts == 1, claim.notice.slot != "breach", canUse(prepared, for: claim, now: now),
            let route = route(agreement: claim.deadline.agreement, kind: claim.deadline.kind, slot: claim.notice.slot),
            route.digestAt == nil, let sink = route.sinks.first, route.sinks.allSatisfy({ $0 == sink }),
            prepared.staged.keys.elementsEqual([sink])
        else { return nil }
        return sink
    }

    /// Delivers prepared notices staged by one sink (`batchSink`) in one step of that sink: a
    /// burst due together appears at once. One result each, in order: `.again` for a notice the
    /// sink could not take, whose staged work is gone (with the failed attempt): it goes the
    /// usual way, rendered afresh (and retried, or sent to the fallback, as any other).
    func deliverStaged(_ batch: [(claim: ClaimedNotice, prepared: PreparedNotice)], sink sinkName: String, now: Date)
        async -> [StagedResult]
    {
        // Anything not staged for this sink (never so after `batchSink`) goes the usual way.
        var results = batch.map { item -> StagedResult in
            .again(
                DeliveryRecord(
                    noticeID: item.claim.notice.id, sink: sinkName, at: now, outcome: .transient,
                    error: "not staged for \(sinkName)"))
        }
        let staged = batch.indices.compactMap { index in
            batch[index].prepared.staged[sinkName].map { (index, $0) }
        }
        guard let sink = sinks[sinkName] as? any StagingSink else {
            for item in batch { item.prepared.discard() }
            return results
        }
        let started = ContinuousClock.now
        let receipts = await sink.deliver(staged: staged.map(\.1))
        // One receipt each; any without one goes the usual way, its staged file thrown away.
        for (_, delivery) in staged.dropFirst(receipts.count) { delivery.discard() }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        for ((index, _), receipt) in zip(staged, receipts) {
            let item = batch[index]
            let id = item.claim.notice.id
            var metadata = item.prepared.metadata
            metadata["samverkan_sink"] = "\(sinkName)"
            switch receipt {
            case .success(let receipt):
                metrics.delivered(sink: sinkName, seconds: seconds)
                metadata["message_id"] = "\(JournalEvent.noticeSent.rawValue)"
                logger.notice("notice \(id) delivered to \(sinkName): \(receipt.detail)", metadata: metadata)
                results[index] = .delivered(
                    Result(
                        outcome: .sent(late: item.prepared.outgoing.late),
                        attempts: [DeliveryRecord(noticeID: id, sink: sinkName, at: now, outcome: .ok)]))
            case .failure(let error):
                metrics.failed(sink: sinkName)
                metadata["message_id"] = "\(JournalEvent.noticeFailed.rawValue)"
                logger.warning(
                    "notice \(id) could not be delivered to \(sinkName) as staged (\(error)); delivering it anew",
                    metadata: metadata)
                results[index] = .again(
                    DeliveryRecord(noticeID: id, sink: sinkName, at: now, outcome: .transient, error: error.message))
            }
        }
        return results
    }

    /// What `deliverStaged` did with one notice.
    enum StagedResult: Sendable {
        case delivered(Result)
        /// Not delivered, and nothing of it is left staged: deliver it the usual way, and record
        /// this failed attempt with that delivery's.
        case again(DeliveryRecord)
    }

    /// Sent after its time: marked so in the store, or more than a minute after it.
    static func isLate(_ notice: StoredNotice, now: Date) -> Bool {
        notice.late || now.timeIntervalSince(notice.at) > 60
    }

    /// The text and the journal fields of a claimed notice.
    func render(_ claim: ClaimedNotice, answered: Set<String>, now: Date)
        -> (OutgoingNotice, NoticeRenderer.Situation, Logger.Metadata)
    {
        let notice = claim.notice
        let deadline = claim.deadline.deadline(notices: [notice.planned])
        let late = Self.isLate(notice, now: now)
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
        budgetEnd: Date, manual: Bool, metadata: Logger.Metadata, now: Date, staged: [String: StagedDelivery] = [:]
    ) async -> Result {
        var metadata = metadata
        let pending = route.sinks.filter { !alreadyDelivered.contains($0) }
        for (name, delivery) in staged where !pending.contains(name) { delivery.discard() }
        var staged = staged
        var attempts: [DeliveryRecord] = []
        var transient: [String] = []
        var permanent: [String] = []
        for sinkName in pending {
            let stagedHere = staged.removeValue(forKey: sinkName)
            switch await attempt(sinkName, outgoing, staged: stagedHere, metadata: metadata, now: now) {
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
    private func attempt(
        _ sinkName: String, _ outgoing: OutgoingNotice, staged: StagedDelivery? = nil, metadata: Logger.Metadata,
        now: Date
    ) async -> Swift.Result<DeliveryRecord, AttemptFailure> {
        var metadata = metadata
        metadata["samverkan_sink"] = "\(sinkName)"
        guard let sink = sinks[sinkName], let gate = gates[sinkName] else {
            staged?.discard()
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
                    let receipt: DeliveryReceipt
                    if let staged, let staging = sink as? any StagingSink {
                        receipt = try await staging.deliver(staged: staged)
                    } else {
                        receipt = try await sink.deliver(outgoing)
                    }
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
