import Foundation
import GRDB
import SamverkanCore
import Testing

@testable import SamverkanStore

@Suite("generations, audit, backup, cases, listings")
struct RecordsTests {
    let scratch = Scratch()
    let store: SQLiteStore
    static let start = utc("2026-06-01T00:00:00Z")

    init() throws { store = try SQLiteStore.open(directory: scratch.path) }

    @Test("config generations count up across restarts")
    func generations() async throws {
        #expect(try await store.latestGeneration() == nil)
        #expect(try await store.recordGeneration(fingerprint: "aaa", requestedBy: "start", at: Self.start) == 1)
        try store.close()
        let restarted = try SQLiteStore.open(directory: scratch.path)
        let later = Self.start.addingTimeInterval(3600)
        #expect(try await restarted.recordGeneration(fingerprint: "bbb", requestedBy: "uid 0 (socket)", at: later) == 2)
        #expect(
            try await restarted.latestGeneration()
                == ConfigGeneration(generation: 2, fingerprint: "bbb", at: later, requestedBy: "uid 0 (socket)"))
    }

    @Test("the audit trail is append-only, even for the daemon's own connection")
    func auditAppendOnly() async throws {
        let first = try await store.appendAudit(
            AuditRecord(at: Self.start, by: Requester(uid: 1000, pid: 77), action: "complete", target: "a/b/2026-12-01")
        )
        let second = try await store.appendAudit(
            AuditRecord(
                at: Self.start, by: Requester(uid: 1001), action: "refused-write", detail: "not in samverkan-admin"))
        #expect(second > first)
        let trail = try await store.auditTrail(limit: 10, before: nil)
        #expect(trail.map(\.action) == ["refused-write", "complete"])
        #expect(trail[1].by == Requester(uid: 1000, pid: 77))
        #expect(try await store.auditTrail(limit: 10, before: second).map(\.id) == [first])

        let update = await #expect(throws: DatabaseError.self) {
            try await store.pool.write { db in try db.execute(sql: "UPDATE audit SET action = 'nothing'") }
        }
        #expect(update?.message == "the audit trail is append-only")
        let delete = await #expect(throws: DatabaseError.self) {
            try await store.pool.write { db in try db.execute(sql: "DELETE FROM audit") }
        }
        #expect(delete?.message == "the audit trail is append-only")
        #expect(try await store.auditTrail(limit: 10, before: nil).count == 2)
    }

    @Test("a backup taken while running opens with the same contents")
    func backup() async throws {
        let plan = [
            deadline(nominal: "2026-12-01", due: "2026-12-01T09:00:00Z", reminders: [("-30d", "2026-11-01T09:00:00Z")]),
            deadline(obligation: "rapport", nominal: "2026-11-20", due: "2026-11-20T09:00:00Z"),
        ]
        _ = try await store.reconcile(plan: plan, window: wideWindow, now: Self.start)
        let claimed = try await store.claimDue(now: utc("2026-11-01T09:00:00Z"), limit: 1)
        try await store.markSent(claimed[0].notice.id, at: utc("2026-11-01T09:00:00Z"), late: false)
        _ = try await store.complete(deadlineID: plan[1].id, at: utc("2026-11-02T09:00:00Z"))
        _ = try await store.appendAudit(AuditRecord(at: Self.start, by: .daemon, action: "backup"))

        let copy = scratch.file("backup.sqlite")
        try await store.backup(to: copy)
        // The daemon goes on writing after the copy.
        _ = try await store.complete(deadlineID: plan[0].id, at: utc("2026-11-03T09:00:00Z"))

        let restored = try SQLiteStore.open(unlockedPath: copy)
        let counts = try await restored.counts()
        #expect(counts.deadlines[.planned] == 1)
        #expect(counts.deadlines[.done] == 1)
        #expect(counts.notices[.sent] == 1)
        #expect(counts.notices[.pending] == 1)
        #expect(counts.notices[.cancelled] == 1)
        #expect(try await restored.deadline(id: plan[1].id) == (try await store.deadline(id: plan[1].id)))
        #expect(try await restored.auditTrail(limit: 5, before: nil).map(\.action) == ["backup"])
        #expect(try await restored.settings().schema == Schema.migrator.migrations)

        let exists = await #expect(throws: StoreError.self) { try await store.backup(to: copy) }
        #expect(exists?.code == .backupFailed)
        #expect(exists?.message == "\(copy) already exists; give a new file name or remove it first")
    }

    @Test("cases: references assigned in sequence, reopening is idempotent, closing completes")
    func cases() async throws {
        @Sendable func smadit(_ reference: String) -> Deadline {
            let id = "avesta-falun/smadit/\(reference)"
            let openedAt = utc("2026-06-01T10:00:00Z")
            return Deadline(
                id: id, agreement: "avesta-falun", obligation: "smadit", kind: "smadit", title: "smadit",
                nominal: LocalDate(dayNumber: 20605), due: openedAt.addingTimeInterval(86_400),
                notices: [
                    PlannedNotice(
                        id: id + "/+1h", slot: "+1h", at: openedAt.addingTimeInterval(3600),
                        recipients: ["mottagande-enhet"]),
                    PlannedNotice(
                        id: id + "/breach", slot: "breach", at: openedAt.addingTimeInterval(86_400),
                        recipients: ["enhetschef"]),
                ], explanation: ["window smadit opened"])
        }
        let openedAt = utc("2026-06-01T10:00:00Z")
        let now = openedAt.addingTimeInterval(60)
        let opening = CaseOpening(
            reference: nil, agreement: "avesta-falun", window: "smadit", openedAt: openedAt, referenceYear: 2026)
        let first = try await store.openCase(opening, now: now, deadline: smadit)
        let second = try await store.openCase(opening, now: now, deadline: smadit)
        #expect(first.record.reference == "2026-0001")
        #expect(second.record.reference == "2026-0002")
        #expect(first.created)
        #expect(first.deadline.deadline.origin == .case)
        #expect(first.deadline.notices.map(\.state) == [.pending, .pending])
        #expect(try await store.nextDue() == openedAt.addingTimeInterval(3600))

        var given = opening
        given.reference = "2026-123456"
        _ = try await store.openCase(given, now: now, deadline: smadit)
        #expect(try await store.openCase(opening, now: now, deadline: smadit).record.reference == "2026-123457")

        var again = opening
        again.reference = "2026-0001"
        let same = try await store.openCase(again, now: now, deadline: smadit)
        #expect(!same.created)
        #expect(same.record == first.record)
        again.openedAt = openedAt.addingTimeInterval(-600)
        let conflict = await #expect(throws: StoreError.self) {
            try await store.openCase(again, now: now, deadline: smadit)
        }
        #expect(conflict?.code == .conflict)

        let closedAt = openedAt.addingTimeInterval(7200)
        let closed = try await store.closeCase(reference: "2026-0001", outcome: "contacted", by: .daemon, at: closedAt)
        #expect(closed.outcome == "contacted")
        #expect(!closed.isOpen)
        let detail = try #require(try await store.deadline(id: first.record.deadlineID))
        #expect(detail.deadline.state == .done)
        #expect(detail.notices.map(\.state) == [.cancelled, .cancelled])
        #expect(detail.notices.map(\.reason) == [.caseClosed, .caseClosed])
        #expect(detail.completions.map(\.note) == ["case closed: contacted"])
        #expect(
            try await store.closeCase(reference: "2026-0001", outcome: "contacted", by: .daemon, at: closedAt) == closed
        )
        let other = await #expect(throws: StoreError.self) {
            try await store.closeCase(reference: "2026-0001", outcome: "declined", by: .daemon, at: closedAt)
        }
        #expect(other?.code == .conflict)
        let unknown = await #expect(throws: StoreError.self) {
            try await store.closeCase(reference: "2026-9999", outcome: "declined", by: .daemon, at: closedAt)
        }
        #expect(unknown?.code == .unknownCase)

        #expect(try await store.openCases().map(\.reference) == ["2026-0002", "2026-123456", "2026-123457"])
        #expect(try await store.cases(closedSince: closedAt).count == 4)
        #expect(try await store.cases(closedSince: closedAt.addingTimeInterval(1)).count == 3)
    }

    @Test("listings filter by due, agreement, kind and state, sorted by due, with notices")
    func listings() async throws {
        let plan = [
            deadline(nominal: "2026-12-01", due: "2026-12-01T09:00:00Z", reminders: [("-30d", "2026-11-01T09:00:00Z")]),
            deadline(obligation: "rapport", nominal: "2026-11-20", due: "2026-11-20T09:00:00Z", kind: "report"),
            deadline(
                agreement: "mora", obligation: "rapport", nominal: "2026-11-25", due: "2026-11-25T09:00:00Z",
                kind: "report"),
            deadline(obligation: "gammal", nominal: "2026-06-10", due: "2026-06-10T09:00:00Z"),
            deadline(obligation: "klar", nominal: "2026-06-11", due: "2026-06-11T09:00:00Z"),
        ]
        _ = try await store.reconcile(plan: plan, window: wideWindow, now: Self.start)
        _ = try await store.complete(deadlineID: plan[4].id, at: Self.start)
        let from = utc("2026-11-01T00:00:00Z")
        let through = utc("2026-11-30T23:59:59Z")

        let month = try await store.deadlines(DeadlineQuery(dueFrom: from, dueThrough: through))
        #expect(month.map(\.deadline.id) == [plan[1].id, plan[2].id])
        let upcoming = try await store.deadlines(
            DeadlineQuery(dueFrom: from, dueThrough: through, includeOverdue: true))
        #expect(upcoming.map(\.deadline.id) == [plan[3].id, plan[1].id, plan[2].id], "overdue and not done first")
        let avesta = try await store.deadlines(DeadlineQuery(agreement: "avesta-falun", kind: "report"))
        #expect(avesta.map(\.deadline.id) == [plan[1].id])
        let done = try await store.deadlines(DeadlineQuery(states: [.done]))
        #expect(done.map(\.deadline.id) == [plan[4].id])
        let first = try await store.deadlines(DeadlineQuery(limit: 1))
        #expect(first.map(\.deadline.id) == [plan[3].id])
        let all = try await store.deadlines(DeadlineQuery())
        #expect(all.last?.deadline.id == plan[0].id)
        #expect(all.last?.notices.map(\.slot) == ["-30d", "due"])
        #expect(all.last?.deadline.explanation == ["nominal date: 2026-12-01"])
        #expect(all.last?.notices.first?.recipients == ["samordnare"])
    }
}
