import Foundation
import SamverkanCore
import Testing

@testable import SamverkanStore

@Suite("completion")
struct CompletionTests {
    let scratch = Scratch()
    let store: SQLiteStore
    static let start = utc("2026-06-01T00:00:00Z")
    static let review = deadline(
        nominal: "2026-12-01", due: "2026-12-01T09:00:00Z",
        reminders: [("-30d", "2026-11-01T09:00:00Z"), ("-7d", "2026-11-24T09:00:00Z")])
    static let round = SamverkanStoreTests.round(
        nominal: "2026-11-30", due: "2026-11-30T09:00:00Z",
        reminders: [("-5wd", "2026-11-23T09:00:00Z"), ("-1wd", "2026-11-27T09:00:00Z")],
        respondents: ["fritid", "kommunpolis", "skola"])

    init() throws { store = try SQLiteStore.open(directory: scratch.path) }

    @Test("done: pending notices cancelled, sent ones kept, twice is harmless")
    func wholeDeadline() async throws {
        _ = try await store.reconcile(plan: [Self.review], window: wideWindow, now: Self.start)
        let first = try await store.claimDue(now: utc("2026-11-01T09:00:00Z"), limit: 1)
        try await store.markSent(first[0].notice.id, at: utc("2026-11-01T09:00:01Z"), late: false)

        let at = utc("2026-11-10T14:00:00Z")
        let result = try await store.complete(
            deadlineID: Self.review.id, role: nil, by: Requester(uid: 1000, pid: 4242), note: "klart i BRÅ", at: at)
        #expect(result.isDone)
        #expect(!result.alreadyRecorded)
        #expect(result.cancelledNotices == [Self.review.id + "/-7d", Self.review.id + "/due"])
        #expect(
            try await store.noticeStates(Self.review.id) == [
                Self.review.id + "/-30d": .sent, Self.review.id + "/-7d": .cancelled,
                Self.review.id + "/due": .cancelled,
            ])
        #expect(try await store.nextDue() == nil)

        let again = try await store.complete(deadlineID: Self.review.id, at: at.addingTimeInterval(60))
        #expect(again.alreadyRecorded)
        #expect(again.isDone)
        #expect(again.cancelledNotices.isEmpty)
        let detail = try #require(try await store.deadline(id: Self.review.id))
        #expect(detail.deadline.state == .done)
        #expect(
            detail.completions == [
                CompletionRecord(
                    deadlineID: Self.review.id, role: nil, at: at, by: Requester(uid: 1000, pid: 4242),
                    note: "klart i BRÅ")
            ])
        #expect(detail.notices.first { $0.slot == "due" }?.reason == .completed)
    }

    @Test("an unknown deadline is a typed error that says where to look")
    func unknownDeadline() async throws {
        let error = await #expect(throws: StoreError.self) {
            try await store.complete(deadlineID: "avesta-falun/nope/2026-01-01", at: Self.start)
        }
        #expect(error?.code == .unknownDeadline)
        #expect(
            error?.message
                == "no deadline avesta-falun/nope/2026-01-01 in the store; `samverkanctl upcoming` lists deadlines and their ids"
        )
    }

    @Test("a collection round: each answer stops that respondent's reminders; done when all have answered")
    func perRole() async throws {
        _ = try await store.reconcile(plan: [Self.round, Self.review], window: wideWindow, now: Self.start)
        let at = utc("2026-11-24T10:00:00Z")
        let skola = try await store.complete(deadlineID: Self.round.id, role: "skola", by: .daemon, note: nil, at: at)
        #expect(skola.state == .planned)
        #expect(skola.cancelledNotices == [Self.round.id + "/-1wd/skola", Self.round.id + "/-5wd/skola"])
        #expect(skola.answered == ["skola"])
        #expect(skola.waitingFor == ["fritid", "kommunpolis"])
        var states = try await store.noticeStates(Self.round.id)
        #expect(states[Self.round.id + "/-1wd/fritid"] == .pending)
        #expect(states[Self.round.id + "/summary"] == .pending)
        #expect(try await store.deadline(id: Self.round.id)?.notices.first { $0.role == "skola" }?.reason == .answered)

        let twice = try await store.complete(deadlineID: Self.round.id, role: "skola", by: .daemon, note: nil, at: at)
        #expect(twice.alreadyRecorded)
        #expect(twice.cancelledNotices.isEmpty)

        _ = try await store.complete(deadlineID: Self.round.id, role: "fritid", by: .daemon, note: nil, at: at)
        let last = try await store.complete(
            deadlineID: Self.round.id, role: "kommunpolis", by: .daemon, note: "lugnt", at: at)
        #expect(last.isDone)
        #expect(last.waitingFor.isEmpty)
        #expect(last.answered == ["fritid", "kommunpolis", "skola"])
        #expect(last.cancelledNotices.contains(Self.round.id + "/summary"))
        states = try await store.noticeStates(Self.round.id)
        #expect(states.values.allSatisfy { $0 == .cancelled })
        #expect(try await store.deadline(id: Self.round.id)?.completions.count == 3)

        let unknownRole = await #expect(throws: StoreError.self) {
            try await store.complete(deadlineID: Self.round.id, role: "rektor", by: .daemon, note: nil, at: at)
        }
        #expect(unknownRole?.code == .unknownRole)
        #expect(
            unknownRole?.message
                == "avesta-falun/lagesbild/2026-11-30 has no respondent 'rektor'; its respondents are fritid, kommunpolis, skola"
        )
        let notARound = await #expect(throws: StoreError.self) {
            try await store.complete(deadlineID: Self.review.id, role: "skola", by: .daemon, note: nil, at: at)
        }
        #expect(notARound?.code == .notARound)
    }

    @Test("the coordinator completes a round as a whole")
    func roundAsAWhole() async throws {
        _ = try await store.reconcile(plan: [Self.round], window: wideWindow, now: Self.start)
        _ = try await store.complete(deadlineID: Self.round.id, role: "skola", by: .daemon, note: nil, at: Self.start)
        let whole = try await store.complete(deadlineID: Self.round.id, at: Self.start)
        #expect(whole.isDone)
        #expect(whole.waitingFor == ["fritid", "kommunpolis"], "still shown: who never answered")
        #expect(try await store.noticeStates(Self.round.id).values.allSatisfy { $0 == .cancelled })
    }
}
