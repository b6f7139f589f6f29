import Foundation
import GRDB
import SamverkanCore
import Testing

@testable import SamverkanStore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("opening the store")
struct OpeningTests {
    @Test("closed from async code while reads are in flight: it returns, a second close does nothing, the lock is free")
    func closeOffExecutor() async throws {
        let scratch = Scratch()
        let store = try SQLiteStore.open(directory: scratch.path)
        let reads = (0..<16).map { _ in Task { try await store.counts() } }
        try await store.closeOffExecutor()
        for read in reads { _ = try? await read.value }
        try store.close()
        try await store.closeOffExecutor()
        let again = try SQLiteStore.open(directory: scratch.path)
        #expect(try await again.nextDue() == nil)
        try again.close()
    }

    @Test("an empty state directory gets a migrated store in WAL mode with synchronous FULL")
    func migratesFromEmpty() async throws {
        let scratch = Scratch()
        let store = try SQLiteStore.open(directory: scratch.path)
        let settings = try await store.settings()
        #expect(settings.schema == ["v1", "v2-checks-without-in"])
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2, "FULL on the writer, not GRDB's NORMAL")
        #expect(settings.cacheSize == -8_192, "8 MiB of page cache on the writer")
        #expect(settings.foreignKeys)
        #expect(settings.path == scratch.file("samverkan.sqlite"))
        let counts = try await store.counts()
        #expect(counts.deadlines.values.allSatisfy { $0 == 0 })
        #expect(counts.notices.count == NoticeState.allCases.count)
        #expect(try await store.nextDue() == nil)
        try store.close()

        // An existing file: GRDB sets NORMAL again while opening; FULL must still win.
        let reopened = try SQLiteStore.open(directory: scratch.path)
        #expect(try await reopened.settings().synchronous == 2)
        #expect(try await reopened.settings().cacheSize == -8_192)
        #expect(try await reopened.settings().schema == ["v1", "v2-checks-without-in"])
    }

    /// SQLite evaluates `x IN ('a', 'b', 'c')` (more than two constants) through a temporary
    /// b-tree built again for every row a statement writes; in a CHECK that made inserting 10,000
    /// deadlines a third slower (`Schema.v2`).
    @Test("no CHECK tests a value against a list with IN")
    func checksWithoutIn() async throws {
        let store = try SQLiteStore.open(directory: Scratch().path)
        let tables = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%CHECK%'")
        }
        #expect(tables.count == 3, "deadline, notice, delivery")
        for sql in tables { #expect(!sql.uppercased().contains(" IN ("), "\(sql)") }
        try store.close()
    }

    /// SQLite's automatic checkpoint ran inside the commit that made the WAL long, and the writer
    /// (a reload's answer) waited for it (`Checkpointer`).
    @Test("a commit that leaves 1,000 pages of WAL is checkpointed on a connection of its own")
    func checkpointsBesideTheWriter() async throws {
        let scratch = Scratch()
        let store = try SQLiteStore.open(directory: scratch.path)
        let autocheckpoint = try await store.pool.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")
        }
        #expect(autocheckpoint == 0, "the writer runs no checkpoint in its commits")
        func size(_ name: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: scratch.file(name))[.size] as? Int)
        }
        let before = try size("samverkan.sqlite")
        let title = String(repeating: "Årlig uppföljning ", count: 25)
        let plan = (0..<8_000).map { k in
            deadline(obligation: "o\(k)", nominal: "2026-12-01", due: "2026-12-01T09:00:00Z", title: title)
        }
        _ = try await store.reconcile(plan: plan, window: wideWindow, now: utc("2026-06-01T00:00:00Z"))
        #expect(try size("samverkan.sqlite-wal") > 1_000 * 4_096)
        store.checkpointer.waitUntilIdle()
        #expect(try size("samverkan.sqlite") > before + 1_000 * 4_096, "the pages copied into the database file")
        #expect(try await store.counts().deadlines[.planned] == 8_000)
        try store.close()
        #expect(try size("samverkan.sqlite-wal") == 0)
    }

    @Test("a second opener of the state directory is refused and told the holder's pid")
    func exclusiveLock() async throws {
        let scratch = Scratch()
        let first = try SQLiteStore.open(directory: scratch.path)
        let lockText = try String(contentsOfFile: scratch.file("samverkand.lock"), encoding: .utf8)
        #expect(lockText == "\(getpid())\n")

        let error = #expect(throws: StoreError.self) { try SQLiteStore.open(directory: scratch.path) }
        #expect(error?.code == .locked)
        #expect(error?.message.hasPrefix("another samverkand (pid \(getpid())) uses \(scratch.path)") == true)

        try first.close()
        let second = try SQLiteStore.open(directory: scratch.path)
        #expect(try await second.counts().deadlines[.planned] == 0)
    }

    @Test("the lock lives as long as the store object")
    func lockReleasedWithTheStore() throws {
        let scratch = Scratch()
        do {
            let store = try SQLiteStore.open(directory: scratch.path)
            _ = store.path
        }
        let again = try SQLiteStore.open(directory: scratch.path)
        #expect(again.path.hasSuffix("samverkan.sqlite"))
    }

    @Test("a store written by a newer samverkand is refused and left untouched")
    func refusesNewerSchema() throws {
        let scratch = Scratch()
        try SQLiteStore.open(directory: scratch.path).close()
        // What a future samverkand would leave: a migration this build does not know.
        let queue = try DatabaseQueue(path: scratch.file("samverkan.sqlite"))
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v3-escalation-chains')")
            try db.execute(sql: "UPDATE store_info SET value = 'samverkand 9.1.0' WHERE key = 'written_by'")
        }
        try queue.close()

        for _ in 0..<2 {  // the second time proves the failed open released the lock
            let error = #expect(throws: StoreError.self) { try SQLiteStore.open(directory: scratch.path) }
            #expect(error?.code == .newerSchema)
            #expect(
                error?.message
                    == "\(scratch.file("samverkan.sqlite")) was written by a newer samverkand (samverkand 9.1.0, schema v1, v2-checks-without-in, v3-escalation-chains); this is samverkand \(SamverkanVersion.current) (schema v1, v2-checks-without-in): upgrade samverkand or restore a backup"
            )
        }
        let check = try DatabaseQueue(path: scratch.file("samverkan.sqlite"))
        let writer = try check.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE key = 'written_by'")
        }
        #expect(writer == "samverkand 9.1.0")
    }

    @Test("a file that is not a store is refused with what to do")
    func refusesForeignFiles() throws {
        let scratch = Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        try Data("not a database at all, just some text that is long enough".utf8).write(
            to: URL(fileURLWithPath: scratch.file("samverkan.sqlite")))
        let garbage = #expect(throws: StoreError.self) { try SQLiteStore.open(directory: scratch.path) }
        #expect(garbage?.code == .notAStore)
        #expect(garbage?.message.contains("is not an SQLite database; move it away or restore a backup") == true)

        let other = Scratch()
        try FileManager.default.createDirectory(atPath: other.path, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: other.file("samverkan.sqlite"))
        try queue.write { db in try db.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY)") }
        try queue.close()
        let foreign = #expect(throws: StoreError.self) { try SQLiteStore.open(directory: other.path) }
        #expect(foreign?.code == .notAStore)
        #expect(foreign?.message.contains("is an SQLite database but not a samverkan store (tables: photos)") == true)
    }
}
