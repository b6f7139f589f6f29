public import Foundation
import GRDB
public import SamverkanCore

extension SQLiteStore {
    public func reconcile(
        plan: [Deadline], window: PlanWindow, now: Date, fingerprint: String?, scope: ReconcileScope,
        progress: (@Sendable (Int) -> Void)?, recording: ReconcileRecording?
    ) async throws(StoreError) -> ReconcileReport {
        try await write("reconcile the plan") { db in
            var reconciler = try Reconciler(db: db, now: now)
            reconciler.progress = progress
            var report = try reconciler.run(plan: PreparedPlan(lazily: plan), window: window, scope: scope)
            try Self.record(&report, fingerprint: fingerprint, window: window, now: now, recording: recording, db)
            return report
        }
    }

    public func startReconcile(
        feed: ReconcileFeed, window: PlanWindow, now: Date, progress: (@Sendable (Int) -> Void)?,
        recording: ReconcileRecording?
    ) -> ReconcileInProgress {
        let inProgress = ReconcileInProgress()
        // Queued on the writer at once: the caller goes on feeding without suspending first.
        pool.asyncWrite { db in
            var reconciler = try Reconciler(db: db, now: now)
            reconciler.progress = progress
            while true {
                switch feed.next() {
                case .agreement(let agreement, let plan):
                    _ = try reconciler.run(plan: plan, window: window, scope: .agreements([agreement]))
                case .finished(let fingerprint):
                    var report = reconciler.report
                    // In the order a reconcile of the whole plan gives them (the plan's, by due).
                    report.moved.sort { ($0.to, $0.id) < ($1.to, $1.id) }
                    report.cancelled.sort()
                    try Self.record(
                        &report, fingerprint: fingerprint, window: window, now: now, recording: recording, db)
                    return report
                case .abandoned:
                    throw StoreError(.cancelled, "the reconcile was abandoned; nothing of it was stored")
                }
            }
        } completion: { [version, path] _, result in
            version.bump()
            // A failed transaction takes nothing more: what the caller still sends is dropped.
            if case .failure = result { feed.abandon() }
            inProgress.complete(result.mapError { Self.storeError($0, "cannot reconcile the plan", path: path) })
        }
        return inProgress
    }

