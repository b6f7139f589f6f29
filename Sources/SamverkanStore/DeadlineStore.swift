public import Foundation
public import SamverkanCore

/// The daemon's single source of truth at run time: deadlines, notices and their states,
/// delivery attempts, completions, cases, config generations and the audit trail.
///
/// The scheduler and the control socket talk only to this protocol, so a second backend
/// (PostgreSQL, for several nodes) can be added without touching them. `SQLiteStore` is the
/// embedded one.
///
/// Every operation is one transaction. A state change is committed before its side effect:
/// `claimDue` commits `sending` before any sink is called, so after a crash the notice is found
/// in `sending` (`recoverSending`) and sent again with the same id, which receivers use to drop
/// the duplicate (`design.md`, "Identity and idempotency").
///
/// The daemon's order at start: `recoverSending`, then `reconcile` (unless `lastReconcile`
/// shows the same config and horizon), then `catchUp`, then the loop of `nextDue` and
/// `claimDue`. After a suspend or a large clock jump, `catchUp` again before `claimDue`.
public protocol DeadlineStore: Sendable {
    // MARK: Plan

    /// Brings the store in line with the planner's output for `window`, in one transaction.
    ///
    /// New deadlines and notices are added; a planned deadline in the window that the plan no
    /// longer has is cancelled with its undelivered notices; a deadline whose due changed is moved.
    /// A new notice whose time is before `now` is `skipped`, and so is a pending one that a change
    /// moves before `now`: a rule change never fires a notice. Sent notices and completions are
    /// history and stay. `fingerprint` (the config's) is stamped for `lastReconcile`. `scope`
    /// restricts the comparison to some agreements' deadlines (see ``ReconcileScope``).
    /// `progress` is called with the number of deadlines done, every few thousand: a long
    /// reconcile (a million notices) tells systemd it is alive.
    ///
    /// `recording` (a reload) appends the config generation, and the request's audit row, in
    /// the same transaction: the plan, its generation and who asked for it are stored together
    /// or not at all (``ReconcileReport/generation``).
    func reconcile(
        plan: [Deadline], window: PlanWindow, now: Date, fingerprint: String?, scope: ReconcileScope,
        progress: (@Sendable (Int) -> Void)?, recording: ReconcileRecording?
    ) async throws(StoreError) -> ReconcileReport

    /// Starts a reconcile whose plan arrives agreement by agreement through `feed`, and returns
    /// at once; the caller feeds it (``ReconcileFeed``) and then awaits the report.
    ///
    /// Each agreement sent is reconciled as ``ReconcileScope/agreements(_:)`` of that one
    /// agreement, so the store ends as a scoped reconcile of all of them would leave it; the same
    /// conditions apply. Everything happens in one transaction, committed when the feed
    /// finishes (with `recording` and the fingerprint stamped as in `reconcile`) and rolled back
    /// when it is abandoned. The report's moves and cancellations are in the order of a whole
    /// reconcile; its other lists are in the order the agreements were sent. The store's other
    /// writes wait until the feed has ended: the caller must end it, whatever happens, and must
    /// not wait for the store before it has.
    func startReconcile(
        feed: ReconcileFeed, window: PlanWindow, now: Date, progress: (@Sendable (Int) -> Void)?,
        recording: ReconcileRecording?
    ) -> ReconcileInProgress

    /// The fingerprint and window of the last reconcile, or nil before the first.
    func lastReconcile() async throws(StoreError) -> ReconcileStamp?

    // MARK: Delivery queue

    /// The earliest `next_attempt` of a pending or failed notice: when the scheduler wakes next.
    func nextDue() async throws(StoreError) -> Date?

    /// The notice that `nextDue` belongs to, with its deadline (for `status`).
    func nextNotice() async throws(StoreError) -> ClaimedNotice?

    /// Pending and failed notices whose `next_attempt` is at or before `now`, earliest first, at
    /// most `limit`: marked `sending` (attempts + 1) and committed before they are returned.
    func claimDue(now: Date, limit: Int) async throws(StoreError) -> [ClaimedNotice]

    /// Pending and failed notices whose `next_attempt` is in `from..<before`, earliest first, at
    /// most `limit`, with their deadlines, as they are now: nothing is claimed (the scheduler
    /// prepares them shortly before they fall due).
    func waiting(from: Date, before: Date, limit: Int) async throws(StoreError) -> [ClaimedNotice]

