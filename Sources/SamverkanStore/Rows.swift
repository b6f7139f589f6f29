import Foundation
import GRDB
import SamverkanCore

/// Reading the store's rows into its value types. Decoding throws rather than traps: a row a
/// newer or damaged store holds comes out as a `StoreError`, never a crash.
enum Rows {
    /// The columns of a deadline row, in the order `deadlineColumns` selects them: rows are
    /// read by position, which is several times cheaper than GRDB's lookup by name.
    enum DeadlineColumn: Int, CaseIterable {
        case id, agreement, obligation, kind, title, nominal, due, state, origin, explanation, firstSeen, updated
    }

    /// The columns of a notice row, in the order `noticeColumns` selects them.
    enum NoticeColumn: Int, CaseIterable {
        case id, deadlineID, slot, role, at, state, late, attempts, nextAttempt, recipients, explanation, reason
        case firstSeen, updated
    }

    static let deadlineColumns = DeadlineColumn.allCases.map { sqlName("\($0)") }.joined(separator: ", ")
    static let noticeColumns = NoticeColumn.allCases.map { sqlName("\($0)") }.joined(separator: ", ")

    /// `firstSeen` → `first_seen`, `deadlineID` → `deadline_id`.
    static func sqlName(_ caseName: String) -> String {
        var name = ""
        for character in caseName.replacingOccurrences(of: "ID", with: "Id") {
            if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
        }
        return name
    }

    static func deadline(_ row: Row) throws -> StoredDeadline {
        typealias C = DeadlineColumn
        let id = try row.decode(String.self, atIndex: C.id.rawValue)
        let nominalText = try row.decode(String.self, atIndex: C.nominal.rawValue)
        guard let nominal = LocalDate(iso: nominalText) else {
            throw StoreError(.database, "deadline \(id) has a nominal date that is not a date: \(nominalText)")
        }
        return StoredDeadline(
            id: id,
            agreement: try row.decode(String.self, atIndex: C.agreement.rawValue),
            obligation: try row.decode(String.self, atIndex: C.obligation.rawValue),
            kind: try row.decode(String.self, atIndex: C.kind.rawValue),
            title: try row.decode(String.self, atIndex: C.title.rawValue),
            nominal: nominal,
            due: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: C.due.rawValue)),
            state: try value(DeadlineState.self, row, C.state.rawValue, "state", of: id),
            origin: try value(DeadlineOrigin.self, row, C.origin.rawValue, "origin", of: id),
            explanation: JSONText.strings(try row.decode(String.self, atIndex: C.explanation.rawValue)),
            firstSeen: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: C.firstSeen.rawValue)),
            updated: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: C.updated.rawValue)))
    }

    static func notice(_ row: Row) throws -> StoredNotice {
        typealias C = NoticeColumn
        let id = try row.decode(String.self, atIndex: C.id.rawValue)
        let reason = try row.decode(String?.self, atIndex: C.reason.rawValue)
        return StoredNotice(
            id: id,
            deadlineID: try row.decode(String.self, atIndex: C.deadlineID.rawValue),
            slot: try row.decode(String.self, atIndex: C.slot.rawValue),
            role: try row.decode(String?.self, atIndex: C.role.rawValue),
            at: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: C.at.rawValue)),
            state: try value(NoticeState.self, row, C.state.rawValue, "state", of: id),
            late: try row.decode(Bool.self, atIndex: C.late.rawValue),
            attempts: try row.decode(Int.self, atIndex: C.attempts.rawValue),
            nextAttempt: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: C.nextAttempt.rawValue)),
            recipients: JSONText.strings(try row.decode(String.self, atIndex: C.recipients.rawValue)),
            explanation: try row.decode(String?.self, atIndex: C.explanation.rawValue),
            reason: reason.flatMap(NoticeReason.init(rawValue:)),
            firstSeen: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: C.firstSeen.rawValue)),
            updated: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: C.updated.rawValue)))
    }

    static func delivery(_ row: Row) throws -> DeliveryRecord {
        let noticeID = try row.decode(String.self, forColumn: "notice_id")
        return DeliveryRecord(
            noticeID: noticeID,
            sink: try row.decode(String.self, forColumn: "sink"),
            at: Date(timeIntervalSince1970: try row.decode(Double.self, forColumn: "at")),
            outcome: try value(
                DeliveryOutcome.self, try row.decode(String.self, forColumn: "outcome"), "outcome", of: noticeID),
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
        _ type: Value.Type, _ row: Row, _ index: Int, _ column: String, of id: String
    ) throws -> Value {
        try value(type, try row.decode(String.self, atIndex: index), column, of: id)
    }

    private static func value<Value: RawRepresentable<String>>(
        _ type: Value.Type, _ text: String, _ column: String, of id: String
    ) throws -> Value {
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

    /// The notices of many deadlines, by deadline id, each sorted by time and then id: one
    /// query per 500 deadlines instead of one per deadline.
    static func notices(ofDeadlines ids: [String], _ db: Database) throws -> [String: [StoredNotice]] {
        var byDeadline: [String: [StoredNotice]] = [:]
        try forEachRow(
            matching: ids, db,
            sql: { "SELECT \(noticeColumns) FROM notice WHERE deadline_id IN (\($0)) ORDER BY deadline_id, at, id" }
        ) { row in
            let notice = try notice(row)
            byDeadline[notice.deadlineID, default: []].append(notice)
        }
        return byDeadline
    }

    /// Runs `sql` (given the `?, ?, …` of an IN list) for every 500 of `values` in turn, and `body`
    /// on each row, read through a cursor.
    private static func forEachRow(
        matching values: [String], _ db: Database, sql: (String) -> String, _ body: (Row) throws -> Void
    ) throws {
        var start = 0
        while start < values.count {
            let chunk = Array(values[start..<min(values.count, start + 500)])
            start += chunk.count
            let marks = chunk.map { _ in "?" }.joined(separator: ", ")
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql(marks)), arguments: StatementArguments(chunk))
            while let row = try rows.next() { try body(row) }
        }
    }

    /// The notices a statement selects (`noticeColumns`), read through a cursor: no row is copied.
    static func notices(_ statement: Statement, arguments: StatementArguments) throws -> [StoredNotice] {
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var notices: [StoredNotice] = []
        while let row = try rows.next() { notices.append(try notice(row)) }
        return notices
    }

    static func notice(id: String, _ db: Database) throws -> StoredNotice? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(noticeColumns) FROM notice WHERE id = ?"), arguments: [id])
            .map(notice)
    }

    /// Notices with their deadlines, each deadline read once.
    static func claimed(_ notices: [StoredNotice], _ db: Database) throws -> [ClaimedNotice] {
        let owners = try deadlines(ids: Array(Set(notices.map(\.deadlineID))), db)
        return try notices.map { notice in
            guard let owner = owners[notice.deadlineID] else {
                throw StoreError(.database, "notice \(notice.id) has no deadline \(notice.deadlineID)")
            }
            return ClaimedNotice(notice: notice, deadline: owner)
        }
    }

    /// Deadlines by id: one query per 500 ids instead of one per id (a burst of notices due
    /// together is claimed in one transaction).
    static func deadlines(ids: [String], _ db: Database) throws -> [String: StoredDeadline] {
        var found: [String: StoredDeadline] = [:]
        try forEachRow(matching: ids, db, sql: { "SELECT \(deadlineColumns) FROM deadline WHERE id IN (\($0))" }) {
            row in
            let owner = try deadline(row)
            found[owner.id] = owner
        }
        return found
    }
}
