import Foundation
import SamverkanCore
import Testing

@testable import SamverkanStore

/// The answers `status` reads are kept between writes; every write must show in the next one.
@Suite("answers kept until the next write")
struct MemoTests {
    let scratch = Scratch()
    let store: SQLiteStore

    init() throws { store = try SQLiteStore.open(directory: scratch.path) }

    static let review = QueueTests.review
    static let report = QueueTests.report
    static let renewal = QueueTests.renewal

    @Test("counts and the next notice follow every write")
    func countsFollowWrites() async throws {
        #expect(try await store.counts().deadlines[.planned] == 0)
        #expect(try await store.nextNotice() == nil)
        _ = try await store.reconcile(plan: [Self.review, Self.renewal], window: wideWindow, now: QueueTests.start)
        #expect(try await store.counts().deadlines[.planned] == 2)
        #expect(try await store.counts().notices[.pending] == 5)
        #expect(try await store.nextNotice()?.notice.id == Self.review.id + "/-30d")

        _ = try await store.claimDue(now: utc("2026-11-01T09:00:00Z"), limit: 10)
        #expect(try await store.counts().notices[.sending] == 1)
        #expect(try await store.nextNotice()?.notice.id == Self.review.id + "/-7d")

        _ = try await store.complete(deadlineID: Self.review.id, at: utc("2026-11-02T09:00:00Z"))
        let counts = try await store.counts()
        #expect(counts.deadlines[.planned] == 1)
        #expect(counts.deadlines[.done] == 1)
        #expect(try await store.nextNotice()?.notice.id == Self.renewal.id + "/due")
    }

    @Test("many callers at once share one read and all get the answer")
    func concurrentCallers() async throws {
        _ = try await store.reconcile(plan: [Self.review, Self.renewal], window: wideWindow, now: QueueTests.start)
        let store = self.store
        let planned = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<64 { group.addTask { try await store.counts().deadlines[.planned] ?? -1 } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(planned == Array(repeating: 2, count: 64))
    }

    @Test("the next deadline moves on as time passes its due, with no write between")
    func nextDeadlineFollowsTime() async throws {
        _ = try await store.reconcile(
            plan: [Self.review, Self.report, Self.renewal], window: wideWindow, now: QueueTests.start)
        #expect(try await store.nextDeadline(dueFrom: utc("2026-11-01T00:00:00Z"))?.deadline.id == Self.report.id)
        #expect(try await store.nextDeadline(dueFrom: utc("2026-11-20T09:00:00Z"))?.deadline.id == Self.report.id)
        #expect(try await store.nextDeadline(dueFrom: utc("2026-11-20T09:00:01Z"))?.deadline.id == Self.review.id)
        #expect(try await store.nextDeadline(dueFrom: utc("2027-03-01T09:00:01Z")) == nil)
        // The clock set back: the earlier answer again.
        #expect(try await store.nextDeadline(dueFrom: utc("2026-11-01T00:00:00Z"))?.deadline.id == Self.report.id)
        // A write in between: the report done, the review is next from the same time.
        _ = try await store.complete(deadlineID: Self.report.id, at: utc("2026-11-02T09:00:00Z"))
        #expect(try await store.nextDeadline(dueFrom: utc("2026-11-01T00:00:00Z"))?.deadline.id == Self.review.id)
    }

    @Test("overdue: planned and due before now, following time and writes")
    func overdueCount() async throws {
        _ = try await store.reconcile(
            plan: [Self.review, Self.report, Self.renewal], window: wideWindow, now: QueueTests.start)
        #expect(try await store.overdueCount(now: utc("2026-11-01T00:00:00Z")) == 0)
        #expect(try await store.overdueCount(now: utc("2026-11-20T09:00:00Z")) == 0)
        #expect(try await store.overdueCount(now: utc("2026-11-20T09:00:01Z")) == 1)
        #expect(try await store.overdueCount(now: utc("2027-06-01T00:00:00Z")) == 3)
        #expect(try await store.overdueCount(now: utc("2026-12-01T09:00:01Z")) == 2)
        _ = try await store.complete(deadlineID: Self.report.id, at: utc("2026-11-21T09:00:00Z"))
        #expect(try await store.overdueCount(now: utc("2026-12-01T09:00:01Z")) == 1)
    }

    @Test("a listing reads each deadline's own notices, in time order")
    func listingNotices() async throws {
        _ = try await store.reconcile(
            plan: [Self.review, Self.report, Self.renewal], window: wideWindow, now: QueueTests.start)
        let listing = try await store.deadlines(DeadlineQuery())
        #expect(listing.map(\.deadline.id) == [Self.report.id, Self.review.id, Self.renewal.id])
        #expect(listing.map { $0.notices.map(\.slot) } == [["due"], ["-30d", "-7d", "-1d", "due"], ["due"]])
        #expect(listing.allSatisfy { $0.notices.allSatisfy { $0.recipients == ["samordnare"] } })
    }

    @Test(
        "string arrays round-trip, escaped or not",
        arguments: [[], ["samordnare"], ["a", "b c", "å ä ö"], ["quote \" and \\ back", "tab\t"], [""], ["", ""]])
    func stringArrays(values: [String]) {
        #expect(JSONText.strings(JSONText.array(values)) == values)
    }

    @Test(
        "string arrays are written without spaces, escaping only what JSON must",
        arguments: [
            ([], "[]"), (["samordnare"], #"["samordnare"]"#), (["a", "b c", "å ä ö"], #"["a","b c","å ä ö"]"#),
            (["q \" b \\ n \n t \t bell \u{7}", ""], #"["q \" b \\ n \n t \t bell \u0007",""]"#),
        ])
    func arrayText(values: [String], text: String) {
        #expect(JSONText.array(values) == text)
    }

    @Test(
        "a notice's respondent is what follows DEADLINE/SLOT/ in its id, if anything",
        arguments: [
            ("a/b/2026-01-01/due", "due", nil), ("a/b/2026-01-01/-5wd/skola", "-5wd", "skola"),
            ("a/b/2026-01-01/-5wd/x", "-5wd", "x"), ("a/b/2026-01-01/-5wd/", "-5wd", nil),
            ("c/b/2026-01-01/-5wd/skola", "-5wd", nil), ("a/b/2026-01-01/-5d/skola", "-5wd", nil),
        ] as [(String, String, String?)])
    func respondent(id: String, slot: String, role: String?) {
        let notice = PlannedNotice(id: id, slot: slot, at: .distantPast, recipients: [])
        #expect(notice.role(deadlineID: "a/b/2026-01-01") == role)
    }
}
