public import Foundation
import GRDB

extension SQLiteStore {
    public func recordGeneration(fingerprint: String, requestedBy: String, at: Date) async throws(StoreError) -> Int {
        try await write("record a config generation") { db in
            try Self.insertGeneration(fingerprint: fingerprint, requestedBy: requestedBy, at: at, db)
        }
    }

    /// One config generation, inside the caller's transaction; returns its number.
    static func insertGeneration(fingerprint: String, requestedBy: String, at: Date, _ db: Database) throws -> Int {
        try db.execute(
            sql: "INSERT INTO config_generation (fingerprint, at, requested_by) VALUES (?, ?, ?)",
            arguments: [fingerprint, at.timeIntervalSince1970, requestedBy])
        return Int(db.lastInsertedRowID)
    }

    public func latestGeneration() async throws(StoreError) -> ConfigGeneration? {
        try await read("read the config generation") { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM config_generation ORDER BY generation DESC LIMIT 1")
            else { return nil }
            return ConfigGeneration(
                generation: try row.decode(Int.self, forColumn: "generation"),
                fingerprint: try row.decode(String.self, forColumn: "fingerprint"),
                at: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "at")),
                requestedBy: try row.decode(String.self, forColumn: "requested_by"))
        }
    }

    @discardableResult
    public func appendAudit(_ record: AuditRecord) async throws(StoreError) -> Int64 {
        try await write("append to the audit trail") { db in try Self.insertAudit(record, db) }
    }

    /// One audit row, inside the caller's transaction; returns its id.
    @discardableResult
    static func insertAudit(_ record: AuditRecord, _ db: Database) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO audit (at, uid, pid, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                record.at.timeIntervalSince1970, record.by.uid.map { Int64($0) }, record.by.pid.map { Int64($0) },
                record.action, record.target, record.detail,
            ])
        return db.lastInsertedRowID
    }

    public func auditTrail(limit: Int, before: Int64?) async throws(StoreError) -> [AuditRecord] {
        try await read("read the audit trail") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?",
                arguments: [before ?? Int64.max, max(0, limit)]
            ).map(Rows.audit)
        }
    }

    /// `VACUUM INTO` on a reader: a consistent snapshot of the last commit, written while the
    /// daemon goes on writing (WAL readers don't block the writer).
    public func backup(to path: String) async throws(StoreError) {
        if FileManager.default.fileExists(atPath: path) {
            throw StoreError(.backupFailed, "\(path) already exists; give a new file name or remove it first")
        }
        do {
            try await pool.unsafeRead { db in try db.execute(sql: "VACUUM INTO ?", arguments: [path]) }
        } catch {
            let reason = (error as? DatabaseError)?.message ?? "\(error)"
            throw StoreError(
                .backupFailed,
                "cannot write the backup \(path): \(reason); check that its directory exists and the daemon's user may write there"
            )
        }
    }
}
