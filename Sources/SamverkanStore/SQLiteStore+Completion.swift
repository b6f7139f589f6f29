public import Foundation
import GRDB

extension SQLiteStore {
    public func complete(
        deadlineID: String, role: String?, by requester: Requester, note: String?, at: Date, audit: AuditRecord?
    ) async throws(StoreError) -> CompletionResult {
        try await write("complete \(deadlineID)") { db in
            let result = try Completer.complete(
                deadlineID: deadlineID, role: role, by: requester, note: note, at: at, reason: .completed, db)
            if let audit { try Self.insertAudit(audit, db) }
            return result
        }
    }
}

/// Completion inside a transaction, shared with closing a case.
///
/// A collection round (a deadline with per-respondent notices, `…/SLOT/ROLE`) is done when every
/// respondent has answered or when it is completed as a whole (issue 6, "Completion"). A done
/// deadline's waiting notices are all cancelled, the round's summary included.
enum Completer {
    static func complete(
        deadlineID: String, role: String?, by requester: Requester, note: String?, at: Date, reason: NoticeReason,
        _ db: Database
    ) throws -> CompletionResult {
        guard let deadline = try Rows.deadline(id: deadlineID, db) else {
            throw SQLiteStore.unknownDeadline(deadlineID)
        }
        let respondents = try String.fetchAll(
            db, sql: "SELECT DISTINCT role FROM notice WHERE deadline_id = ? AND role IS NOT NULL ORDER BY role",
            arguments: [deadlineID])
        var cancelled: [String] = []
        var alreadyRecorded = false

        if let role {
            guard !respondents.isEmpty else {
                throw StoreError(
                    .notARound,
                    "\(deadlineID) is not a collection round, so it has no respondent '\(role)'; complete it without a role"
                )
            }
            guard respondents.contains(role) else {
                throw StoreError(
                    .unknownRole,
                    "\(deadlineID) has no respondent '\(role)'; its respondents are \(respondents.joined(separator: ", "))"
                )
            }
            if try answered(deadlineID, db).contains(role) {
                alreadyRecorded = true
            } else {
                try record(deadlineID: deadlineID, role: role, by: requester, note: note, at: at, db)
                cancelled = try NoticeUpdates.cancelWaiting(
                    deadlineID: deadlineID, role: role, reason: .answered, at: at, db)
            }
        } else if deadline.state == .done {
            alreadyRecorded = true
        } else {
            try record(deadlineID: deadlineID, role: nil, by: requester, note: note, at: at, db)
        }

        let answered = try answered(deadlineID, db)
        let everyoneAnswered = !respondents.isEmpty && Set(respondents).isSubset(of: Set(answered))
        var state = deadline.state
        if state != .done && (role == nil || everyoneAnswered) {
            state = .done
            try db.execute(
                sql: "UPDATE deadline SET state = 'done', updated = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, deadlineID])
            cancelled += try NoticeUpdates.cancelWaiting(deadlineID: deadlineID, role: nil, reason: reason, at: at, db)
        }
        return CompletionResult(
            deadlineID: deadlineID, role: role, state: state, alreadyRecorded: alreadyRecorded,
            cancelledNotices: cancelled.sorted(), answered: answered,
            waitingFor: respondents.filter { !answered.contains($0) })
    }

    private static func answered(_ deadlineID: String, _ db: Database) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT DISTINCT role FROM completion WHERE deadline_id = ? AND role IS NOT NULL ORDER BY role",
            arguments: [deadlineID])
    }

    private static func record(
        deadlineID: String, role: String?, by requester: Requester, note: String?, at: Date, _ db: Database
    ) throws {
        try db.execute(
            sql: "INSERT INTO completion (deadline_id, role, at, uid, pid, note) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                deadlineID, role, at.timeIntervalSince1970, requester.uid.map { Int64($0) },
                requester.pid.map { Int64($0) },
                note,
            ])
    }
}
