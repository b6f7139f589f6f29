public import Foundation
import GRDB
public import SamverkanCore

extension SQLiteStore {
    public func openCase(
        _ opening: CaseOpening, now: Date, audit: AuditRecord?,
        deadline makeDeadline: @Sendable (_ reference: String) -> Deadline
    ) async throws(StoreError) -> CaseOpened {
        try await write("open a case") { db in
            let opened = try Self.open(opening, now: now, deadline: makeDeadline, db)
            if var audit {
                audit.target = audit.target ?? opened.record.reference
                try Self.insertAudit(audit, db)
            }
            return opened
        }
    }

    private static func open(
        _ opening: CaseOpening, now: Date, deadline makeDeadline: @Sendable (_ reference: String) -> Deadline,
        _ db: Database
    ) throws -> CaseOpened {
        if let reference = opening.reference, let existing = try Self.caseRecord(reference, db) {
            guard existing.agreement == opening.agreement, existing.window == opening.window,
                existing.openedAt == opening.openedAt
            else {
                throw StoreError(
                    .conflict,
                    "case \(reference) exists already (\(existing.isOpen ? "open" : "closed"), \(existing.agreement)/\(existing.window), opened \(existing.openedAt.formatted(.iso8601))); use another reference"
                )
            }
            return CaseOpened(record: existing, deadline: try Self.listing(existing.deadlineID, db), created: false)
        }
        let reference = try opening.reference ?? Self.nextReference(year: opening.referenceYear, db)
        let deadline = makeDeadline(reference)
        guard try Rows.deadline(id: deadline.id, db) == nil else {
            throw StoreError(.conflict, "a deadline \(deadline.id) is already stored; use another reference")
        }
        // The same insert as a new planned deadline: notices already due are skipped.
        var inserter = try Reconciler(db: db, now: now)
        try inserter.insert(deadline, prepared: PreparedDeadline(deadline), origin: .case)
        try db.execute(
            sql: """
                INSERT INTO case_window (reference, agreement, window, opened_at, closed_at, outcome, deadline_id)
                VALUES (?, ?, ?, ?, NULL, NULL, ?)
                """,
            arguments: [
                reference, opening.agreement, opening.window, opening.openedAt.timeIntervalSince1970, deadline.id,
            ])
        let record = CaseRecord(
            reference: reference, agreement: opening.agreement, window: opening.window,
            openedAt: opening.openedAt, closedAt: nil, outcome: nil, deadlineID: deadline.id)
        return CaseOpened(record: record, deadline: try Self.listing(deadline.id, db), created: true)
    }

    public func closeCase(reference: String, outcome: String, by requester: Requester, at: Date, audit: AuditRecord?)
        async throws(StoreError) -> CaseRecord
    {
        try await write("close case \(reference)") { db in
            let record = try Self.close(reference: reference, outcome: outcome, by: requester, at: at, db)
            if let audit { try Self.insertAudit(audit, db) }
            return record
        }
    }

    private static func close(reference: String, outcome: String, by requester: Requester, at: Date, _ db: Database)
        throws -> CaseRecord
    {
        guard var record = try Self.caseRecord(reference, db) else {
            throw StoreError(.unknownCase, "no case \(reference); `samverkanctl cases` lists the open ones")
        }
        if let closed = record.outcome {
            guard closed == outcome else {
                throw StoreError(.conflict, "case \(reference) was already closed as \(closed)")
            }
            return record
        }
        try db.execute(
            sql: "UPDATE case_window SET closed_at = ?, outcome = ? WHERE reference = ?",
            arguments: [at.timeIntervalSince1970, outcome, reference])
        _ = try Completer.complete(
            deadlineID: record.deadlineID, role: nil, by: requester, note: "case closed: \(outcome)", at: at,
            reason: .caseClosed, db)
        record.closedAt = at
        record.outcome = outcome
        return record
    }

    public func caseRecord(reference: String) async throws(StoreError) -> CaseRecord? {
        try await read("read case \(reference)") { db in try Self.caseRecord(reference, db) }
    }

    public func cases(closedSince: Date?) async throws(StoreError) -> [CaseRecord] {
        try await read("list cases") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM case_window WHERE closed_at IS NULL OR closed_at >= ?
                    ORDER BY opened_at, reference
                    """,
                arguments: [closedSince?.timeIntervalSince1970 ?? Double.infinity]
            ).map(Rows.caseRecord)
        }
    }

    private static func caseRecord(_ reference: String, _ db: Database) throws -> CaseRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM case_window WHERE reference = ?", arguments: [reference])
            .map(Rows.caseRecord)
    }

    private static func listing(_ deadlineID: String, _ db: Database) throws -> DeadlineListing {
        guard let deadline = try Rows.deadline(id: deadlineID, db) else { throw unknownDeadline(deadlineID) }
        return DeadlineListing(deadline: deadline, notices: try Rows.notices(ofDeadline: deadlineID, db))
    }

    /// The next `YYYY-NNNN` of the year: one more than the highest number used that year,
    /// at least four digits (`design.md`, "Cases").
    static func nextReference(year: Int, _ db: Database) throws -> String {
        let prefix = "\(year)-"
        let highest =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT MAX(CAST(substr(reference, ?) AS INTEGER)) FROM case_window
                    WHERE reference LIKE ? AND substr(reference, ?) NOT GLOB '*[^0-9]*'
                    """,
                arguments: [prefix.count + 1, prefix + "%", prefix.count + 1]) ?? 0
        let number = String(highest + 1)
        return prefix + String(repeating: "0", count: max(0, 4 - number.count)) + number
    }
}
