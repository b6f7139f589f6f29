import CSQLiteConfig
import Foundation
import GRDB
import SamverkanCore
import Synchronization

/// The embedded store: SQLite through GRDB, one file `samverkan.sqlite` in the state directory.
///
/// **Durability.** The database runs in WAL mode (a `DatabasePool`: readers never wait for the
/// writer) with `PRAGMA synchronous = FULL` on the writer. Every commit survives a crash of the
/// daemon under any setting, but in WAL mode `NORMAL` may roll back the latest commits after a
/// power loss or an OS crash. A rolled-back "sent" mark means a duplicate notice after the
/// reboot, and a rolled-back completion a reminder someone already answered, so the WAL is
/// synced on every commit. Writes are rare (a few per notice), so the cost does not matter.
/// GRDB sets `NORMAL` on the writer while it sets up WAL, after `prepareDatabase` has run, so
/// `FULL` is set after opening and read back (`platform.md` §4).
///
/// **One daemon per state directory.** `open(directory:)` takes an exclusive lock on
/// `samverkand.lock` for as long as the store lives (or until `close()`).
///
/// **Versions.** The schema is a `DatabaseMigrator` from the first version on: an older store is
/// migrated forward at open; a store written by a newer samverkand is refused.
///
/// **Backup and restore.** `backup(to:)` writes a consistent copy with `VACUUM INTO` while the
/// daemon runs. To restore: stop samverkand, replace `samverkan.sqlite` with the copy, remove
/// `samverkan.sqlite-wal` and `samverkan.sqlite-shm` if present, start samverkand.
public final class SQLiteStore: DeadlineStore {
    /// The database's file name in the state directory.
    public static let fileName = "samverkan.sqlite"

    /// The database file.
    public let path: String
    let pool: DatabasePool
    /// Runs the checkpoints of the writer's commits on a connection of its own.
    let checkpointer: Checkpointer
    private let lock: StateDirectoryLock?
    private let closed = Mutex(false)
    /// Bumped by every write; the memos below keep answers until it moves.
    let version = StoreVersion()
    let countsMemo = StoreMemo<StoreCounts>()
    let nextNoticeMemo = StoreMemo<ClaimedNotice?>()
    let nextDeadlineMemo = StoreMemo<NextDeadline>()
    let overdueMemo = StoreMemo<OverdueCount>()

    public var contentVersion: UInt64 { version.current }

