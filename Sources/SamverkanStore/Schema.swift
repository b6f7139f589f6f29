import GRDB

/// The store's schema, one `DatabaseMigrator` migration per version, from the first on.
///
/// Migrations are only ever appended: a store written by an older samverkand opens in a newer
/// one and is migrated forward (each migration is one transaction); a store that records a
/// migration this build does not know was written by a newer samverkand and is refused
/// (`hasBeenSuperseded`), since an older build would misread or damage it.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in try db.execute(sql: v1) }
        // GRDB runs each migration with foreign keys off and checks them before the commit
        // (`foreignKeyChecks: .deferred`), as SQLite's table-rebuild procedure asks.
        migrator.registerMigration("v2-checks-without-in") { db in try db.execute(sql: v2) }
        return migrator
    }

    /// Version 1, as released: never edit it (later versions change it by migrations).
    ///
    /// Times are REAL seconds since 1970 UTC (exact for a `Date`'s `Double`); lists are JSON
    /// arrays of strings. Every table is STRICT, and states are CHECKed, so a wrong write fails
    /// loudly instead of storing a value no reader understands.
    static let v1 = """
        CREATE TABLE store_info (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        ) STRICT;

        CREATE TABLE deadline (
            id TEXT PRIMARY KEY NOT NULL,
            agreement TEXT NOT NULL,
            obligation TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            nominal TEXT NOT NULL,
            due REAL NOT NULL,
            state TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'done', 'cancelled')),
            origin TEXT NOT NULL CHECK (origin IN ('plan', 'case')),
            fingerprint INTEGER NOT NULL,
            explanation TEXT NOT NULL DEFAULT '[]',
            first_seen REAL NOT NULL,
            updated REAL NOT NULL
        ) STRICT;
        CREATE INDEX deadline_by_due ON deadline (due);
        CREATE INDEX deadline_by_state_due ON deadline (state, due);

        CREATE TABLE notice (
            id TEXT PRIMARY KEY NOT NULL,
            deadline_id TEXT NOT NULL REFERENCES deadline (id),
            slot TEXT NOT NULL,
            role TEXT,
            at REAL NOT NULL,
            state TEXT NOT NULL CHECK (state IN (
                'pending', 'sending', 'sent', 'failed', 'dead', 'cancelled', 'superseded', 'skipped')),
            late INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL NOT NULL,
            recipients TEXT NOT NULL DEFAULT '[]',
            explanation TEXT,
            reason TEXT,
            first_seen REAL NOT NULL,
            updated REAL NOT NULL
        ) STRICT;
        -- The scheduler's queue: the earliest pending (or failed) notice is one index probe.
        CREATE INDEX notice_queue ON notice (state, next_attempt);
        CREATE INDEX notice_by_deadline ON notice (deadline_id, at);

        CREATE TABLE delivery (
            id INTEGER PRIMARY KEY,
            notice_id TEXT NOT NULL REFERENCES notice (id),
            sink TEXT NOT NULL,
            at REAL NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'transient', 'permanent')),
            error TEXT
        ) STRICT;
        CREATE INDEX delivery_by_notice ON delivery (notice_id, at);

        CREATE TABLE completion (
            id INTEGER PRIMARY KEY,
            deadline_id TEXT NOT NULL REFERENCES deadline (id),
            role TEXT,
            at REAL NOT NULL,
            uid INTEGER,
            pid INTEGER,
            note TEXT
        ) STRICT;
        CREATE INDEX completion_by_deadline ON completion (deadline_id, role);

        CREATE TABLE case_window (
            reference TEXT PRIMARY KEY NOT NULL,
            agreement TEXT NOT NULL,
            window TEXT NOT NULL,
            opened_at REAL NOT NULL,
            closed_at REAL,
            outcome TEXT,
            deadline_id TEXT NOT NULL REFERENCES deadline (id)
        ) STRICT;
        CREATE INDEX case_window_open ON case_window (closed_at, opened_at);

        CREATE TABLE config_generation (
            generation INTEGER PRIMARY KEY AUTOINCREMENT,
            fingerprint TEXT NOT NULL,
            at REAL NOT NULL,
            requested_by TEXT NOT NULL
        ) STRICT;

        -- Append-only: no row is ever changed or removed, not even by the daemon.
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            uid INTEGER,
            pid INTEGER,
            action TEXT NOT NULL,
            target TEXT,
            detail TEXT
        ) STRICT;
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        """

    /// Version 2: the same tables, with each state CHECK written as `col = 'a' OR col = 'b' …`
    /// instead of `col IN ('a', 'b', …)`.
    ///
    /// SQLite evaluates a constant IN list of more than two values through a small temporary
    /// b-tree that it builds afresh for every row a statement writes. In a CHECK that is every
    /// insert and every state change: a third of the time of inserting 10,000 deadlines with
    /// their notices. The OR chain accepts and refuses exactly the same values with plain
    /// comparisons. A CHECK cannot be altered in place, so each table is rebuilt by SQLite's
    /// procedure (lang_altertable.html, "Making Other Kinds Of Table Schema Changes"): create
    /// the new table, copy the rows, drop the old one, rename the new one, and create its
    /// indexes again. Columns, their order and the indexes are those of version 1.
    static let v2 = """
        CREATE TABLE deadline_v2 (
            id TEXT PRIMARY KEY NOT NULL,
            agreement TEXT NOT NULL,
            obligation TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            nominal TEXT NOT NULL,
            due REAL NOT NULL,
            state TEXT NOT NULL DEFAULT 'planned'
                CHECK (state = 'planned' OR state = 'done' OR state = 'cancelled'),
            origin TEXT NOT NULL CHECK (origin = 'plan' OR origin = 'case'),
            fingerprint INTEGER NOT NULL,
            explanation TEXT NOT NULL DEFAULT '[]',
            first_seen REAL NOT NULL,
            updated REAL NOT NULL
        ) STRICT;
        INSERT INTO deadline_v2 SELECT * FROM deadline;
        DROP TABLE deadline;
        ALTER TABLE deadline_v2 RENAME TO deadline;
        CREATE INDEX deadline_by_due ON deadline (due);
        CREATE INDEX deadline_by_state_due ON deadline (state, due);

        CREATE TABLE notice_v2 (
            id TEXT PRIMARY KEY NOT NULL,
            deadline_id TEXT NOT NULL REFERENCES deadline (id),
            slot TEXT NOT NULL,
            role TEXT,
            at REAL NOT NULL,
            state TEXT NOT NULL CHECK (
                state = 'pending' OR state = 'sending' OR state = 'sent' OR state = 'failed' OR state = 'dead'
                OR state = 'cancelled' OR state = 'superseded' OR state = 'skipped'),
            late INTEGER NOT NULL DEFAULT 0 CHECK (late = 0 OR late = 1),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL NOT NULL,
            recipients TEXT NOT NULL DEFAULT '[]',
            explanation TEXT,
            reason TEXT,
            first_seen REAL NOT NULL,
            updated REAL NOT NULL
        ) STRICT;
        INSERT INTO notice_v2 SELECT * FROM notice;
        DROP TABLE notice;
        ALTER TABLE notice_v2 RENAME TO notice;
        -- The scheduler's queue: the earliest pending (or failed) notice is one index probe.
        CREATE INDEX notice_queue ON notice (state, next_attempt);
        CREATE INDEX notice_by_deadline ON notice (deadline_id, at);

        CREATE TABLE delivery_v2 (
            id INTEGER PRIMARY KEY,
            notice_id TEXT NOT NULL REFERENCES notice (id),
            sink TEXT NOT NULL,
            at REAL NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome = 'ok' OR outcome = 'transient' OR outcome = 'permanent'),
            error TEXT
        ) STRICT;
        INSERT INTO delivery_v2 SELECT * FROM delivery;
        DROP TABLE delivery;
        ALTER TABLE delivery_v2 RENAME TO delivery;
        CREATE INDEX delivery_by_notice ON delivery (notice_id, at);
        """
}
