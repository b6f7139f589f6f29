public import Foundation
import GRDB

extension SQLiteStore {
    public func deadlines(_ query: DeadlineQuery) async throws(StoreError) -> [DeadlineListing] {
        try await read("list deadlines") { db in
            var arguments = StatementArguments()
            var range: [String] = []
            if let from = query.dueFrom {
                range.append("due >= ?")
                arguments += [from.timeIntervalSince1970]
            }
            if let through = query.dueThrough {
                range.append("due <= ?")
                arguments += [through.timeIntervalSince1970]
            }
            var conditions: [String] = []
            if !range.isEmpty {
                let inRange = range.joined(separator: " AND ")
                if query.includeOverdue, let from = query.dueFrom {
                    conditions.append("((\(inRange)) OR (state = 'planned' AND due < ?))")
                    arguments += [from.timeIntervalSince1970]
                } else {
                    conditions.append(inRange)
                }
            }
            if let agreement = query.agreement {
                conditions.append("agreement = ?")
                arguments += [agreement]
            }
            if let kind = query.kind {
                conditions.append("kind = ?")
                arguments += [kind]
            }
            if let states = query.states {
                let sorted = states.map(\.rawValue).sorted()
                conditions.append("state IN (\(sorted.map { _ in "?" }.joined(separator: ", ")))")
                arguments += StatementArguments(sorted)
            }
            var sql = "SELECT \(Rows.deadlineColumns) FROM deadline"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            sql += " ORDER BY due, id"
            if let limit = query.limit {
                sql += " LIMIT ?"
                arguments += [max(0, limit)]
            }
            // A cursor reads each row in place; `fetchAll` copies every row and its column names.
            var deadlines: [StoredDeadline] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try rows.next() { deadlines.append(try Rows.deadline(row)) }
            let notices = try Rows.notices(ofDeadlines: deadlines.map(\.id), db)
            return deadlines.map { DeadlineListing(deadline: $0, notices: notices[$0.id] ?? []) }
        }
    }

    public func deadline(id: String) async throws(StoreError) -> DeadlineDetail? {
        try await read("read deadline \(id)") { db in
            guard let deadline = try Rows.deadline(id: id, db) else { return nil }
            let deliveries = try Row.fetchAll(
                db,
                sql: """
                    SELECT delivery.notice_id, delivery.sink, delivery.at, delivery.outcome, delivery.error
                    FROM delivery JOIN notice ON notice.id = delivery.notice_id
                    WHERE notice.deadline_id = ? ORDER BY delivery.at, delivery.id
                    """,
                arguments: [id]
            ).map(Rows.delivery)
            let completions = try Row.fetchAll(
                db, sql: "SELECT * FROM completion WHERE deadline_id = ? ORDER BY at, id", arguments: [id]
            ).map(Rows.completion)
            return DeadlineDetail(
                deadline: deadline, notices: try Rows.notices(ofDeadline: id, db), deliveries: deliveries,
                completions: completions)
        }
    }

    /// Kept until the next write: counting a million notices takes tens of milliseconds.
    public func counts() async throws(StoreError) -> StoreCounts {
        try await countsMemo.value(at: version.current) { () async throws(StoreError) -> StoreCounts in
            try await self.countByState()
        }
    }

    private func countByState() async throws(StoreError) -> StoreCounts {
        try await read("count deadlines and notices") { db in
            var deadlines: [DeadlineState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM deadline GROUP BY state") {
                if let state = DeadlineState(rawValue: try row.decode(String.self, forColumn: "state")) {
                    deadlines[state] = try row.decode(Int.self, forColumn: "n")
                }
            }
            var notices: [NoticeState: Int] = [:]
            // Grouped by the queue index's first column: no table scan.
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM notice GROUP BY state") {
                if let state = NoticeState(rawValue: try row.decode(String.self, forColumn: "state")) {
                    notices[state] = try row.decode(Int.self, forColumn: "n")
                }
            }
            let openCases = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM case_window WHERE closed_at IS NULL") ?? 0
            return StoreCounts(deadlines: deadlines, notices: notices, openCases: openCases)
        }
    }

    public func overdueCount(now: Date) async throws(StoreError) -> Int {
        try await overdueMemo.value(at: version.current, isCurrent: { $0.answers(now) }) {
            () async throws(StoreError) -> OverdueCount in
            try await self.read("count overdue deadlines") { db in
                let instant = now.timeIntervalSince1970
                let count =
                    try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM deadline WHERE state = 'planned' AND due < ?",
                        arguments: [instant]) ?? 0
                let next = try Double.fetchOne(
                    db, sql: "SELECT MIN(due) FROM deadline WHERE state = 'planned' AND due >= ?", arguments: [instant])
                return OverdueCount(from: now, count: count, nextDue: next.map(Date.init(timeIntervalSince1970:)))
            }
        }.count
    }

    public func nextDeadline(dueFrom now: Date) async throws(StoreError) -> DeadlineListing? {
        let answer = try await nextDeadlineMemo.value(at: version.current, isCurrent: { $0.answers(now) }) {
            () async throws(StoreError) -> NextDeadline in
            let first = try await self.deadlines(DeadlineQuery(dueFrom: now, states: [.planned], limit: 1)).first
            return NextDeadline(from: now, listing: first)
        }
        return answer.listing
    }
}

/// How many planned deadlines were due before `from`, and the earliest due at or after it: the
/// count holds for any later time up to that due.
struct OverdueCount: Sendable {
    var from: Date
    var count: Int
    var nextDue: Date?

    func answers(_ now: Date) -> Bool { now >= from && now <= (nextDue ?? .distantFuture) }
}

/// The first planned deadline due at or after `from`, or none. The same answer holds for any
/// later time up to that deadline's due: nothing is due between.
struct NextDeadline: Sendable {
    var from: Date
    var listing: DeadlineListing?

    func answers(_ now: Date) -> Bool {
        guard now >= from else { return false }
        guard let listing else { return true }
        return now <= listing.deadline.due
    }
}