    /// Opens (creating if needed) the store of a state directory, after taking its lock.
    ///
    /// Throws `locked` when another samverkand uses the directory, `newerSchema` when a newer
    /// samverkand wrote the store, `notAStore` when the file is something else.
    public static func open(directory: String) throws(StoreError) -> SQLiteStore {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw StoreError(.io, "cannot create the state directory \(directory): \(error.localizedDescription)")
        }
        let lock = try StateDirectoryLock(directory: directory)
        return try SQLiteStore(path: (directory as NSString).appendingPathComponent(fileName), lock: lock)
    }

    /// The writer connection's page cache, in KiB (SQLite's default is 2,000 KiB; readers keep it).
    ///
    /// Removing 10,000 deadlines updates rows and index entries spread over several megabytes;
    /// with the default cache the writer read the same pages back from the file and spilled them
    /// to the WAL mid-transaction again and again (207 -> 141 ms in-process). Adding them did not
    /// change, and 16 or 32 MiB did no better than 8.
    static let writerCacheKiB = 8_192

    /// Opens a database file with no directory lock: for tools and tests that know no daemon
    /// uses it (a backup being checked, a benchmark's scratch file).
    public static func open(unlockedPath path: String) throws(StoreError) -> SQLiteStore {
        try SQLiteStore(path: path, lock: nil)
    }

    /// SQLite's process-wide settings, made once, before the first connection opens:
    /// its memory statistics off (see `CSQLiteConfig`). A process that opened SQLite some other
    /// way first keeps them on, which changes speed only.
    private static let configured: Bool = samverkan_sqlite_memstatus_off() == SQLITE_OK

    private init(path: String, lock: StateDirectoryLock?) throws(StoreError) {
        _ = Self.configured
        self.path = path
        self.lock = lock
        self.checkpointer = Checkpointer(path: path)
        var configuration = Configuration()
        configuration.label = "samverkan"
        configuration.foreignKeysEnabled = true
        // Only this process writes (the lock), but a reader such as the sqlite3 shell may hold
        // the file briefly; wait for it rather than fail.
        configuration.busyMode = .timeout(5)
        // Reads are short (a listing, a count); a few connections serve the socket, and the
        // number of open descriptors stays fixed however many clients come.
        configuration.maximumReaderCount = 3
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw Self.storeError(error, "cannot open \(path)", path: path)
        }
        do {
            try Self.refuseForeign(pool, path: path)
            try Schema.migrator.migrate(pool)
            try pool.writeWithoutTransaction { db in
                // After opening, never in prepareDatabase: see the type's comment.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)")
                checkpointer.install(on: db)
                let level = try Int.fetchOne(db, sql: "PRAGMA synchronous")
                guard level == 2 else {
                    throw StoreError(
                        .database, "\(path): PRAGMA synchronous reads \(level ?? -1) after setting FULL (2)")
                }
                let now = String(Date().timeIntervalSince1970)
                let version = "samverkand \(SamverkanVersion.current)"
                try db.execute(
                    sql: "INSERT OR IGNORE INTO store_info (key, value) VALUES ('created_at', ?), ('created_by', ?)",
                    arguments: [now, version])
                try db.execute(
                    sql: "INSERT OR REPLACE INTO store_info (key, value) VALUES ('written_by', ?)", arguments: [version]
                )
            }
        } catch {
            try? pool.close()
            throw Self.storeError(error, "cannot open \(path)", path: path)
        }
    }

    /// Refuses a store a newer samverkand wrote, and an SQLite file that is not a store at all,
    /// before anything is written to it.
    private static func refuseForeign(_ pool: DatabasePool, path: String) throws {
        try pool.read { db in
            let migrator = Schema.migrator
            if try migrator.hasBeenSuperseded(db) {
                let applied = try migrator.appliedIdentifiers(db).sorted()
                let writer = try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE key = 'written_by'")
                let known = migrator.migrations.joined(separator: ", ")
                throw StoreError(
                    .newerSchema,
                    "\(path) was written by a newer samverkand (\(writer.map { "\($0), " } ?? "")schema \(applied.joined(separator: ", "))); this is samverkand \(SamverkanVersion.current) (schema \(known)): upgrade samverkand or restore a backup"
                )
            }
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            if !tables.isEmpty && !tables.contains("grdb_migrations") {
                throw StoreError(
                    .notAStore,
                    "\(path) is an SQLite database but not a samverkan store (tables: \(tables.sorted().joined(separator: ", "))); move it away or point --state elsewhere"
                )
            }
        }
    }

    /// Closes the database and releases the directory lock; waits until every read connection
    /// has been given back. Later calls do nothing; other operations fail after it.
    public func close() throws(StoreError) {
        guard
            closed.withLock({ closed in
                defer { closed = true }; return !closed
            })
        else { return }
        defer { lock?.release() }
        // Everything into the main file and the WAL emptied: a large first reconcile can leave
        // hundreds of megabytes of WAL behind otherwise.
        checkpointer.close()
        _ = try? pool.writeWithoutTransaction { [checkpointer] db in
            checkpointer.uninstall(from: db)
            try db.checkpoint(.truncate)
        }
        do { try pool.close() } catch { throw Self.storeError(error, "cannot close \(path)", path: path) }
    }

    /// ``close()`` from async code, waiting on a thread of its own. A read still in flight gives
    /// its connection back only once its task runs again on its executor, so a `close` that
    /// blocked one of the executor's threads could wait for itself (the test suite once hung so,
    /// with both threads of the cooperative pool in `close`).
    public func closeOffExecutor() async throws(StoreError) {
        let result = await withCheckedContinuation { (done: CheckedContinuation<Result<Void, StoreError>, Never>) in
            Thread.detachNewThread { done.resume(returning: Result { () throws(StoreError) in try self.close() }) }
        }
        try result.get()
    }

    /// The settings in force, read back from SQLite; `synchronous` from the writer connection.
    public func settings() async throws(StoreError) -> StoreSettings {
        let path = self.path
        return try await writeWithoutTransaction("read the settings") { db in
            StoreSettings(
                path: path,
                journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1,
                cacheSize: try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? 0,
                foreignKeys: try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") ?? false,
                schema: try Schema.migrator.appliedMigrations(db))
        }
    }

    // MARK: Transactions

    /// One write transaction; every error comes out as a `StoreError`.
    func write<T: Sendable>(_ what: String, _ body: @Sendable (Database) throws -> T)
        async throws(StoreError) -> T
    {
        defer { version.bump() }
        do { return try await pool.write(body) } catch { throw Self.storeError(error, "cannot \(what)", path: path) }
    }

    /// One read transaction (a snapshot, concurrent with the writer).
    func read<T: Sendable>(_ what: String, _ body: @Sendable (Database) throws -> T)
        async throws(StoreError) -> T
    {
        do { return try await pool.read(body) } catch { throw Self.storeError(error, "cannot \(what)", path: path) }
    }

    func writeWithoutTransaction<T: Sendable>(_ what: String, _ body: @Sendable (Database) throws -> T)
        async throws(StoreError) -> T
    {
        defer { version.bump() }
        do { return try await pool.writeWithoutTransaction(body) } catch {
            throw Self.storeError(error, "cannot \(what)", path: path)
        }
    }

    static func storeError(_ error: any Error, _ context: String, path: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if error is CancellationError { return StoreError(.cancelled, "\(context): the task was cancelled") }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB:
                return StoreError(
                    .notAStore, "\(path) is not an SQLite database; move it away or restore a backup")
            case .SQLITE_CORRUPT:
                return StoreError(
                    .notAStore, "\(path) is damaged (\(error.message ?? "corrupt")); restore a backup")
            case .SQLITE_FULL:
                return StoreError(.io, "\(context): the disk holding \(path) is full; free space and retry")
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_IOERR:
                return StoreError(
                    .io,
                    "\(context): \(error.message ?? "I/O error"); check that the state directory exists and belongs to the daemon's user"
                )
            default:
                return StoreError(.database, "\(context): \(error.message ?? "\(error)")")
            }
        }
        return StoreError(.database, "\(context): \(error)")
    }
}
