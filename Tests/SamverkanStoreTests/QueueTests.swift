import Foundation
import GRDB
import SamverkanCore
import Testing

@testable import SamverkanStore

@Suite("delivery queue")
struct QueueTests {
    let scratch = Scratch()
    let store: SQLiteStore
    static let start = utc("2026-06-01T00:00:00Z")

    init() throws { store = try SQLiteStore.open(directory: scratch.path) }

    /// Reminders 30, 7 and 1 days before 2026-12-01 09:00 UTC, and the due notice.
    static let review = deadline(
        nominal: "2026-12-01", due: "2026-12-01T09:00:00Z",
        reminders: [("-30d", "2026-11-01T09:00:00Z"), ("-7d", "2026-11-24T09:00:00Z"), ("-1d", "2026-11-30T09:00:00Z")])
    static let report = deadline(obligation: "rapport", nominal: "2026-11-20", due: "2026-11-20T09:00:00Z")
    static let renewal = deadline(obligation: "avtalets-slut", nominal: "2027-03-01", due: "2027-03-01T09:00:00Z")

    func plan(_ deadlines: [Deadline]) async throws {
        _ = try await store.reconcile(plan: deadlines, window: wideWindow, now: Self.start)
    }

    @Test("nextDue is the earliest pending or failed notice")
    func nextDue() async throws {
        #expect(try await store.nextDue() == nil)
        try await plan([Self.review, Self.renewal])
        #expect(try await store.nextDue() == utc("2026-11-01T09:00:00Z"))
        let next = try #require(try await store.nextNotice())
        #expect(next.notice.id == Self.review.id + "/-30d")
        #expect(next.deadline.id == Self.review.id)

        let claimed = try await store.claimDue(now: utc("2026-11-01T09:00:00Z"), limit: 10)
        #expect(try await store.nextDue() == utc("2026-11-24T09:00:00Z"))
        try await store.markRetry(
            claimed[0].notice.id, retryAt: utc("2026-11-01T09:00:30Z"), now: utc("2026-11-01T09:00:01Z"))
        #expect(try await store.nextDue() == utc("2026-11-01T09:00:30Z"))
        #expect(try await store.nextNotice()?.notice.state == .failed)
    }

