PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO grdb_migrations VALUES('v1');
INSERT INTO grdb_migrations VALUES('v2-checks-without-in');
CREATE TABLE store_info (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
INSERT INTO store_info VALUES('created_at','1795767181.58422');
INSERT INTO store_info VALUES('created_by','samverkand 0.1.0');
INSERT INTO store_info VALUES('written_by','samverkand 0.1.0');
INSERT INTO store_info VALUES('reconciled_fingerprint','fixture-v2');
INSERT INTO store_info VALUES('reconciled_start','1767225600.0');
INSERT INTO store_info VALUES('reconciled_end','1830297600.0');
INSERT INTO store_info VALUES('reconciled_at','1780272000.0');
CREATE TABLE completion (
    id INTEGER PRIMARY KEY,
    deadline_id TEXT NOT NULL REFERENCES deadline (id),
    role TEXT,
    at REAL NOT NULL,
    uid INTEGER,
    pid INTEGER,
    note TEXT
) STRICT;
INSERT INTO completion VALUES(1,'avesta-falun/rapport/2026-11-20',NULL,1793613600.0,1000,4242,'klar');
INSERT INTO completion VALUES(2,'avesta-falun/lagesbild/2026-11-30','skola',1795507200.0,1001,NULL,NULL);
CREATE TABLE case_window (
    reference TEXT PRIMARY KEY NOT NULL,
    agreement TEXT NOT NULL,
    window TEXT NOT NULL,
    opened_at REAL NOT NULL,
    closed_at REAL,
    outcome TEXT,
    deadline_id TEXT NOT NULL REFERENCES deadline (id)
) STRICT;
INSERT INTO case_window VALUES('2026-0001','avesta-falun','smadit',1780308000.0,NULL,NULL,'avesta-falun/smadit/2026-0001');
CREATE TABLE config_generation (
    generation INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    at REAL NOT NULL,
    requested_by TEXT NOT NULL
) STRICT;
INSERT INTO config_generation VALUES(1,'fixture-v2',1780272000.0,'start');
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    uid INTEGER,
    pid INTEGER,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
) STRICT;
INSERT INTO audit VALUES(1,1793613600.0,1000,4242,'complete','avesta-falun/rapport/2026-11-20',NULL);
CREATE TABLE IF NOT EXISTS "deadline" (
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
INSERT INTO deadline VALUES('avesta-falun/rapport/2026-11-20','avesta-falun','rapport','review','Årlig uppföljning','2026-11-20',1795165200.0,'done','plan',-5057022280010668468,'["nominal date: 2026-11-20"]',1780272000.0,1793613600.0);
INSERT INTO deadline VALUES('avesta-falun/lagesbild/2026-11-30','avesta-falun','lagesbild','lagesbild','Månadens lägesbild','2026-11-30',1796029200.0,'planned','plan',-717082457827346044,'[]',1780272000.0,1780272000.0);
INSERT INTO deadline VALUES('avesta-falun/arlig-uppfoljning/2026-12-01','avesta-falun','arlig-uppfoljning','review','Årlig uppföljning','2026-12-01',1796115600.0,'planned','plan',-4105180312159374736,'["nominal date: 2026-12-01"]',1780272000.0,1780272000.0);
INSERT INTO deadline VALUES('avesta-falun/mote/2027-05-03','avesta-falun','mote','review','Årlig uppföljning','2027-05-03',1809345600.0,'cancelled','plan',3954158106447991403,'["nominal date: 2027-05-03"]',1780272000.0,1780272000.0);
INSERT INTO deadline VALUES('avesta-falun/smadit/2026-0001','avesta-falun','smadit','smadit','smadit','2026-06-01',1780394400.0,'planned','case',-1975908276503565659,'["window smadit opened"]',1780308000.0,1780308000.0);
CREATE TABLE IF NOT EXISTS "notice" (
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
INSERT INTO notice VALUES('avesta-falun/rapport/2026-11-20/due','avesta-falun/rapport/2026-11-20','due',NULL,1795165200.0,'cancelled',0,0,1795165200.0,'["samordnare"]',NULL,'completed',1780272000.0,1793613600.0);
INSERT INTO notice VALUES('avesta-falun/lagesbild/2026-11-30/-5wd/fritid','avesta-falun/lagesbild/2026-11-30','-5wd','fritid',1795424400.0,'pending',0,0,1795424400.0,'["fritid"]',NULL,NULL,1780272000.0,1780272000.0);
INSERT INTO notice VALUES('avesta-falun/lagesbild/2026-11-30/-5wd/skola','avesta-falun/lagesbild/2026-11-30','-5wd','skola',1795424400.0,'cancelled',0,0,1795424400.0,'["skola"]',NULL,'answered',1780272000.0,1795507200.0);
INSERT INTO notice VALUES('avesta-falun/lagesbild/2026-11-30/-1wd/fritid','avesta-falun/lagesbild/2026-11-30','-1wd','fritid',1795770000.0,'pending',0,0,1795770000.0,'["fritid"]',NULL,NULL,1780272000.0,1780272000.0);
INSERT INTO notice VALUES('avesta-falun/lagesbild/2026-11-30/-1wd/skola','avesta-falun/lagesbild/2026-11-30','-1wd','skola',1795770000.0,'cancelled',0,0,1795770000.0,'["skola"]',NULL,'answered',1780272000.0,1795507200.0);
INSERT INTO notice VALUES('avesta-falun/lagesbild/2026-11-30/summary','avesta-falun/lagesbild/2026-11-30','summary',NULL,1796029200.0,'pending',0,0,1796029200.0,'["samordnare"]',NULL,NULL,1780272000.0,1780272000.0);
INSERT INTO notice VALUES('avesta-falun/arlig-uppfoljning/2026-12-01/-30d','avesta-falun/arlig-uppfoljning/2026-12-01','-30d',NULL,1793523600.0,'sent',0,1,1793523600.0,'["samordnare"]',NULL,NULL,1780272000.0,1793523601.0);
INSERT INTO notice VALUES('avesta-falun/arlig-uppfoljning/2026-12-01/due','avesta-falun/arlig-uppfoljning/2026-12-01','due',NULL,1796115600.0,'pending',0,0,1796115600.0,'["samordnare"]',NULL,NULL,1780272000.0,1780272000.0);
INSERT INTO notice VALUES('avesta-falun/mote/2027-05-03/due','avesta-falun/mote/2027-05-03','due',NULL,1809345600.0,'cancelled',0,0,1809345600.0,'["samordnare"]',NULL,'removed',1780272000.0,1780272000.0);
INSERT INTO notice VALUES('avesta-falun/smadit/2026-0001/breach','avesta-falun/smadit/2026-0001','breach',NULL,1780394400.0,'pending',0,0,1780394400.0,'["enhetschef"]',NULL,NULL,1780308000.0,1780308000.0);
CREATE TABLE IF NOT EXISTS "delivery" (
    id INTEGER PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES notice (id),
    sink TEXT NOT NULL,
    at REAL NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome = 'ok' OR outcome = 'transient' OR outcome = 'permanent'),
    error TEXT
) STRICT;
INSERT INTO delivery VALUES(1,'avesta-falun/arlig-uppfoljning/2026-12-01/-30d','outbox',1793523601.0,'ok',NULL);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('config_generation',1);
INSERT INTO sqlite_sequence VALUES('audit',1);
CREATE INDEX completion_by_deadline ON completion (deadline_id, role);
CREATE INDEX case_window_open ON case_window (closed_at, opened_at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE INDEX deadline_by_due ON deadline (due);
CREATE INDEX deadline_by_state_due ON deadline (state, due);
CREATE INDEX notice_queue ON notice (state, next_attempt);
CREATE INDEX notice_by_deadline ON notice (deadline_id, at);
CREATE INDEX delivery_by_notice ON delivery (notice_id, at);
COMMIT;