    /// Notices left in `sending` by a crash, to be sent again with the same id (attempts + 1).
    func recoverSending(now: Date) async throws(StoreError) -> [ClaimedNotice]

    /// Pending notices whose time passed before `missedBefore` while nothing sent them: per
    /// deadline the latest is claimed (`sending`, `late`) and returned, the others become
    /// `superseded`. At start `missedBefore` is now; in the running loop it lags a grace period
    /// behind, so only a suspend or a clock jump counts as missing a notice.
    func catchUp(missedBefore: Date, now: Date) async throws(StoreError) -> CatchUpReport

    /// A delivery succeeded: `sent`, with the `late` flag (a flag set by `catchUp` stays set).
    /// Recorded even if the notice was cancelled meanwhile: it did go out.
    func markSent(_ noticeID: String, at: Date, late: Bool) async throws(StoreError)

    /// Records a delivery's attempts and its outcome in one transaction: `sent`, a retry
    /// (`failed` until `retryAt`) or `dead`. Like `markRetry` and `markDead`, a retry or a
    /// dead letter is ignored unless the notice is still `sending`.
    func finishDelivery(_ noticeID: String, attempts: [DeliveryRecord], outcome: DeliveryResolution, at: Date)
        async throws(StoreError)

    /// `finishDelivery` for many notices in one transaction: one commit for a batch.
    func finishDeliveries(_ finished: [FinishedDelivery], at: Date) async throws(StoreError)

    /// Every delivery attempt of one notice, oldest first (a retry skips the sinks that took it).
    func deliveries(noticeID: String) async throws(StoreError) -> [DeliveryRecord]

    /// Dead letters: notices delivery gave up on, oldest first, with their deadlines.
    func undelivered() async throws(StoreError) -> [ClaimedNotice]

    /// Claims one notice for a delivery asked for by hand (`samverkanctl retry`): a dead or
    /// failed notice becomes `sending` (attempts + 1). Throws `unknownNotice`, or `conflict` when
    /// the notice is in another state.
    func claimForRetry(_ noticeID: String, now: Date) async throws(StoreError) -> ClaimedNotice

    /// Records one attempt at one sink.
    func recordAttempt(_ attempt: DeliveryRecord) async throws(StoreError)

    /// Delivery failed and will be retried at `retryAt` (`failed`). Ignored unless the notice is
    /// `sending`, so a completion that cancelled it meanwhile wins.
    func markRetry(_ noticeID: String, retryAt: Date, now: Date) async throws(StoreError)

    /// Delivery gave up (`dead`, a dead letter). Ignored unless the notice is `sending`.
    func markDead(_ noticeID: String, now: Date) async throws(StoreError)

    // MARK: Completion and cases

    /// Marks a deadline done and cancels its undelivered notices (pending, failed, and sending, so
    /// that no retry follows; a delivery in flight that succeeds is still marked sent). With
    /// `role`, records that respondent's answer to a collection round and cancels only that
    /// respondent's notices; the round is done when every respondent has answered. Completing
    /// twice changes nothing.
    /// Throws `unknownDeadline`, `unknownRole` or `notARound`.
    /// With `audit`, the record is appended in the same transaction: a write is never stored
    /// without its audit row, nor the row without the write.
    func complete(
        deadlineID: String, role: String?, by: Requester, note: String?, at: Date, audit: AuditRecord?
    ) async throws(StoreError) -> CompletionResult

    /// Opens a case and stores its window's deadline (made by `deadline` from the reference,
    /// which the store assigns when the opening has none) in one transaction. The same case again
    /// with the same fields returns it (`created` false); with other fields it is a `conflict`.
    /// `audit` is appended in the same transaction; a nil `target` becomes the case's reference.
    func openCase(
        _ opening: CaseOpening, now: Date, audit: AuditRecord?, deadline: @Sendable (_ reference: String) -> Deadline
    ) async throws(StoreError) -> CaseOpened

    /// Closes a case with its outcome; its deadline is done and its undelivered notices cancelled.
    /// Closing again with the same outcome changes nothing; with another it is a `conflict`.
    /// `audit` is appended in the same transaction.
    func closeCase(reference: String, outcome: String, by: Requester, at: Date, audit: AuditRecord?)
        async throws(StoreError) -> CaseRecord

    /// One case by its reference, open or closed, or nil.
    func caseRecord(reference: String) async throws(StoreError) -> CaseRecord?