    @Test("nextDue is answered from the index, not by scanning notices")
    func nextDueUsesTheIndex() async throws {
        try await plan([Self.review, Self.report, Self.renewal])
        let plan = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteStore.nextDueSQL).map { row -> String in
                try row.decode(String.self, forColumn: "detail")
            }
        }
        let searches = plan.filter { $0.contains("notice") }
        #expect(searches.count == 2, "one probe per waiting state: \(plan)")
        #expect(
            searches.allSatisfy { $0.contains("USING COVERING INDEX notice_queue (state=?)") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN notice") }, "\(plan)")
    }

    @Test("claimDue commits sending before it returns, oldest first, within the limit")
    func claimCommitsSending() async throws {
        try await plan([Self.review, Self.report, Self.renewal])
        let now = utc("2026-11-25T00:00:00Z")
        let due = try await store.catchUp(now: utc("2026-10-01T00:00:00Z"))  // nothing missed yet
        #expect(due.isEmpty)
        let claimed = try await store.claimDue(now: now, limit: 2)
        #expect(claimed.map(\.notice.id) == [Self.review.id + "/-30d", Self.report.id + "/due"])
        #expect(claimed.allSatisfy { $0.notice.state == .sending && $0.notice.attempts == 1 })
        #expect(claimed[1].deadline.obligation == "rapport")

        // Another connection, as after a crash, sees the claim.
        let other = try DatabaseQueue(path: store.path)
        let states = try await other.read { db in
            try Row.fetchAll(db, sql: "SELECT id, state, attempts FROM notice WHERE state = 'sending' ORDER BY id")
                .map { try "\($0.decode(String.self, forColumn: "id")) \($0.decode(Int.self, forColumn: "attempts"))" }
        }
        #expect(states == [Self.review.id + "/-30d 1", Self.report.id + "/due 1"])
        try other.close()

        let rest = try await store.claimDue(now: now, limit: 10)
        #expect(rest.map(\.notice.id) == [Self.review.id + "/-7d"])
        #expect(try await store.claimDue(now: now, limit: 10).isEmpty)
    }

    @Test("concurrent claims never hand out the same notice twice")
    func concurrentClaims() async throws {
        let many = (1...40).map { day in
            deadline(
                obligation: "d\(day)", nominal: "2026-07-01",
                due: String(format: "2026-07-01T09:%02d:00Z", day % 60))
        }
        try await plan(many)
        let store = self.store
        let now = utc("2026-07-02T00:00:00Z")
        let ids = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var mine: [String] = []
                    while case let batch = try await store.claimDue(now: now, limit: 3), !batch.isEmpty {
                        mine += batch.map(\.notice.id)
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(ids.count == 40)
        #expect(Set(ids).count == 40)
    }

    @Test("notices left in sending are recovered after a restart with the same id")
    func recoversSending() async throws {
        try await plan([Self.report])
        let claimed = try await store.claimDue(now: utc("2026-11-20T09:00:00Z"), limit: 10)
        #expect(claimed.map(\.notice.id) == [Self.report.id + "/due"])
        try store.close()  // the daemon dies before the sink returns

        let restarted = try SQLiteStore.open(directory: scratch.path)
        let recovered = try await restarted.recoverSending(now: utc("2026-11-20T09:05:00Z"))
        #expect(recovered.map(\.notice.id) == [Self.report.id + "/due"])
        #expect(recovered[0].notice.attempts == 2)
        #expect(recovered[0].deadline.id == Self.report.id)
        try await restarted.recordAttempt(
            DeliveryRecord(
                noticeID: Self.report.id + "/due", sink: "outbox", at: utc("2026-11-20T09:05:01Z"), outcome: .ok))
        try await restarted.markSent(Self.report.id + "/due", at: utc("2026-11-20T09:05:01Z"), late: false)
        #expect(try await restarted.recoverSending(now: utc("2026-11-20T09:06:00Z")).isEmpty)
        let detail = try #require(try await restarted.deadline(id: Self.report.id))
        #expect(detail.notices[0].state == .sent)
        #expect(detail.deliveries.map(\.sink) == ["outbox"])
    }

    @Test("retry, dead letter and sent; a completion during sending wins over a retry")
    func deliveryOutcomes() async throws {
        try await plan([Self.review])
        let now = utc("2026-11-30T09:00:00Z")
        _ = try await store.catchUp(now: utc("2026-11-01T09:00:00Z"))
        let claimed = try await store.claimDue(now: now, limit: 10).map(\.notice.id)
        #expect(claimed == [Self.review.id + "/-30d", Self.review.id + "/-7d", Self.review.id + "/-1d"])

        try await store.recordAttempt(
            DeliveryRecord(noticeID: claimed[0], sink: "mail", at: now, outcome: .transient, error: "421 try later"))
        try await store.markRetry(claimed[0], retryAt: now.addingTimeInterval(30), now: now)
        try await store.recordAttempt(
            DeliveryRecord(noticeID: claimed[1], sink: "mail", at: now, outcome: .permanent, error: "550 no such user"))
        try await store.markDead(claimed[1], now: now)
        try await store.markSent(claimed[2], at: now, late: true)

        var states = try await store.noticeStates(Self.review.id)
        #expect(states[claimed[0]] == .failed)
        #expect(states[claimed[1]] == .dead)
        #expect(states[claimed[2]] == .sent)
        #expect(try await store.counts().deadLetters == 1)
        let detail = try #require(try await store.deadline(id: Self.review.id))
        #expect(detail.deliveries.map(\.outcome) == [.transient, .permanent])
        #expect(detail.deliveries.map(\.error) == ["421 try later", "550 no such user"])
        #expect(detail.notices.first { $0.id == claimed[2] }?.late == true)

        // The failed one is claimed again; the deadline is completed while it is out.
        let retry = try await store.claimDue(now: now.addingTimeInterval(30), limit: 10)
        #expect(retry.map(\.notice.id) == [claimed[0]])
        #expect(retry[0].notice.attempts == 2)
        _ = try await store.complete(deadlineID: Self.review.id, at: now.addingTimeInterval(31))
        try await store.markRetry(claimed[0], retryAt: now.addingTimeInterval(90), now: now.addingTimeInterval(32))
        states = try await store.noticeStates(Self.review.id)
        #expect(states[claimed[0]] == .cancelled, "not revived into the queue by a retry")
        #expect(states[Self.review.id + "/due"] == .cancelled)

        let unknown = await #expect(throws: StoreError.self) {
            try await store.markSent("avesta-falun/nope/2026-01-01/due", at: now, late: false)
        }
        #expect(unknown?.code == .unknownNotice)
    }

    @Test("missed while down: per deadline only the latest is sent late, the others superseded")
    func catchUpLatestOnly() async throws {
        let round = round(
            nominal: "2026-11-30", due: "2026-11-30T09:00:00Z",
            reminders: [("-5wd", "2026-11-23T09:00:00Z"), ("-1wd", "2026-11-27T09:00:00Z")],
            respondents: ["fritid", "skola"])
        try await plan([Self.review, Self.report, Self.renewal, round])
        // Down from 2026-10-30 to 2026-11-29 (just under 30 days).
        let now = utc("2026-11-29T12:00:00Z")
        let report = try await store.catchUp(now: now)

        let actions = Dictionary(uniqueKeysWithValues: report.missed.map { ($0.noticeID, $0.action) })
        #expect(
            actions == [
                Self.review.id + "/-30d": .superseded(by: Self.review.id + "/-7d"),
                Self.review.id + "/-7d": .sendLate,
                Self.report.id + "/due": .sendLate,
                round.id + "/-5wd/fritid": .superseded(by: round.id + "/-1wd/fritid"),
                round.id + "/-5wd/skola": .superseded(by: round.id + "/-1wd/skola"),
                round.id + "/-1wd/fritid": .sendLate,
                round.id + "/-1wd/skola": .sendLate,
            ])
        #expect(report.summary == "7 notices missed: 4 sent late, 3 superseded")
        #expect(
            report.toSend.map(\.notice.id).sorted() == [
                Self.review.id + "/-7d", round.id + "/-1wd/fritid", round.id + "/-1wd/skola", Self.report.id + "/due",
            ])
        #expect(report.toSend.allSatisfy { $0.notice.state == .sending && $0.notice.late })

        let states = try await store.noticeStates(Self.review.id)
        #expect(states[Self.review.id + "/-30d"] == .superseded)
        #expect(states[Self.review.id + "/-7d"] == .sending)
        #expect(states[Self.review.id + "/-1d"] == .pending)
        #expect(try await store.deadline(id: Self.review.id)?.notices.first?.reason == .superseded)

        // The dispatcher need not know: late stays set.
        try await store.markSent(Self.review.id + "/-7d", at: now, late: false)
        #expect(try await store.deadline(id: Self.review.id)?.notices.first { $0.slot == "-7d" }?.late == true)
        // Catching up again finds nothing; the future is untouched.
        #expect(try await store.catchUp(now: now).isEmpty)
        #expect(try await store.nextDue() == utc("2026-11-30T09:00:00Z"))
    }
}
