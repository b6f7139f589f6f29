public import Foundation
public import SamverkanCore

/// What a reconcile changed, for the reload answer and the journal:
/// "3 added, 1 moved (… from 2026-12-01 to 2026-11-30), 2 cancelled".
public struct ReconcileReport: Sendable, Hashable {
    /// A deadline whose due instant changed.
    public struct Move: Sendable, Hashable {
        public var id: String
        public var from: Date
        public var to: Date

        public init(id: String, from: Date, to: Date) {
            self.id = id
            self.from = from
            self.to = to
        }
    }

    /// Deadlines new to the store.
    public var added: [String] = []
    /// Deadlines that had left the plan (cancelled) and are back.
    public var restored: [String] = []
    public var moved: [Move] = []
    /// Deadlines in the window that the plan no longer has.
    public var cancelled: [String] = []
    /// Deadlines whose other planned fields (title, notices, explanation) changed, without a move.
    public var changed: [String] = []
    /// Deadlines of the plan that were already stored exactly so.
    public var unchanged = 0
    public var noticesAdded = 0
    public var noticesCancelled = 0
    /// Pending notices whose time changed.
    public var noticesRescheduled = 0
    /// Notices that will never be sent because their time had passed when they entered the store
    /// or when a plan change moved them: a rule change never fires a notice.
    public var skipped: [String] = []
    /// The config generation recorded with it (`ReconcileRecording`), nil when none was.
    public var generation: Int?

    public init() {}

    /// True when the plan and the store already agreed.
    public var isEmpty: Bool {
        added.isEmpty && restored.isEmpty && moved.isEmpty && cancelled.isEmpty && changed.isEmpty
            && noticesAdded == 0 && noticesCancelled == 0 && noticesRescheduled == 0 && skipped.isEmpty
    }

    /// The change in words, times in UTC.
    public var summary: String { summary(zone: Zone(.gmt)) }

    /// The change in words, with times read in `zone`. A move that keeps the wall-clock time is
    /// given as dates only.
    public func summary(zone: Zone) -> String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("\(added.count) added") }
        if !restored.isEmpty { parts.append("\(restored.count) restored") }
        if !moved.isEmpty {
            var moves = moved.prefix(5).map { move in
                let from = zone.local(move.from)
                let to = zone.local(move.to)
                return from.time == to.time
                    ? "\(move.id) from \(from.date) to \(to.date)" : "\(move.id) from \(from) to \(to)"
            }
            if moved.count > 5 { moves.append("and \(moved.count - 5) more") }
            parts.append("\(moved.count) moved (\(moves.joined(separator: "; ")))")
        }
        if !cancelled.isEmpty { parts.append("\(cancelled.count) cancelled") }
        if !changed.isEmpty { parts.append("\(changed.count) changed") }
        if parts.isEmpty {
            return isEmpty ? "no change" : "no change in deadlines"
        }
        return parts.joined(separator: ", ")
    }
}

/// The plan a reconcile last applied, so a start with the same config and horizon can skip it.
public struct ReconcileStamp: Sendable, Hashable {
    /// The config fingerprint the caller gave.
    public var fingerprint: String
    public var window: PlanWindow
    public var at: Date

    public init(fingerprint: String, window: PlanWindow, at: Date) {
        self.fingerprint = fingerprint
        self.window = window
        self.at = at
    }
}

/// What a reload records with its reconcile, in the same transaction: the new config
/// generation, with who asked for it, and the request's audit row.
public struct ReconcileRecording: Sendable, Hashable {
    public var requestedBy: String
    public var at: Date
    public var audit: AuditRecord?

    public init(requestedBy: String, at: Date, audit: AuditRecord? = nil) {
        self.requestedBy = requestedBy
        self.at = at
        self.audit = audit
    }
}
