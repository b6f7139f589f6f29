import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the WAL back into the database file on a connection of its own, after the commit that
/// made the WAL long, instead of inside that commit.
///
/// SQLite's automatic checkpoint runs in the committing connection, after the commit and before
/// its `sqlite3_step` returns: adding or removing 10,000 deadlines (6 MB of WAL) then waited
/// about 20 ms more for pages to be copied and the database file synced, and the reload's
/// answer with it. A PASSIVE checkpoint on another connection does the same work without
/// holding up the writer (SQLite lets one checkpoint run beside the writer and the readers).
///
/// Durability does not change: every commit is in the WAL and synced before it returns
/// (`synchronous = FULL`), and the checkpoint, also with `FULL`, syncs the WAL before it copies
/// and the database file after. A crash in between leaves the WAL to be replayed, as ever.
///
/// The writer's automatic checkpoint is replaced by a WAL hook that asks for a checkpoint once
/// the WAL holds ``threshold`` frames, SQLite's own default for the automatic one.
final class Checkpointer: Sendable {
    /// WAL frames (pages) after a commit from which a checkpoint is asked for.
    static let threshold: Int32 = 1000

    /// The checkpoint connection's handle.
    ///
    /// `@unchecked Sendable` is safe here: the connection is opened, used and closed only on
    /// `queue`, a serial queue, so no two threads ever use it at once; `state` only holds it.
    private struct Connection: @unchecked Sendable {
        let handle: OpaquePointer
    }

    private struct State {
        /// The connection, opened at the first checkpoint.
        var connection: Connection?
        /// A checkpoint is queued and has not started: more requests add nothing.
        var queued = false
        var closed = false
    }

    private let path: String
    private let queue = DispatchQueue(label: "samverkan.checkpoint", qos: .utility)
    private let state = Mutex(State())

    init(path: String) { self.path = path }

    /// Hooks the writer connection: from now on its commits ask this checkpointer for the
    /// checkpoints SQLite would have run in them. Called on the writer.
    func install(on db: Database) {
        // The checkpointer outlives the hook: the store holds both, and `uninstall` runs in
        // `SQLiteStore.close()` before the writer's last checkpoint.
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, _, _, frames in
                if frames >= Checkpointer.threshold, let context {
                    Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().request()
                }
                return SQLITE_OK
            }, context)
    }

    /// Removes the hook; called on the writer.
    func uninstall(from db: Database) {
        sqlite3_wal_hook(db.sqliteConnection, nil, nil)
    }

    /// Queues a checkpoint unless one is queued already.
    func request() {
        let queue = state.withLock { state -> Bool in
            guard !state.closed, !state.queued else { return false }
            state.queued = true
            return true
        }
        guard queue else { return }
        self.queue.async { self.checkpoint() }
    }

    /// Waits for the checkpoint queued, if any (for tests).
    func waitUntilIdle() { queue.sync {} }

    /// Waits for the checkpoint queued, if any, and closes the connection; later requests are
    /// ignored.
    func close() {
        state.withLock { $0.closed = true }
        queue.sync {
            let connection = state.withLock { state -> Connection? in
                defer { state.connection = nil }
                return state.connection
            }
            if let connection { sqlite3_close_v2(connection.handle) }
        }
    }

    /// A PASSIVE checkpoint: as much of the WAL as no reader still needs. A failure is left for
    /// the next one (the WAL only grows meanwhile, as with SQLite's own checkpoint).
    private func checkpoint() {
        let (closed, connection) = state.withLock { state in
            state.queued = false
            return (state.closed, state.connection)
        }
        guard !closed, let connection = connection ?? open() else { return }
        sqlite3_wal_checkpoint_v2(connection.handle, "main", SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }

    /// Opens the checkpoint connection: read-write, synchronous FULL, waiting for the writer's
    /// locks rather than failing.
    private func open() -> Connection? {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
            let handle, sqlite3_exec(handle, "PRAGMA synchronous = FULL", nil, nil, nil) == SQLITE_OK
        else {
            sqlite3_close_v2(handle)
            return nil
        }
        sqlite3_busy_timeout(handle, 5_000)
        let connection = Connection(handle: handle)
        let kept = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.connection = connection
            return true
        }
        guard kept else {
            sqlite3_close_v2(handle)
            return nil
        }
        return connection
    }
}
