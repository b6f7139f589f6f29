import Foundation
import SamverkanConfig
import SamverkanCore
import SamverkanStore
import Testing

@testable import SamverkanDaemon

/// `GET /v1/deadlines` answers are kept between requests; a kept one must be exactly what a
/// fresh read would say, whatever happened between: a write, time passing a due, a new day.
@Suite("kept listings")
struct ListingCacheTests {
    /// The listing from the runtime (kept or not) and one read fresh from the store.
    static func both(_ harness: Harness, within: Int = 120 * 86_400, limit: Int? = nil) async throws -> (
        [DeadlineView], [DeadlineView]
    ) {
        let served = try await harness.runtime.deadlinesJSON(
            within: within, agreement: nil, kind: nil, states: [.planned], shown: nil, limit: limit)
        let decoded = try JSONDecoder().decode([DeadlineView].self, from: Data(served))
        let config = await harness.runtime.config
        let now = harness.clock.now()
        let today = config.zone.today(now)
        let lastDay = config.zone.today(now.addingTimeInterval(TimeInterval(within)))
        let midnight = LocalTime(hour: 0, minute: 0) ?? .nine
        let fresh = try await harness.store.deadlines(
            DeadlineQuery(
                dueFrom: config.zone.instant(LocalDateTime(date: today, time: midnight)),
                dueThrough: config.zone.instant(LocalDateTime(date: lastDay.adding(days: 1), time: midnight))
                    .addingTimeInterval(-0.001),
                includeOverdue: true, states: [.planned], limit: limit)
        ).map { $0.deadline.view(zone: config.zone, notices: $0.notices, now: now) }
        return (decoded, fresh)
    }

    /// Ids and shown states, enough to tell listings apart in a failure message.
    static func summary(_ views: [DeadlineView]) -> [String] {
        views.map { "\($0.id) \($0.state) \($0.notices.map(\.state).joined(separator: ","))" }
    }

    @Test("the kept answer follows writes, dues passing and days turning")
    func keptAnswersAreCurrent() async throws {
        let harness = try await Harness(start: utc("2026-12-18T07:00:00Z"))
        defer { harness.remove() }

        var (served, fresh) = try await Self.both(harness)
        #expect(!served.isEmpty)
        #expect(Self.summary(served) == Self.summary(fresh))
        // Asked again with nothing changed: the same.
        (served, fresh) = try await Self.both(harness)
        #expect(Self.summary(served) == Self.summary(fresh))

        // A write: the first upcoming deadline done disappears from the planned listing.
        let first = try #require(served.first { $0.state == "upcoming" })
        _ = try await harness.runtime.complete(id: first.id, role: nil, note: nil, by: .daemon)
        (served, fresh) = try await Self.both(harness)
        #expect(!served.contains { $0.id == first.id })
        #expect(Self.summary(served) == Self.summary(fresh))

        // Time passes the next due, on the same day, with no write: it shows as overdue.
        let next = try #require(served.first { $0.state == "upcoming" })
        let due = try #require(Zone.parseRFC3339(next.due))
        harness.clock.set(due.addingTimeInterval(-3600))
        (served, fresh) = try await Self.both(harness)
        #expect(served.first { $0.id == next.id }?.state == "upcoming")
        harness.clock.set(due.addingTimeInterval(1))
        (served, fresh) = try await Self.both(harness)
        #expect(served.first { $0.id == next.id }?.state == "overdue")
        #expect(Self.summary(served) == Self.summary(fresh))
        // The clock set back before that due: upcoming again, not the answer kept at due + 1 s.
        harness.clock.set(due.addingTimeInterval(-1800))
        (served, fresh) = try await Self.both(harness)
        #expect(served.first { $0.id == next.id }?.state == "upcoming")
        #expect(Self.summary(served) == Self.summary(fresh))

        // A new day, and a window reaching a day further.
        harness.clock.set(due.addingTimeInterval(86_400))
        (served, fresh) = try await Self.both(harness)
        #expect(Self.summary(served) == Self.summary(fresh))
        (served, fresh) = try await Self.both(harness, within: 30 * 86_400, limit: 3)
        #expect(Self.summary(served) == Self.summary(fresh))
    }

    @Test("one side of planned with a limit: the first of that side, as filtering the whole listing gives")
    func oneSide() async throws {
        let harness = try await Harness(start: utc("2026-12-18T07:00:00Z"))
        defer { harness.remove() }
        let (all, _) = try await Self.both(harness, within: 120 * 86_400, limit: nil)
        for side in ["upcoming", "overdue"] {
            for limit in [1, 3, 1000] {
                let json = try await harness.runtime.deadlinesJSON(
                    within: 120 * 86_400, agreement: nil, kind: nil, states: [.planned], shown: [side], limit: limit)
                let served = try JSONDecoder().decode([DeadlineView].self, from: Data(json))
                let expected = Array(all.filter { $0.state == side }.prefix(limit))
                #expect(!expected.isEmpty)
                #expect(Self.summary(served) == Self.summary(expected), "\(side), limit \(limit)")
            }
        }
    }
}
