import Foundation
import Logging
import SamverkanConfig
import SamverkanCore
import SamverkanSinks
import SamverkanStore

/// Daily digests (`routes: - {digest: {at: "07:30"}}`): instead of one message per notice, the
/// notices of a route are held until the digest time and go out as one summary per recipient.
/// Urgent slots (a case's reminders, escalation and breach, and overdue) still go at once.
extension Dispatcher {
    enum DigestDecision: Equatable {
        /// Its digest is now: send it with the others.
        case sendNow
        /// Hold it until this digest instant.
        case deferTo(Date)
    }

    /// Slots that never wait for a digest.
    static func isUrgent(_ slot: String) -> Bool {
        slot == "overdue" || slot == "breach" || slot.hasPrefix("escalation") || slot.hasPrefix("+")
    }

    /// A notice goes into the digest now when it was held for one (or is a digest being retried),
    /// or when its own time is the digest time; otherwise it waits for the next digest.
    func digestDecision(_ claim: ClaimedNotice, route: RouteConfig, now: Date) -> DigestDecision {
        guard let at = route.digestAt else { return .sendNow }
        if claim.notice.nextAttempt > claim.notice.at || zone.local(claim.notice.at).time == at { return .sendNow }
        return .deferTo(nextDigest(at: at, after: now))
    }

    /// The first digest instant strictly after `now`.
    func nextDigest(at time: LocalTime, after now: Date) -> Date {
        let today = zone.today(now)
        let candidate = zone.instant(LocalDateTime(date: today, time: time))
        return candidate > now ? candidate : zone.instant(LocalDateTime(date: today.adding(days: 1), time: time))
    }

    /// The latest digest instant at or before `now`: names a digest, so its retries keep its id.
    func currentDigest(at time: LocalTime, now: Date) -> Date {
        let today = zone.today(now)
        let candidate = zone.instant(LocalDateTime(date: today, time: time))
        return candidate <= now ? candidate : zone.instant(LocalDateTime(date: today.adding(days: -1), time: time))
    }

    /// The route a claimed notice goes to, if it holds digests and the notice is not urgent.
    func digestRoute(for claim: ClaimedNotice) -> RouteConfig? {
        guard !Self.isUrgent(claim.notice.slot),
            let route = route(agreement: claim.deadline.agreement, kind: claim.deadline.kind, slot: claim.notice.slot),
            route.digestAt != nil
        else { return nil }
        return route
    }

    /// Sends the due notices of one digest route as one message per recipient; returns each
    /// notice's result (a notice with several recipients is sent when every digest it is in was).
    func deliverDigest(_ claims: [ClaimedNotice], route: RouteConfig, now: Date) async -> [String: Result] {
        guard let time = route.digestAt else { return [:] }
        let instant = currentDigest(at: time, now: now)
        // Recipient → its notices, in due order. A role without an address is its own recipient.
        var groups: [String: (recipient: OutgoingNotice.Recipient, claims: [ClaimedNotice])] = [:]
        for claim in claims.sorted(by: { ($0.deadline.due, $0.notice.id) < ($1.deadline.due, $1.notice.id) }) {
            let roles = agreements[claim.deadline.agreement]?.roles ?? [:]
            var seen = Set<String>()
            for role in claim.notice.recipients {
                let address = roles[role]?.email
                let key = address ?? "role:\(role)"
                guard seen.insert(key).inserted else { continue }
                groups[key, default: (.init(role: role, address: address), [])].claims.append(claim)
            }
        }
        var results: [String: Result] = [:]
        let english = renderer.language == "en"
        let stamp = String((Self.reportID(instant).split(separator: "/").last ?? "").dropLast(3))
        for key in groups.keys.sorted() {
            guard let group = groups[key] else { continue }
            var hash = StableHash()
            hash.add(key, terminator: 0)
            let id = "samverkand/digest/\(stamp)/\(String(hash.hex.prefix(8)))"
            var lines: [String] = []
            for claim in group.claims {
                let (outgoing, _, _) = render(claim, answered: [], now: now)
                lines.append("– \(outgoing.subject.replacingOccurrences(of: "[Samverkan] ", with: ""))")
                lines.append("  \(outgoing.agreementTitle)")
                lines.append(
                    "  "
                        + (claim.deadline.origin == .case
                            ? ""
                            : (english ? "mark done: " : "markera som klar: ")
                                + "samverkanctl done \(claim.deadline.id)"))
            }
            let count = group.claims.count
            let subject =
                english
                ? "[Samverkan] Daily summary: \(count) \(count == 1 ? "notice" : "notices")"
                : "[Samverkan] Dagens sammanfattning: \(count) \(count == 1 ? "påminnelse" : "påminnelser")"
            let intro =
                english
                ? "Hello,\n\nHere is today's summary of what is coming up and what is due:"
                : "Hej!\n\nHär är dagens sammanfattning av det som närmar sig och det som ska vara klart:"
            let outro =
                english
                ? "Automatic message.\n\nKind regards\nThe crime-prevention cooperation reminder service"
                : "Automatiskt meddelande.\n\nVänliga hälsningar\nPåminnelsetjänsten för brottsförebyggande samverkan"
            let body = ([intro, ""] + lines + ["", outro]).joined(separator: "\n") + "\n"
            let digest = daemonNotice(
                id: id, slot: "digest", at: instant, late: now.timeIntervalSince(instant) > 60,
                title: english ? "Daily summary" : "Dagens sammanfattning", recipients: [group.recipient],
                subject: subject, body: body)
            let metadata: Logger.Metadata = [
                "samverkan_notice": "\(id)", "samverkan_slot": "digest",
                "samverkan_digest_notices": "\(group.claims.map(\.notice.id).joined(separator: ","))",
            ]
            // A digest is retried for a day after its time; the notices' own attempts count.
            let attempt = group.claims.map(\.notice.attempts).max() ?? 1
            let result = await send(
                digest, route: route, alreadyDelivered: [], attempt: attempt,
                budgetEnd: instant.addingTimeInterval(86_400), manual: false, metadata: metadata, now: now)
            for claim in group.claims {
                let records = result.attempts.map {
                    DeliveryRecord(
                        noticeID: claim.notice.id, sink: $0.sink, at: $0.at, outcome: $0.outcome,
                        error: $0.outcome == .ok ? "in digest \(id)" : $0.error)
                }
                let previous = results[claim.notice.id]
                results[claim.notice.id] = Result(
                    outcome: Self.worse(previous?.outcome, result.outcome),
                    attempts: (previous?.attempts ?? []) + records)
            }
        }
        return results
    }

    /// Of two digests a notice is in, the outcome that needs more: dead over retry over sent.
    static func worse(_ a: Outcome?, _ b: Outcome) -> Outcome {
        guard let a else { return b }
        func rank(_ o: Outcome) -> Int {
            switch o {
            case .dead: 3
            case .retry: 2
            case .deferred: 1
            case .sent: 0
            }
        }
        return rank(a) >= rank(b) ? a : b
    }
}
