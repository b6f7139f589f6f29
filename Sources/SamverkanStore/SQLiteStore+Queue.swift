public import Foundation
import GRDB

extension SQLiteStore {
    /// The earliest time a pending or failed notice wants attention. One probe of the index
    /// `notice_queue (state, next_attempt)` per state: SQLite's MIN optimisation needs an
    /// equality on the index's first column, which an `IN` would not give.
    static let nextDueSQL = """
        SELECT MIN(t) FROM (
            SELECT MIN(next_attempt) AS t FROM notice WHERE state = 'pending'
            UNION ALL
            SELECT MIN(next_attempt) AS t FROM notice WHERE state = 'failed')
        """

    public func nextDue() async throws(StoreError) -> Date? {
        try await read("find the next due notice") { db in
            try Double.fetchOne(db, sql: Self.nextDueSQL).map(Date.init(timeIntervalSince1970:))
        }
    }

    public func nextNotice() async throws(StoreError) -> ClaimedNotice? {
        try await nextNoticeMemo.value(at: version.current) { () async throws(StoreError) -> ClaimedNotice? in
            try await self.readNextNotice()
        }
    }

    private func readNextNotice() async throws(StoreError) -> ClaimedNotice? {
        try await read("find the next due notice") { db in
            var earliest: StoredNotice?
            for state in NoticeState.waiting {
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT \(Rows.noticeColumns) FROM notice WHERE state = ? ORDER BY next_attempt LIMIT 1"),
                    arguments: [state.rawValue])
                if let notice = try row.map(Rows.notice), notice.nextAttempt < (earliest?.nextAttempt ?? .distantFuture)
                {
                    earliest = notice
                }
            }
            guard let earliest else { return nil }
            return try Rows.claimed([earliest], db).first
        }
    }

    public func claimDue(now: Date, limit: Int) async throws(StoreError) -> [ClaimedNotice] {
        try await write("claim due notices") { db in
            let due = try Rows.notices(
                db.cachedStatement(
                    sql: """
                        SELECT \(Rows.noticeColumns) FROM notice
                        WHERE state IN ('pending', 'failed') AND next_attempt <= ?
                        ORDER BY next_attempt, id LIMIT ?
                        """),
                arguments: [now.timeIntervalSince1970, max(0, limit)])
            return try Rows.claimed(try due.map { try Self.claim($0, late: false, now: now, db) }, db)
        }
    }

    public func waiting(from: Date, before: Date, limit: Int) async throws(StoreError) -> [ClaimedNotice] {
        try await read("read the notices due next") { db in
            let notices = try Rows.notices(
                db.cachedStatement(
                    sql: """
                        SELECT \(Rows.noticeColumns) FROM notice
                        WHERE state IN ('pending', 'failed') AND next_attempt >= ? AND next_attempt < ?
                        ORDER BY next_attempt, id LIMIT ?
                        """),
                arguments: [from.timeIntervalSince1970, before.timeIntervalSince1970, max(0, limit)])
            return try Rows.claimed(notices, db)
        }
    }

    public func recoverSending(now: Date) async throws(StoreError) -> [ClaimedNotice] {
        try await write("recover notices left in sending") { db in
            let left = try Row.fetchAll(
                db, sql: "SELECT \(Rows.noticeColumns) FROM notice WHERE state = 'sending' ORDER BY next_attempt, id"
            ).map(Rows.notice)
            return try Rows.claimed(try left.map { try Self.claim($0, late: false, now: now, db) }, db)
        }
    }

    public func catchUp(missedBefore: Date, now: Date) async throws(StoreError) -> CatchUpReport {
        try await write("catch up on missed notices") { db in
            let missed = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Rows.noticeColumns) FROM notice WHERE state = 'pending' AND next_attempt < ?
                    ORDER BY deadline_id, at, id
                    """,
                arguments: [missedBefore.timeIntervalSince1970]
            ).map(Rows.notice)
            var report = CatchUpReport()
            var toSend: [StoredNotice] = []
            for group in Self.groupedByDeadline(missed) {
                // The latest time wins; notices tied at it (one per respondent of a round) all go.
                let latest = group.map(\.at).max() ?? now
                let sending = group.filter { $0.at == latest }
                for notice in group {
                    let action: CatchUpReport.Action
                    if notice.at == latest {
                        action = .sendLate
                        toSend.append(try Self.claim(notice, late: true, now: now, db))
                    } else {
                        let successor = sending.first { $0.role != nil && $0.role == notice.role } ?? sending[0]
                        action = .superseded(by: successor.id)
                        try db.execute(
                            sql: "UPDATE notice SET state = 'superseded', reason = ?, updated = ? WHERE id = ?",
                            arguments: [NoticeReason.superseded.rawValue, now.timeIntervalSince1970, notice.id])
                    }
                    report.missed.append(
                        .init(
                            noticeID: notice.id, deadlineID: notice.deadlineID, slot: notice.slot, at: notice.at,
                            action: action))
                }
            }
            report.toSend = try Rows.claimed(toSend, db)
            return report
        }
    }

    public func markSent(_ noticeID: String, at: Date, late: Bool) async throws(StoreError) {
        try await write("mark \(noticeID) sent") { db in
            try db.execute(
                sql: "UPDATE notice SET state = 'sent', late = MAX(late, ?), updated = ? WHERE id = ?",
                arguments: [late, at.timeIntervalSince1970, noticeID])
            if db.changesCount == 0 { throw Self.unknownNotice(noticeID) }
        }
    }

    public func finishDelivery(
        _ noticeID: String, attempts: [DeliveryRecord], outcome: DeliveryResolution, at: Date
    ) async throws(StoreError) {
        try await write("record the delivery of \(noticeID)") { db in
            guard try Rows.notice(id: noticeID, db) != nil else { throw Self.unknownNotice(noticeID) }
            try Self.finish(noticeID, attempts: attempts, outcome: outcome, at: at, db)
        }
    }

    public func finishDeliveries(_ finished: [FinishedDelivery], at: Date) async throws(StoreError) {
        try await write("record \(finished.count) deliveries") { db in
            for item in finished {
                // A notice gone meanwhile (its deadline left the plan and was purged) is skipped.
                guard try Rows.notice(id: item.noticeID, db) != nil else { continue }
                try Self.finish(item.noticeID, attempts: item.attempts, outcome: item.outcome, at: at, db)
            }
        }
    }

    private static func finish(
        _ noticeID: String, attempts: [DeliveryRecord], outcome: DeliveryResolution, at: Date, _ db: Database
    ) throws {
        for attempt in attempts {
            try db.cachedStatement(
                sql: "INSERT INTO delivery (notice_id, sink, at, outcome, error) VALUES (?, ?, ?, ?, ?)"
            ).execute(arguments: [
                attempt.noticeID, attempt.sink, attempt.at.timeIntervalSince1970, attempt.outcome.rawValue,
                attempt.error,
            ])
        }
        switch outcome {
        case .sent(let late):
            try db.cachedStatement(
                sql: "UPDATE notice SET state = 'sent', late = MAX(late, ?), updated = ? WHERE id = ?",
            ).execute(arguments: [late, at.timeIntervalSince1970, noticeID])
        case .retry(let retryAt):
            try db.cachedStatement(
                sql: """
                    UPDATE notice SET state = 'failed', next_attempt = ?, updated = ?
                    WHERE id = ? AND state = 'sending'
                    """,
            ).execute(arguments: [retryAt.timeIntervalSince1970, at.timeIntervalSince1970, noticeID])
        case .dead:
            try db.cachedStatement(
                sql: "UPDATE notice SET state = 'dead', updated = ? WHERE id = ? AND state = 'sending'",
            ).execute(arguments: [at.timeIntervalSince1970, noticeID])
        case .deferred(let until):
            try db.cachedStatement(
                sql: """
                    UPDATE notice SET state = 'pending', next_attempt = ?, attempts = MAX(attempts - 1, 0),
                        updated = ?
                    WHERE id = ? AND state = 'sending'
                    """,
            ).execute(arguments: [until.timeIntervalSince1970, at.timeIntervalSince1970, noticeID])
        }
    }

    public func deliveries(noticeID: String) async throws(StoreError) -> [DeliveryRecord] {
        try await read("read the deliveries of \(noticeID)") { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT notice_id, sink, at, outcome, error FROM delivery WHERE notice_id = ? ORDER BY at, id"),
                arguments: [noticeID]
            ).map(Rows.delivery)
        }
    }

    public func undelivered() async throws(StoreError) -> [ClaimedNotice] {
        try await read("list undelivered notices") { db in
            let dead = try Row.fetchAll(
                db, sql: "SELECT \(Rows.noticeColumns) FROM notice WHERE state = 'dead' ORDER BY at, id"
            ).map(Rows.notice)
            return try Rows.claimed(dead, db)
        }
    }

    public func claimForRetry(_ noticeID: String, now: Date) async throws(StoreError) -> ClaimedNotice {
        try await write("claim \(noticeID) for a retry") { db in
            guard let notice = try Rows.notice(id: noticeID, db) else { throw Self.unknownNotice(noticeID) }
            guard notice.state == .dead || notice.state == .failed else {
                throw StoreError(
                    .conflict,
                    "notice \(noticeID) is \(notice.state.rawValue); only an undelivered (dead) or failed notice is retried by hand"
                )
            }
            return try Rows.claimed([try Self.claim(notice, late: false, now: now, db)], db)[0]
        }
    }

    public func recordAttempt(_ attempt: DeliveryRecord) async throws(StoreError) {
        try await write("record a delivery of \(attempt.noticeID)") { db in
            guard try Rows.notice(id: attempt.noticeID, db) != nil else { throw Self.unknownNotice(attempt.noticeID) }
            try db.execute(
                sql: "INSERT INTO delivery (notice_id, sink, at, outcome, error) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    attempt.noticeID, attempt.sink, attempt.at.timeIntervalSince1970, attempt.outcome.rawValue,
                    attempt.error,
                ])
        }
    }

    public func markRetry(_ noticeID: String, retryAt: Date, now: Date) async throws(StoreError) {
        try await write("schedule a retry of \(noticeID)") { db in
            try db.execute(
                sql:
                    "UPDATE notice SET state = 'failed', next_attempt = ?, updated = ? WHERE id = ? AND state = 'sending'",
                arguments: [retryAt.timeIntervalSince1970, now.timeIntervalSince1970, noticeID])
            if db.changesCount == 0, try Rows.notice(id: noticeID, db) == nil { throw Self.unknownNotice(noticeID) }
        }
    }

    public func markDead(_ noticeID: String, now: Date) async throws(StoreError) {
        try await write("mark \(noticeID) dead") { db in
            try db.execute(
                sql: "UPDATE notice SET state = 'dead', updated = ? WHERE id = ? AND state = 'sending'",
                arguments: [now.timeIntervalSince1970, noticeID])
            if db.changesCount == 0, try Rows.notice(id: noticeID, db) == nil { throw Self.unknownNotice(noticeID) }
        }
    }

    // MARK: Helpers

    /// Marks a notice `sending` (attempts + 1) and returns it as now stored.
    private static func claim(_ notice: StoredNotice, late: Bool, now: Date, _ db: Database) throws -> StoredNotice {
        // Bound directly: a burst claims a thousand notices in one transaction.
        try RawStatement(
            db,
            sql: """
                UPDATE notice SET state = 'sending', attempts = attempts + 1, late = MAX(late, ?), updated = ?
                WHERE id = ?
                """
        ).run(.integer(late ? 1 : 0), .real(now.timeIntervalSince1970), .text(notice.id))
        var claimed = notice
        claimed.state = .sending
        claimed.attempts += 1
        claimed.late = claimed.late || late
        claimed.updated = now
        return claimed
    }

    /// Consecutive runs of one deadline's notices (the input is sorted by deadline).
    private static func groupedByDeadline(_ notices: [StoredNotice]) -> [[StoredNotice]] {
        var groups: [[StoredNotice]] = []
        for notice in notices {
            if groups.last?.last?.deadlineID == notice.deadlineID {
                groups[groups.count - 1].append(notice)
            } else {
                groups.append([notice])
            }
        }
        return groups
    }

    static func unknownNotice(_ id: String) -> StoreError {
        StoreError(
            .unknownNotice, "no notice \(id) in the store; `samverkanctl show DEADLINE` lists a deadline's notices")
    }

    static func unknownDeadline(_ id: String) -> StoreError {
        StoreError(
            .unknownDeadline, "no deadline \(id) in the store; `samverkanctl upcoming` lists deadlines and their ids")
    }
}
