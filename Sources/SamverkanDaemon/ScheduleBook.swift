import Foundation
import SamverkanCore

/// The state of every planned notice while the daemon runs: which are pending, which were
/// sent, which failed. Plain value type; the scheduler owns it.
struct ScheduleBook: Sendable {
    enum NoticeState: String, Sendable {
        case pending, sending, sent, failed, dead, cancelled
        /// Fell due before this daemon first planned it: not a missed notice (`design.md`,
        /// "First start").
        case skipped
    }

    struct Entry: Sendable {
        var notice: PlannedNotice
        var deadlineID: String
        var state: NoticeState
        var attempts: Int = 0
        /// When to try next (the planned time, or a retry's backoff).
        var nextAttempt: Date
        var late = false
    }

    private(set) var deadlines: [String: Deadline] = [:]
    private(set) var entries: [String: Entry] = [:]
    /// Deadlines sorted by due, for listings.
    private(set) var ordered: [Deadline] = []

    /// What a reload changed, in words for the journal and the reload answer.
    struct Change: Sendable {
        var added: [String] = []
        var removed: [String] = []
        var moved: [(id: String, from: Date, to: Date)] = []

        func summary(zone: Zone) -> String {
            if added.isEmpty && removed.isEmpty && moved.isEmpty { return "no change in planned deadlines" }
            var parts: [String] = []
            if !added.isEmpty { parts.append("\(added.count) added") }
            for move in moved.prefix(5) {
                parts.append("\(move.id) moved from \(zone.rfc3339(move.from)) to \(zone.rfc3339(move.to))")
            }
            if moved.count > 5 { parts.append("\(moved.count - 5) more moved") }
            if !removed.isEmpty { parts.append("\(removed.count) cancelled") }
            return parts.joined(separator: ", ")
        }
    }

    /// Replaces the plan. Notices that existed keep their state; new notices whose time has
    /// passed are skipped (a rule change never fires a notice); notices no longer planned are
    /// dropped.
    @discardableResult
    mutating func replace(with plan: [Deadline], now: Date) -> Change {
        var change = Change()
        var newDeadlines: [String: Deadline] = [:]
        var newEntries: [String: Entry] = [:]
        for deadline in plan {
            newDeadlines[deadline.id] = deadline
            if let old = deadlines[deadline.id] {
                if old.due != deadline.due { change.moved.append((deadline.id, old.due, deadline.due)) }
            } else {
                change.added.append(deadline.id)
            }
            for notice in deadline.notices {
                if var existing = entries[notice.id] {
                    existing.notice = notice
                    if existing.state == .pending || existing.state == .skipped {
                        existing.state = notice.at < now ? .skipped : .pending
                        existing.nextAttempt = notice.at
                    }
                    newEntries[notice.id] = existing
                } else {
                    newEntries[notice.id] = Entry(
                        notice: notice, deadlineID: deadline.id, state: notice.at < now ? .skipped : .pending,
                        nextAttempt: notice.at)
                }
            }
        }
        change.removed = deadlines.keys.filter { newDeadlines[$0] == nil }.sorted()
        deadlines = newDeadlines
        entries = newEntries
        ordered = plan
        return change
    }

    /// The earliest time a pending or failed notice wants attention.
    var nextAttempt: Date? {
        entries.values.lazy.filter { $0.state == .pending || $0.state == .failed }.map(\.nextAttempt).min()
    }

    /// The next notice that will go out, for status.
    var nextNotice: Entry? {
        entries.values.filter { $0.state == .pending || $0.state == .failed }
            .min { ($0.nextAttempt, $0.notice.id) < ($1.nextAttempt, $1.notice.id) }
    }

    /// Notices due at `now`, marked `sending`, oldest first.
    mutating func claimDue(now: Date) -> [Entry] {
        var due: [Entry] = []
        for (id, entry) in entries where (entry.state == .pending || entry.state == .failed) && entry.nextAttempt <= now
        {
            entries[id]?.state = .sending
            entries[id]?.attempts += 1
            due.append(entry)
        }
        return due.sorted { ($0.nextAttempt, $0.notice.id) < ($1.nextAttempt, $1.notice.id) }
    }

    mutating func markSent(_ id: String, late: Bool) {
        entries[id]?.state = .sent
        entries[id]?.late = late
    }

    mutating func markFailed(_ id: String, retryAt: Date?) {
        guard let retryAt else {
            entries[id]?.state = .dead
            return
        }
        entries[id]?.state = .failed
        entries[id]?.nextAttempt = retryAt
    }

    func count(_ state: NoticeState) -> Int { entries.values.lazy.filter { $0.state == state }.count }

    func state(ofNotice id: String) -> NoticeState? { entries[id]?.state }
}
