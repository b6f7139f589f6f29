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
        return migrator
    }

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
}
