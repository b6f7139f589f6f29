public import Foundation

/// One successful config load or reload.
public struct ConfigGeneration: Sendable, Hashable {
    /// 1, 2, 3, … across restarts.
    public var generation: Int
    public var fingerprint: String
    public var at: Date
    /// `start`, `SIGHUP`, `uid 1000 (socket)`: who asked.
    public var requestedBy: String

    public init(generation: Int, fingerprint: String, at: Date, requestedBy: String) {
        self.generation = generation
        self.fingerprint = fingerprint
        self.at = at
        self.requestedBy = requestedBy
    }
}

/// One line of the append-only audit trail.
public struct AuditRecord: Sendable, Hashable {
    /// Assigned by the store; nil on a record not yet appended.
    public var id: Int64?
    public var at: Date
    public var by: Requester
    /// `complete`, `case-open`, `reload`, `refused-write`, ….
    public var action: String
    public var target: String?
    public var detail: String?

    public init(id: Int64? = nil, at: Date, by: Requester, action: String, target: String? = nil, detail: String? = nil)
    {
        self.id = id
        self.at = at
        self.by = by
        self.action = action
        self.target = target
        self.detail = detail
    }
}

/// How many deadlines and notices are in each state (`GET /v1/status`, `/metrics`).
public struct StoreCounts: Sendable, Hashable {
    /// Every state is present, zero when none.
    public var deadlines: [DeadlineState: Int]
    public var notices: [NoticeState: Int]
    /// Cases (event-started windows) not closed.
    public var openCases: Int

    public init(deadlines: [DeadlineState: Int], notices: [NoticeState: Int], openCases: Int = 0) {
        self.deadlines = Dictionary(uniqueKeysWithValues: DeadlineState.allCases.map { ($0, deadlines[$0] ?? 0) })
        self.notices = Dictionary(uniqueKeysWithValues: NoticeState.allCases.map { ($0, notices[$0] ?? 0) })
        self.openCases = openCases
    }

    /// Notices delivery gave up on.
    public var deadLetters: Int { notices[.dead] ?? 0 }
}

/// Which deadlines a listing wants (`GET /v1/deadlines`, `samverkanctl upcoming`).
public struct DeadlineQuery: Sendable, Hashable {
    /// Due on or after this instant (inclusive), or no lower bound.
    public var dueFrom: Date?
    /// Due on or before this instant (inclusive), or no upper bound.
    public var dueThrough: Date?
    /// Also list deadlines due before `dueFrom` that are still planned (overdue, not done), as
    /// `upcoming` does.
    public var includeOverdue: Bool
    public var agreement: String?
    public var kind: String?
    /// Nil for every state.
    public var states: Set<DeadlineState>?
    /// Nil for all.
    public var limit: Int?

    public init(
        dueFrom: Date? = nil, dueThrough: Date? = nil, includeOverdue: Bool = false, agreement: String? = nil,
        kind: String? = nil, states: Set<DeadlineState>? = nil, limit: Int? = nil
    ) {
        self.dueFrom = dueFrom
        self.dueThrough = dueThrough
        self.includeOverdue = includeOverdue
        self.agreement = agreement
        self.kind = kind
        self.states = states
        self.limit = limit
    }
}

/// The settings the store runs with, read back from SQLite (for `status` and the tests).
public struct StoreSettings: Sendable, Hashable {
    public var path: String
    /// `wal`.
    public var journalMode: String
    /// On the writer connection: 2 is `FULL`.
    public var synchronous: Int
    /// On the writer connection, as `PRAGMA cache_size` reads: negative for KiB, positive for pages.
    public var cacheSize: Int
    public var foreignKeys: Bool
    /// The migrations applied, oldest first (`v1`, …).
    public var schema: [String]

    public init(
        path: String, journalMode: String, synchronous: Int, cacheSize: Int = 0, foreignKeys: Bool, schema: [String]
    ) {
        self.path = path
        self.journalMode = journalMode
        self.synchronous = synchronous
        self.cacheSize = cacheSize
        self.foreignKeys = foreignKeys
        self.schema = schema
    }
}