    /// Open cases, oldest first, and those closed at or after `closedSince`.
    func cases(closedSince: Date?) async throws(StoreError) -> [CaseRecord]

    // MARK: Reads

    /// Deadlines with their notices, sorted by due and then id.
    func deadlines(_ query: DeadlineQuery) async throws(StoreError) -> [DeadlineListing]

    /// One deadline with notices, deliveries and completions, or nil.
    func deadline(id: String) async throws(StoreError) -> DeadlineDetail?

    func counts() async throws(StoreError) -> StoreCounts

    /// A number that changes with every write to the store: an answer read while it had one
    /// value still holds while it has it. (A backend that cannot tell may change it always.)
    var contentVersion: UInt64 { get }

    /// Planned deadlines due before `now` (overdue).
    func overdueCount(now: Date) async throws(StoreError) -> Int

    /// The first planned deadline due at or after `now` (what `status` calls next), or nil.
    func nextDeadline(dueFrom now: Date) async throws(StoreError) -> DeadlineListing?

    // MARK: Config generations and audit

    /// Records a successful config load; returns its generation number.
    func recordGeneration(fingerprint: String, requestedBy: String, at: Date) async throws(StoreError) -> Int

    func latestGeneration() async throws(StoreError) -> ConfigGeneration?

    /// Appends to the audit trail (which can't be changed or deleted); returns the record's id.
    @discardableResult
    func appendAudit(_ record: AuditRecord) async throws(StoreError) -> Int64

    /// The newest audit records first, at most `limit`, optionally only those before id `before`.
    func auditTrail(limit: Int, before: Int64?) async throws(StoreError) -> [AuditRecord]

    // MARK: Maintenance

    /// Writes a consistent copy of the whole store to `path` while the daemon runs. The file must
    /// not exist yet.
    func backup(to path: String) async throws(StoreError)
}

extension DeadlineStore {
    /// Reconcile recording no generation.
    public func reconcile(
        plan: [Deadline], window: PlanWindow, now: Date, fingerprint: String?, scope: ReconcileScope,
        progress: (@Sendable (Int) -> Void)?
    ) async throws(StoreError) -> ReconcileReport {
        try await reconcile(
            plan: plan, window: window, now: now, fingerprint: fingerprint, scope: scope, progress: progress,
            recording: nil)
    }

    /// Reconcile without stamping a config fingerprint.
    public func reconcile(plan: [Deadline], window: PlanWindow, now: Date) async throws(StoreError)
        -> ReconcileReport
    {
        try await reconcile(plan: plan, window: window, now: now, fingerprint: nil, scope: .all, progress: nil)
    }

    /// Reconcile with no progress reports.
    public func reconcile(plan: [Deadline], window: PlanWindow, now: Date, fingerprint: String?)
        async throws(StoreError) -> ReconcileReport
    {
        try await reconcile(
            plan: plan, window: window, now: now, fingerprint: fingerprint, scope: .all, progress: nil)
    }

    /// Everything whose time passed before `now` is missed.
    public func catchUp(now: Date) async throws(StoreError) -> CatchUpReport {
        try await catchUp(missedBefore: now, now: now)
    }

    /// Completes a deadline, or one respondent's part, with no audit record.
    public func complete(deadlineID: String, role: String?, by: Requester, note: String?, at: Date)
        async throws(StoreError) -> CompletionResult
    {
        try await complete(deadlineID: deadlineID, role: role, by: by, note: note, at: at, audit: nil)
    }

    /// Opens a case with no audit record.
    public func openCase(
        _ opening: CaseOpening, now: Date, deadline: @Sendable (_ reference: String) -> Deadline
    ) async throws(StoreError) -> CaseOpened {
        try await openCase(opening, now: now, audit: nil, deadline: deadline)
    }

    /// Closes a case with no audit record.
    public func closeCase(reference: String, outcome: String, by: Requester, at: Date) async throws(StoreError)
        -> CaseRecord
    {
        try await closeCase(reference: reference, outcome: outcome, by: by, at: at, audit: nil)
    }

    /// Marks a deadline done as a whole.
    public func complete(deadlineID: String, by: Requester = .daemon, note: String? = nil, at: Date)
        async throws(StoreError) -> CompletionResult
    {
        try await complete(deadlineID: deadlineID, role: nil, by: by, note: note, at: at)
    }

    /// Open cases only.
    public func openCases() async throws(StoreError) -> [CaseRecord] { try await cases(closedSince: nil) }
}