    /// What a reconcile writes besides the plan: the generation and audit row of `recording`,
    /// and the stamp of `fingerprint` for `lastReconcile`.
    private static func record(
        _ report: inout ReconcileReport, fingerprint: String?, window: PlanWindow, now: Date,
        recording: ReconcileRecording?, _ db: Database
    ) throws {
        if let recording {
            report.generation = try insertGeneration(
                fingerprint: fingerprint ?? "", requestedBy: recording.requestedBy, at: recording.at, db)
            if let audit = recording.audit { try insertAudit(audit, db) }
        }
        if let fingerprint {
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO store_info (key, value) VALUES
                        ('reconciled_fingerprint', ?), ('reconciled_start', ?), ('reconciled_end', ?),
                        ('reconciled_at', ?)
                    """,
                arguments: [
                    fingerprint, String(window.start.timeIntervalSince1970),
                    String(window.end.timeIntervalSince1970), String(now.timeIntervalSince1970),
                ])
        }
    }

    public func lastReconcile() async throws(StoreError) -> ReconcileStamp? {
        try await read("read the last reconcile") { db in
            let pairs = try Row.fetchAll(db, sql: "SELECT key, value FROM store_info WHERE key LIKE 'reconciled_%'")
            var values: [String: String] = [:]
            for row in pairs {
                values[try row.decode(String.self, forColumn: "key")] = try row.decode(String.self, forColumn: "value")
            }
            guard let fingerprint = values["reconciled_fingerprint"],
                let start = values["reconciled_start"].flatMap(Double.init),
                let end = values["reconciled_end"].flatMap(Double.init),
                let at = values["reconciled_at"].flatMap(Double.init)
            else { return nil }
            return ReconcileStamp(
                fingerprint: fingerprint,
                window: PlanWindow(start: Date(timeIntervalSince1970: start), end: Date(timeIntervalSince1970: end)),
                at: Date(timeIntervalSince1970: at))
        }
    }
}

/// One reconcile (or one case's deadline inserted), inside its transaction.
///
/// Deadlines whose fingerprint (a hash of every planned field and notice) is unchanged are
/// skipped after one comparison, so a reload that changes 1% of a large plan touches 1% of the
/// rows.
struct Reconciler {
    let db: Database
    let now: Date
    var report = ReconcileReport()
    /// Called every `progressEvery` deadlines.
    var progress: (@Sendable (Int) -> Void)?
    static let progressEvery = 5_000
    /// Deadlines of the plan compared so far, over every `run`.
    private var done = 0
    /// The statements run once per deadline or notice, prepared once per reconcile.
    private let insertDeadline: RawStatement
    private let insertNotice: RawStatement
    private let cancelDeadline: RawStatement
    private let cancelNotices: RawStatement
    /// The recipients of the notice inserted last, with their JSON: the notices of one
    /// obligation share one list, so it is mostly encoded once.
    private var lastRecipients: (list: [String], json: String) = ([], "[]")

    init(db: Database, now: Date) throws {
        self.db = db
        self.now = now
        insertDeadline = try RawStatement(
            db,
            sql: """
                INSERT INTO deadline (id, agreement, obligation, kind, title, nominal, due, state, origin,
                    fingerprint, explanation, first_seen, updated)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?, ?)
                """)
        insertNotice = try RawStatement(
            db,
            sql: """
                INSERT INTO notice (id, deadline_id, slot, role, at, state, late, attempts, next_attempt,
                    recipients, explanation, reason, first_seen, updated)
                VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?)
                """)
        cancelDeadline = try RawStatement(db, sql: "UPDATE deadline SET state = 'cancelled', updated = ? WHERE id = ?")
        // `NoticeUpdates.cancelWaiting` without RETURNING: the reconcile only counts the notices,
        // and SQLite gathers a RETURNING statement's rows in a temporary table on every run.
        cancelNotices = try RawStatement(
            db,
            sql: """
                UPDATE notice SET state = 'cancelled', reason = ?, updated = ?
                WHERE deadline_id = ? AND \(NoticeUpdates.waiting)
                """)
    }

    private struct Existing {
        var fingerprint: Int64
        var state: DeadlineState
        var origin: DeadlineOrigin
    }

    mutating func run(plan: PreparedPlan, window: PlanWindow, scope: ReconcileScope = .all) throws -> ReconcileReport {
        var inWindow: [String: Existing] = [:]
        // With a scope, every stored deadline of its agreements, in the window or not.
        var known: (agreements: Set<String>, deadlines: [String: Existing])?
        switch scope {
        case .all:
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT id, fingerprint, state, origin FROM deadline WHERE due >= ? AND due < ?",
                arguments: [window.start.timeIntervalSince1970, window.end.timeIntervalSince1970])
            while let row = try cursor.next() {
                inWindow[try row.decode(String.self, forColumn: "id")] = try Self.existing(row)
            }
        case .agreements(let agreements):
            // An agreement's deadlines are the ids `AGREEMENT/…`: from "AGREEMENT/" up to
            // "AGREEMENT0" ('0' follows '/'), a range of the primary key. All of them are read,
            // in the window or not, so that no deadline of the plan is looked up on its own.
            let statement = try db.cachedStatement(
                sql: "SELECT id, fingerprint, state, origin, due FROM deadline WHERE id >= ? AND id < ?")
            let (start, end) = (window.start.timeIntervalSince1970, window.end.timeIntervalSince1970)
            var stored: [String: Existing] = [:]
            for agreement in agreements.sorted() {
                let cursor = try Row.fetchCursor(statement, arguments: [agreement + "/", agreement + "0"])
                while let row = try cursor.next() {
                    let id = try row.decode(String.self, forColumn: "id")
                    let existing = try Self.existing(row)
                    let due = try row.decode(Double.self, forColumn: "due")
                    stored[id] = existing
                    if due >= start && due < end { inWindow[id] = existing }
                }
            }
            known = (agreements, stored)
        }

        var planned = Set<String>()
        for (index, deadline) in plan.deadlines.enumerated() where planned.insert(deadline.id).inserted {
            done += 1
            if done % Self.progressEvery == 0 { progress?(done) }
            let prepared = plan[index]
            let stored: Existing?
            // The agreement by the id's prefix, as the scope's query selects them.
            if let known, let slash = deadline.id.firstIndex(of: "/"),
                known.agreements.contains(String(deadline.id[..<slash]))
            {
                stored = known.deadlines[deadline.id]
            } else {
                stored = try inWindow[deadline.id] ?? lookUp(deadline.id)
            }
            guard let existing = stored else {
                try insert(deadline, prepared: prepared, origin: .plan)
                report.added.append(deadline.id)
                continue
            }
            // A case's deadline is not the planner's to change.
            guard existing.origin == .plan else { continue }
            if existing.fingerprint == prepared.fingerprint && existing.state != .cancelled {
                report.unchanged += 1
                continue
            }
            try update(deadline, prepared: prepared, existing: existing)
        }

        for (id, existing) in inWindow.sorted(by: { $0.key < $1.key })
        where existing.origin == .plan && existing.state == .planned && !planned.contains(id) {
            try cancelDeadline.run(.real(now.timeIntervalSince1970), .text(id))
            report.noticesCancelled += try cancelNotices.run(
                .text(NoticeReason.removed.rawValue), .real(now.timeIntervalSince1970), .text(id))
            report.cancelled.append(id)
        }
        return report
    }

    private static func existing(_ row: Row) throws -> Existing {
        let state = try row.decode(String.self, forColumn: "state")
        let origin = try row.decode(String.self, forColumn: "origin")
        guard let state = DeadlineState(rawValue: state), let origin = DeadlineOrigin(rawValue: origin) else {
            throw StoreError(.database, "a deadline has state '\(state)' or origin '\(origin)'; upgrade samverkand")
        }
        return Existing(
            fingerprint: try row.decode(Int64.self, forColumn: "fingerprint"), state: state, origin: origin)
    }

    private func lookUp(_ id: String) throws -> Existing? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT fingerprint, state, origin FROM deadline WHERE id = ?"),
            arguments: [id]
        ).map(Self.existing)
    }

    /// Inserts a deadline new to the store with its notices; notices already due are skipped
    /// (`design.md`, "First start").
    mutating func insert(_ deadline: Deadline, prepared: PreparedDeadline, origin: DeadlineOrigin) throws {
        let seconds = now.timeIntervalSince1970
        try insertDeadline.run(
            .text(deadline.id), .text(deadline.agreement), .text(deadline.obligation), .text(deadline.kind),
            .text(deadline.title), .text(prepared.nominal), .real(deadline.due.timeIntervalSince1970),
            .text(origin.rawValue), .integer(prepared.fingerprint), .text(prepared.explanation),
            .real(seconds), .real(seconds))
        for notice in deadline.notices {
            try insert(notice, of: deadline.id, deadlineState: .planned)
        }
    }

    private mutating func insert(_ notice: PlannedNotice, of deadlineID: String, deadlineState: DeadlineState) throws {
        let state: NoticeState
        let reason: NoticeReason?
        if deadlineState == .done {
            (state, reason) = (.cancelled, .completed)
        } else if notice.at < now {
            (state, reason) = (.skipped, .beforeFirstSeen)
            report.skipped.append(notice.id)
        } else {
            (state, reason) = (.pending, nil)
        }
        let seconds = now.timeIntervalSince1970
        try insertNotice.run(
            .text(notice.id), .text(deadlineID), .text(notice.slot), .text(notice.role(deadlineID: deadlineID)),
            .real(notice.at.timeIntervalSince1970), .text(state.rawValue), .real(notice.at.timeIntervalSince1970),
            .text(recipientsJSON(notice.recipients)), .text(notice.explanation), .text(reason?.rawValue),
            .real(seconds), .real(seconds))
        report.noticesAdded += 1
    }

    /// `JSONText.array(recipients)`, encoded again only when they differ from the last notice's
    /// (comparing the same array is one check of its storage).
    private mutating func recipientsJSON(_ recipients: [String]) -> String {
        if recipients != lastRecipients.list { lastRecipients = (recipients, JSONText.array(recipients)) }
        return lastRecipients.json
    }

    /// A deadline the store has whose fingerprint differs, or that is back in the plan after being
    /// cancelled. What the report says comes from comparing the fields, not the fingerprints, so
    /// a store written with another fingerprint function reconciles to "no change".
    private mutating func update(_ deadline: Deadline, prepared: PreparedDeadline, existing: Existing) throws {
        guard let old = try Rows.deadline(id: deadline.id, db) else { return }
        let restored = existing.state == .cancelled
        let state: DeadlineState = restored ? .planned : existing.state
        try db.cachedStatement(
            sql: """
                UPDATE deadline SET agreement = ?, obligation = ?, kind = ?, title = ?, nominal = ?, due = ?,
                    state = ?, fingerprint = ?, explanation = ?, updated = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            deadline.agreement, deadline.obligation, deadline.kind, deadline.title, prepared.nominal,
            deadline.due.timeIntervalSince1970, state.rawValue, prepared.fingerprint, prepared.explanation,
            now.timeIntervalSince1970, deadline.id,
        ])

        var changed =
            old.agreement != deadline.agreement || old.obligation != deadline.obligation || old.kind != deadline.kind
            || old.title != deadline.title || old.nominal != deadline.nominal || old.explanation != deadline.explanation
        var stored: [String: ComparedNotice] = [:]
        for notice in try ComparedNotice.all(ofDeadline: deadline.id, db) { stored[notice.id] = notice }
        var seen = Set<String>()
        for notice in deadline.notices where seen.insert(notice.id).inserted {
            if let old = stored[notice.id] {
                changed = try update(old, to: notice, deadlineState: state) || changed
            } else {
                try insert(notice, of: deadline.id, deadlineState: state)
                changed = true
            }
        }
        // Notices the plan dropped: those not yet delivered are cancelled; history stays.
        for old in stored.values.sorted(by: { $0.id < $1.id })
        where !seen.contains(old.id) && [.pending, .failed, .sending].contains(old.state) {
            try setState(old.id, .cancelled, reason: .removed)
            report.noticesCancelled += 1
            changed = true
        }

        if restored {
            report.restored.append(deadline.id)
        } else if state == .planned && old.due != deadline.due {
            report.moved.append(.init(id: deadline.id, from: old.due, to: deadline.due))
        } else if state == .planned && changed {
            report.changed.append(deadline.id)
        } else {
            report.unchanged += 1
        }
    }

    /// One stored notice against its planned form. Only a notice that is still waiting for its
    /// time (or was skipped, or cancelled because the plan dropped it) follows the plan; a sent,
    /// failed or superseded notice is history.
    /// Returns whether anything changed.
    private mutating func update(_ old: ComparedNotice, to notice: PlannedNotice, deadlineState: DeadlineState) throws
        -> Bool
    {
        var state = old.state
        var reason = old.reason
        var at = old.at
        var nextAttempt = old.nextAttempt
        let moved = notice.at != old.at
        switch old.state {
        case .pending where moved:
            (at, nextAttempt) = (notice.at, notice.at)
            if notice.at < now {
                // A rule change never fires a notice.
                (state, reason) = (.skipped, .movedIntoPast)
                report.skipped.append(notice.id)
            } else {
                report.noticesRescheduled += 1
            }
        case .skipped where moved:
            (at, nextAttempt) = (notice.at, notice.at)
            if notice.at >= now {
                (state, reason) = (.pending, nil)
                report.noticesRescheduled += 1
            }
        case .cancelled where old.reason == .removed && deadlineState == .planned:
            // Back in the plan.
            (at, nextAttempt) = (notice.at, notice.at)
            if notice.at < now {
                (state, reason) = (.skipped, .beforeFirstSeen)
                report.skipped.append(notice.id)
            } else {
                (state, reason) = (.pending, nil)
            }
            report.noticesAdded += 1
        default:
            break
        }
        let changed =
            state != old.state || at != old.at || notice.slot != old.slot || !old.hasRecipients(notice.recipients)
            || notice.explanation != old.explanation
        guard changed else { return false }
        try db.cachedStatement(
            sql: """
                UPDATE notice SET slot = ?, at = ?, state = ?, next_attempt = ?, recipients = ?, explanation = ?,
                    reason = ?, updated = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            notice.slot, at.timeIntervalSince1970, state.rawValue, nextAttempt.timeIntervalSince1970,
            JSONText.array(notice.recipients), notice.explanation, reason?.rawValue, now.timeIntervalSince1970,
            notice.id,
        ])
        return true
    }

    private func setState(_ id: String, _ state: NoticeState, reason: NoticeReason?) throws {
        try db.execute(
            sql: "UPDATE notice SET state = ?, reason = ?, updated = ? WHERE id = ?",
            arguments: [state.rawValue, reason?.rawValue, now.timeIntervalSince1970, id])
    }
}

/// The fields of a stored notice that a reconcile compares with the plan, read by column index
/// (by name, with its recipients decoded as JSON, reading was most of a 1% reload).
struct ComparedNotice {
    var id: String
    var slot: String
    var at: Date
    var state: NoticeState
    var nextAttempt: Date
    /// As stored: JSON text.
    var recipients: String
    var explanation: String?
    var reason: NoticeReason?

    static func all(ofDeadline id: String, _ db: Database) throws -> [ComparedNotice] {
        let statement = try db.cachedStatement(
            sql:
                "SELECT id, slot, at, state, next_attempt, recipients, explanation, reason FROM notice WHERE deadline_id = ?"
        )
        return try Row.fetchAll(statement, arguments: [id]).map { row in
            let id = try row.decode(String.self, atIndex: 0)
            let state = try row.decode(String.self, atIndex: 3)
            let reason = try row.decode(String?.self, atIndex: 7)
            guard let known = NoticeState(rawValue: state) else {
                throw StoreError(
                    .database, "\(id) has state '\(state)', which this samverkand does not know; upgrade samverkand")
            }
            return ComparedNotice(
                id: id, slot: try row.decode(String.self, atIndex: 1),
                at: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: 2)), state: known,
                nextAttempt: Date(timeIntervalSince1970: try row.decode(Double.self, atIndex: 4)),
                recipients: try row.decode(String.self, atIndex: 5),
                explanation: try row.decode(String?.self, atIndex: 6),
                reason: reason.flatMap(NoticeReason.init(rawValue:)))
        }
    }

    /// Whether the stored recipients are `recipients`: the text this samverkand writes, or else
    /// the decoded list (a store written with other JSON spacing still compares equal).
    func hasRecipients(_ recipients: [String]) -> Bool {
        JSONText.array(recipients) == self.recipients || JSONText.strings(self.recipients) == recipients
    }
}

/// Notice changes shared by reconcile, completion and cases.
enum NoticeUpdates {
    /// The notices not yet delivered: `pending`, `failed` and `sending`. An OR chain, not an IN
    /// list, which SQLite would build into a temporary b-tree on every run of the statement.
    static let waiting = "(state = 'pending' OR state = 'failed' OR state = 'sending')"

    /// Cancels the deadline's notices not yet delivered (`pending`, `failed`, and `sending`, so
    /// that a retry of one in flight is dropped; if its delivery succeeds, `markSent` still
    /// records it), or only one respondent's; returns their ids.
    static func cancelWaiting(deadlineID: String, role: String?, reason: NoticeReason, at: Date, _ db: Database)
        throws -> [String]
    {
        let roleClause = role == nil ? "" : " AND role = ?"
        var arguments: StatementArguments = [reason.rawValue, at.timeIntervalSince1970, deadlineID]
        if let role { arguments += [role] }
        // Cached: a reload that removes 10,000 deadlines runs this 10,000 times.
        let statement = try db.cachedStatement(
            sql: """
                UPDATE notice SET state = 'cancelled', reason = ?, updated = ?
                WHERE deadline_id = ? AND \(waiting)\(roleClause)
                RETURNING id
                """)
        return try String.fetchAll(statement, arguments: arguments).sorted()
    }
}
