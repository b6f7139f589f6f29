import Foundation
import Logging
import SamverkanConfig
import SamverkanCore
import SamverkanStore

/// A request the daemon refuses with a 4xx: what was wrong, said so the caller can fix it.
struct ClientError: Error, Sendable {
    var status: Int
    var code: String
    var message: String
}

/// Cases: windows opened by an event (a SMADIT handover) under a neutral reference
/// (`design.md`, "Cases"). The reminders, escalations and the breach come from the planner's
/// window; the store keeps the case and its deadline.
extension Runtime {
    /// Why a reference is refused, without repeating it (it may be a personnummer), or nil when
    /// it is a neutral registry number.
    static func referenceProblem(_ text: String) -> String? {
        // A registry-style number of the receiving unit: YYYY-N, 1–6 digits after the dash.
        if text.wholeMatch(of: #/[0-9]{4}-[0-9]{1,6}/#) != nil { return nil }
        let compact = text.filter { !$0.isWhitespace }
        let looksLike: String
        if compact.wholeMatch(of: #/[0-9]{6}([0-9]{2})?[-+]?[0-9]{4}/#) != nil {
            looksLike = "it looks like a personnummer"
        } else if compact.wholeMatch(of: #/[A-Za-z]{3}[0-9]{2}[A-Za-z0-9]/#) != nil {
            looksLike = "it looks like a vehicle registration number"
        } else if text.contains(where: \.isLetter) {
            looksLike = "it contains letters (a name or free text?)"
        } else {
            looksLike = "it is not of the form YYYY-N"
        }
        return
            "the reference is refused: \(looksLike). A case reference must be neutral: the receiving unit's registry number such as 2026-0042 (four digits, a dash, 1–6 digits), or none and samverkand assigns the next one. Never a personnummer, a registration number or a name."
    }

    static let outcomes = ["contacted", "unreachable", "declined"]

    /// Opens a case, or returns the open one with the same reference (idempotent by reference).
    /// An explicit `openedAt` that differs from the stored one is a conflict.
    func openCase(
        agreement agreementID: String, window windowID: String, reference: String?, openedAt: Date?, by: Requester
    )
        async throws -> (CaseView, created: Bool)
    {
        guard let agreement = config.agreements.first(where: { $0.id == agreementID }) else {
            throw ClientError(
                status: 404, code: "unknown_agreement",
                message: "no agreement '\(agreementID)'; `samverkanctl agreements` lists them")
        }
        guard let window = agreement.windows.first(where: { $0.id == windowID }) else {
            let known = agreement.windows.map(\.id).joined(separator: ", ")
            throw ClientError(
                status: 404, code: "unknown_window",
                message:
                    "agreement '\(agreementID)' has no window '\(windowID)'\(known.isEmpty ? " (it has none)" : "; it has: \(known)")"
            )
        }
        if let reference, let problem = Self.referenceProblem(reference) {
            throw ClientError(status: 422, code: "bad_reference", message: problem)
        }
        let now = clock.now()
        if let openedAt, openedAt > now.addingTimeInterval(60) {
            throw ClientError(
                status: 422, code: "bad_opened_at",
                message: "opened_at \(config.zone.rfc3339(openedAt)) is in the future; give the time of the handover")
        }
        // The same case asked for again without a time: the one that is open (a retry is harmless).
        if let reference, openedAt == nil, let existing = try await store.caseRecord(reference: reference),
            existing.agreement == agreementID, existing.window == windowID
        {
            // Nothing written, so nothing to keep atomic with: the audit row on its own.
            await audit(
                action: "case-open", target: reference, detail: "\(agreementID)/\(windowID) (already open)", by: by)
            return (try await view(existing, now: now), false)
        }
        let zone = config.zone
        let planner = Planner(zone: zone, calendar: SwedishCalendar(closedDays: config.settings.closedDays))
        let opened = openedAt ?? now
        let result = try await store.openCase(
            CaseOpening(
                reference: reference, agreement: agreementID, window: windowID, openedAt: opened,
                referenceYear: zone.today(opened).year),
            now: now,
            audit: AuditRecord(at: now, by: by, action: "case-open", target: nil, detail: "\(agreementID)/\(windowID)"),
            deadline: { reference in
                planner.plan(window: window, agreement: agreement, reference: reference, openedAt: opened)
            })
        scheduler.wakeUp()
        if result.created {
            logger.notice(
                "case \(result.record.reference) opened: \(agreementID)/\(windowID), due \(zone.rfc3339(result.deadline.deadline.due))",
                metadata: [
                    "samverkan_agreement": "\(agreementID)", "samverkan_deadline": "\(result.record.deadlineID)",
                    "samverkan_kind": "\(window.kind)",
                    "samverkan_due": "\(zone.rfc3339(result.deadline.deadline.due))",
                ])
        }
        return (view(result.record, listing: result.deadline, now: now), result.created)
    }

    func closeCase(reference: String, outcome: String, by: Requester) async throws -> CaseView {
        guard Self.outcomes.contains(outcome) else {
            throw ClientError(
                status: 422, code: "bad_outcome",
                message: "outcome must be one of \(Self.outcomes.joined(separator: ", "))")
        }
        let now = clock.now()
        let record = try await store.closeCase(
            reference: reference, outcome: outcome, by: by, at: now,
            audit: AuditRecord(at: now, by: by, action: "case-close", target: reference, detail: outcome))
        scheduler.wakeUp()
        logger.notice(
            "case \(reference) closed: \(outcome)",
            metadata: ["samverkan_agreement": "\(record.agreement)", "samverkan_deadline": "\(record.deadlineID)"])
        return try await view(record, now: now)
    }

    /// Open cases, and those closed in the last `recentDays` days (nil: open ones only).
    func cases(recentDays: Int?) async throws -> [CaseView] {
        let now = clock.now()
        var views: [CaseView] = []
        let since = recentDays.map { now.addingTimeInterval(-Double($0) * 86_400) }
        for record in try await store.cases(closedSince: since) {
            views.append(try await view(record, now: now))
        }
        return views
    }

    private func view(_ record: CaseRecord, now: Date) async throws -> CaseView {
        guard let detail = try await store.deadline(id: record.deadlineID) else {
            throw StoreError(.unknownDeadline, "case \(record.reference) has no deadline \(record.deadlineID)")
        }
        return view(record, listing: DeadlineListing(deadline: detail.deadline, notices: detail.notices), now: now)
    }

    private func view(_ record: CaseRecord, listing: DeadlineListing, now: Date) -> CaseView {
        let zone = config.zone
        let due = listing.deadline.due
        return CaseView(
            reference: record.reference, agreement: record.agreement, window: record.window,
            openedAt: zone.rfc3339(record.openedAt), state: record.isOpen ? "open" : "closed",
            closedAt: record.closedAt.map(zone.rfc3339), outcome: record.outcome, due: zone.rfc3339(due),
            secondsLeft: record.isOpen ? Int(due.timeIntervalSince(now).rounded(.down)) : nil,
            deadline: listing.deadline.view(zone: zone, notices: listing.notices, now: now))
    }
}
