import Foundation
import GRDB
import SamverkanCore

/// Reading the store's rows into its value types. Decoding throws rather than traps: a row a
/// newer or damaged store holds comes out as a `StoreError`, never a crash.
enum Rows {
    static let deadlineColumns =
        "id, agreement, obligation, kind, title, nominal, due, state, origin, explanation, first_seen, updated"
    static let noticeColumns =
        "id, deadline_id, slot, role, at, state, late, attempts, next_attempt, recipients, explanation, reason, first_seen, updated"

    static func deadline(_ row: Row) throws -> StoredDeadline {
        let id = try row.decode(String.self, forColumn: "id")
        let nominalText = try row.decode(String.self, forColumn: "nominal")
        guard let nominal = LocalDate(iso: nominalText) else {
            throw StoreError(.database, "deadline \(id) has a nominal date that is not a date: \(nominalText)")
        }
        return StoredDeadline(
            id: id,
            agreement: try row.decode(String.self, forColumn: "agreement"),
            obligation: try row.decode(String.self, forColumn: "obligation"),
            kind: try row.decode(String.self, forColumn: "kind"),
            title: try row.decode(String.self, forColumn: "title"),
            nominal: nominal,
            due: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "due")),
            state: try value(DeadlineState.self, row, "state", of: id),
            origin: try value(DeadlineOrigin.self, row, "origin", of: id),
            explanation: JSONText.strings(try row.decode(String.self, forColumn: "explanation")),
            firstSeen: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "first_seen")),
            updated: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "updated")))
    }

    static func notice(_ row: Row) throws -> StoredNotice {
        let id = try row.decode(String.self, forColumn: "id")
        let reason = try row.decode(String?.self, forColumn: "reason")
        return StoredNotice(
            id: id,
            deadlineID: try row.decode(String.self, forColumn: "deadline_id"),
            slot: try row.decode(String.self, forColumn: "slot"),
            role: try row.decode(String?.self, forColumn: "role"),
            at: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "at")),
            state: try value(NoticeState.self, row, "state", of: id),
            late: try row.decode(Bool.self, forColumn: "late"),
            attempts: try row.decode(Int.self, forColumn: "attempts"),
            nextAttempt: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "next_attempt")),
            recipients: JSONText.strings(try row.decode(String.self, forColumn: "recipients")),
            explanation: try row.decode(String?.self, forColumn: "explanation"),
            reason: reason.flatMap(NoticeReason.init(rawValue:)),
            firstSeen: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "first_seen")),
            updated: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "updated")))
    }

    static func delivery(_ row: Row) throws -> DeliveryRecord {
        let noticeID = try row.decode(String.self, forColumn: "notice_id")
        return DeliveryRecord(
            noticeID: noticeID,
            sink: try row.decode(String.self, forColumn: "sink"),
            at: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "at")),
            outcome: try value(DeliveryOutcome.self, row, "outcome", of: noticeID),
            error: try row.decode(String?.self, forColumn: "error"))
    }

    static func completion(_ row: Row) throws -> CompletionRecord {
        CompletionRecord(
            deadlineID: try row.decode(String.self, forColumn: "deadline_id"),
            role: try row.decode(String?.self, forColumn: "role"),
            at: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "at")),
            by: try requester(row),
            note: try row.decode(String?.self, forColumn: "note"))
    }

    static func caseRecord(_ row: Row) throws -> CaseRecord {
        CaseRecord(
            reference: try row.decode(String.self, forColumn: "reference"),
            agreement: try row.decode(String.self, forColumn: "agreement"),
            window: try row.decode(String.self, forColumn: "window"),
            openedAt: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "opened_at")),
            closedAt: try row.decode(Double?.self, forColumn: "closed_at").map(Date.init(timeIntervalSince1970:)),
            outcome: try row.decode(String?.self, forColumn: "outcome"),
            deadlineID: try row.decode(String.self, forColumn: "deadline_id"))
    }

    static func audit(_ row: Row) throws -> AuditRecord {
        AuditRecord(
            id: try row.decode(Int64.self, forColumn: "id"),
            at: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "at")),
            by: try requester(row),
            action: try row.decode(String.self, forColumn: "action"),
            target: try row.decode(String?.self, forColumn: "target"),
            detail: try row.decode(String?.self, forColumn: "detail"))
    }

    static func requester(_ row: Row) throws -> Requester {
        let uid = try row.decode(Int64?.self, forColumn: "uid")
        let pid = try row.decode(Int64?.self, forColumn: "pid")
        return Requester(uid: uid.flatMap(UInt32.init(exactly:)), pid: pid.flatMap(Int32.init(exactly:)))
    }

    private static func value<Value: RawRepresentable<String>>(
        _ type: Value.Type, _ row: Row, _ column: String, of id: String
    ) throws -> Value {
        let text = try row.decode(String.self, forColumn: column)
        guard let value = Value(rawValue: text) else {
            throw StoreError(
                .database, "\(id) has \(column) '\(text)', which this samverkand does not know; upgrade samverkand")
        }
        return value
    }

    // MARK: Loading

    static func deadline(id: String, _ db: Database) throws -> StoredDeadline? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(deadlineColumns) FROM deadline WHERE id = ?"), arguments: [id]
        ).map(deadline)
    }

    static func notices(ofDeadline id: String, _ db: Database) throws -> [StoredNotice] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT \(noticeColumns) FROM notice WHERE deadline_id = ? ORDER BY at, id"),
            arguments: [id]
        ).map(notice)
    }

    static func notice(id: String, _ db: Database) throws -> StoredNotice? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(noticeColumns) FROM notice WHERE id = ?"), arguments: [id])
            .map(notice)
    }

    /// Notices with their deadlines, each deadline read once.
    static func claimed(_ notices: [StoredNotice], _ db: Database) throws -> [ClaimedNotice] {
        var cache: [String: StoredDeadline] = [:]
        var claimed: [ClaimedNotice] = []
        for notice in notices {
            let owner: StoredDeadline
            if let cached = cache[notice.deadlineID] {
                owner = cached
            } else {
                guard let loaded = try deadline(id: notice.deadlineID, db) else {
                    throw StoreError(.database, "notice \(notice.id) has no deadline \(notice.deadlineID)")
                }
                cache[notice.deadlineID] = loaded
                owner = loaded
            }
            claimed.append(ClaimedNotice(notice: notice, deadline: owner))
        }
        return claimed
    }
}
