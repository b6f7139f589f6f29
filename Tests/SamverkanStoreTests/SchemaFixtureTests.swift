import Foundation
import GRDB
import SamverkanCore
import Testing

@testable import SamverkanStore

/// Stores written by earlier schema versions, kept as `sqlite3 .dump` text under `Fixtures/`
/// (`store-v1.sql`, …), are opened and migrated by this build and read back.
///
/// When a schema version is released, write its fixture once with
/// `SAMVERKAN_WRITE_STORE_FIXTURE=vN swift test --filter SchemaFixtureTests` (needs the sqlite3
/// shell) and commit it; never regenerate an old one, since the point is that it was written by
/// the old code.
@Suite("stores written by earlier versions")
struct SchemaFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")
    static let round = SamverkanStoreTests.round(
        nominal: "2026-11-30", due: "2026-11-30T09:00:00Z",
        reminders: [("-5wd", "2026-11-23T09:00:00Z"), ("-1wd", "2026-11-27T09:00:00Z")],
        respondents: ["fritid", "skola"])
    static let review = deadline(
        nominal: "2026-12-01", due: "2026-12-01T09:00:00Z", reminders: [("-30d", "2026-11-01T09:00:00Z")])
    static let report = deadline(obligation: "rapport", nominal: "2026-11-20", due: "2026-11-20T09:00:00Z")
    static let meeting = deadline(obligation: "mote", nominal: "2027-05-03", due: "2027-05-03T12:00:00Z")

    @Test(
        "write the fixture of the current schema",
        .enabled(if: ProcessInfo.processInfo.environment["SAMVERKAN_WRITE_STORE_FIXTURE"] != nil))
    func writeFixture() async throws {
        let version = try #require(ProcessInfo.processInfo.environment["SAMVERKAN_WRITE_STORE_FIXTURE"])
        let scratch = Scratch()
        let store = try SQLiteStore.open(directory: scratch.path)
        let start = utc("2026-06-01T00:00:00Z")
        let plan = [Self.report, Self.round, Self.review, Self.meeting]
        _ = try await store.reconcile(plan: plan, window: wideWindow, now: start, fingerprint: "fixture-\(version)")
        _ = try await store.reconcile(plan: Array(plan.dropLast()), window: wideWindow, now: start)
        let sent = try await store.claimDue(now: utc("2026-11-01T09:00:00Z"), limit: 10)
        try await store.recordAttempt(
            DeliveryRecord(noticeID: sent[0].notice.id, sink: "outbox", at: utc("2026-11-01T09:00:01Z"), outcome: .ok))
        try await store.markSent(sent[0].notice.id, at: utc("2026-11-01T09:00:01Z"), late: false)
        _ = try await store.complete(
            deadlineID: Self.report.id, role: nil, by: Requester(uid: 1000, pid: 4242), note: "klar",
            at: utc("2026-11-02T10:00:00Z"))
        _ = try await store.complete(
            deadlineID: Self.round.id, role: "skola", by: Requester(uid: 1001), note: nil,
            at: utc("2026-11-24T08:00:00Z"))
        let openedAt = utc("2026-06-01T10:00:00Z")
        _ = try await store.openCase(
            CaseOpening(
                reference: nil, agreement: "avesta-falun", window: "smadit", openedAt: openedAt, referenceYear: 2026),
            now: openedAt
        ) { reference in
            Deadline(
                id: "avesta-falun/smadit/\(reference)", agreement: "avesta-falun", obligation: "smadit", kind: "smadit",
                title: "smadit", nominal: LocalDate(dayNumber: 20605), due: openedAt.addingTimeInterval(86_400),
                notices: [
                    PlannedNotice(
                        id: "avesta-falun/smadit/\(reference)/breach", slot: "breach",
                        at: openedAt.addingTimeInterval(86_400),
                        recipients: ["enhetschef"])
                ], explanation: ["window smadit opened"])
        }
        _ = try await store.recordGeneration(fingerprint: "fixture-\(version)", requestedBy: "start", at: start)
        try await store.appendAudit(
            AuditRecord(
                at: utc("2026-11-02T10:00:00Z"), by: Requester(uid: 1000, pid: 4242), action: "complete",
                target: Self.report.id))
        try store.close()

        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        shell.arguments = [scratch.file("samverkan.sqlite"), ".dump"]
        let output = Pipe()
        shell.standardOutput = output
        try shell.run()
        let dump = output.fileHandleForReading.readDataToEndOfFile()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        try dump.write(to: Self.fixtures.appendingPathComponent("store-\(version).sql"))
    }

    static let versions: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? [])
            .filter { $0.hasPrefix("store-") && $0.hasSuffix(".sql") }.sorted()
    }()

    @Test("every earlier schema has a fixture") func fixturesExist() {
        #expect(Self.versions == ["store-v1.sql", "store-v2.sql"])
    }

    @Test("a store written by an earlier schema opens, is migrated and reads back", arguments: versions)
    func opensEarlierStore(_ file: String) async throws {
        let version = file.dropFirst("store-".count).dropLast(".sql".count)
        let scratch = Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        let dump = try String(contentsOf: Self.fixtures.appendingPathComponent(file), encoding: .utf8)
        let queue = try DatabaseQueue(path: scratch.file("samverkan.sqlite"))
        try await queue.writeWithoutTransaction { db in try db.execute(sql: dump) }
        try queue.close()

        let store = try SQLiteStore.open(directory: scratch.path)
        let settings = try await store.settings()
        #expect(settings.schema == Schema.migrator.migrations)
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2)

        let counts = try await store.counts()
        #expect(counts.deadlines == [.planned: 3, .done: 1, .cancelled: 1])
        #expect(
            counts.notices == [
                .pending: 5, .sending: 0, .sent: 1, .failed: 0, .dead: 0, .cancelled: 4, .superseded: 0, .skipped: 0,
            ])

        let review = try #require(try await store.deadline(id: Self.review.id))
        #expect(review.deadline.due == utc("2026-12-01T09:00:00Z"))
        #expect(review.deadline.nominal == LocalDate(iso: "2026-12-01"))
        #expect(review.deadline.firstSeen == utc("2026-06-01T00:00:00Z"))
        #expect(review.deadline.explanation == ["nominal date: 2026-12-01"])
        #expect(review.notices.map(\.state) == [.sent, .pending])
        #expect(review.notices.first?.attempts == 1)
        #expect(
            review.deliveries == [
                DeliveryRecord(
                    noticeID: Self.review.id + "/-30d", sink: "outbox", at: utc("2026-11-01T09:00:01Z"), outcome: .ok)
            ])

        let report = try #require(try await store.deadline(id: Self.report.id))
        #expect(report.deadline.state == .done)
        #expect(report.completions.map(\.by) == [Requester(uid: 1000, pid: 4242)])
        #expect(report.notices.map(\.reason) == [.completed])

        let round = try #require(try await store.deadline(id: Self.round.id))
        #expect(
            round.notices.filter { $0.role == "skola" }.allSatisfy { $0.state == .cancelled && $0.reason == .answered })
        #expect(round.notices.first { $0.slot == "summary" }?.role == nil)
        #expect(try await store.deadline(id: Self.meeting.id)?.deadline.state == .cancelled)

        #expect(try await store.openCases().map(\.reference) == ["2026-0001"])
        #expect(try await store.latestGeneration()?.fingerprint == "fixture-\(version)")
        #expect(try await store.lastReconcile()?.fingerprint == "fixture-\(version)")
        #expect(try await store.auditTrail(limit: 10, before: nil).map(\.action) == ["complete"])

        // The migrated schema is exactly a new store's, and still refuses a state no reader knows.
        let fresh = try SQLiteStore.open(directory: Scratch().path)
        #expect(try await Self.schema(of: store) == Self.schema(of: fresh))
        try fresh.close()
        await #expect(throws: DatabaseError.self) {
            try await store.pool.write { db in
                try db.execute(
                    sql: "UPDATE notice SET state = 'lost' WHERE id = ?", arguments: [Self.review.id + "/-30d"])
            }
        }

        // The same plan finds nothing to change, whatever fingerprints the old build stored.
        let again = try await store.reconcile(
            plan: [Self.report, Self.round, Self.review], window: wideWindow, now: utc("2026-06-01T00:00:00Z"))
        #expect(again.isEmpty, "\(again)")

        // It goes on working: the next notices are due, and the audit trail stays append-only.
        #expect(try await store.nextDue() == utc("2026-06-02T10:00:00Z"))
        let due = try await store.claimDue(now: utc("2026-11-23T09:00:00Z"), limit: 10)
        #expect(due.map(\.notice.id) == ["avesta-falun/smadit/2026-0001/breach", Self.round.id + "/-5wd/fritid"])
        await #expect(throws: DatabaseError.self) {
            try await store.pool.write { db in try db.execute(sql: "DELETE FROM audit") }
        }
    }

    /// Every table, index and trigger with its SQL, by name.
    static func schema(of store: SQLiteStore) async throws -> [String] {
        try await store.pool.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
        }
    }
}
