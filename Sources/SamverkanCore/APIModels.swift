/// The JSON shapes of the control socket and `samverkanctl --json` (`design.md`, "Control
/// socket"). Times are RFC 3339 local time with offset: `2026-11-02T09:00:00+01:00`.

/// A deadline as the socket and `plan --json` print it.
public struct DeadlineView: Codable, Sendable, Hashable {
    public var id: String
    public var agreement: String
    public var obligation: String
    public var kind: String
    public var title: String
    public var due: String
    public var state: String
    public var notices: [NoticeView]
    /// Only in `GET /v1/deadlines/{id}` and `samverkanctl explain`.
    public var explanation: [String]?
    /// Only in `GET /v1/deadlines/{id}`: every delivery attempt, oldest first.
    public var deliveries: [DeliveryView]?
    /// Only in `GET /v1/deadlines/{id}`: the completions (a whole deadline, or a respondent's answer).
    public var completions: [CompletionView]?

    public init(
        id: String, agreement: String, obligation: String, kind: String, title: String, due: String, state: String,
        notices: [NoticeView], explanation: [String]? = nil
    ) {
        self.id = id
        self.agreement = agreement
        self.obligation = obligation
        self.kind = kind
        self.title = title
        self.due = due
        self.state = state
        self.notices = notices
        self.explanation = explanation
    }
}

/// One delivery attempt of one notice to one sink.
public struct DeliveryView: Codable, Sendable, Hashable {
    public var notice: String
    public var sink: String
    public var at: String
    /// `ok`, `transient` (will be retried) or `permanent`.
    public var outcome: String
    public var error: String?

    public init(notice: String, sink: String, at: String, outcome: String, error: String?) {
        self.notice = notice
        self.sink = sink
        self.at = at
        self.outcome = outcome
        self.error = error
    }
}

/// A recorded completion: the whole deadline (`role` absent) or one respondent's answer.
public struct CompletionView: Codable, Sendable, Hashable {
    public var role: String?
    public var at: String
    /// The peer that asked, from `SO_PEERCRED`.
    public var uid: UInt32?
    public var note: String?

    public init(role: String?, at: String, uid: UInt32?, note: String?) {
        self.role = role
        self.at = at
        self.uid = uid
        self.note = note
    }
}

/// `POST /v1/deadlines/{id}/complete`.
public struct CompletionResultView: Codable, Sendable, Hashable {
    public var id: String
    public var role: String?
    /// The deadline's state afterwards: `done`, or `upcoming`/`overdue` while a round waits for
    /// respondents.
    public var state: String
    /// The same completion was already recorded; nothing changed.
    public var alreadyRecorded: Bool
    public var cancelledNotices: [String]
    public var answered: [String]
    public var waitingFor: [String]

    public init(
        id: String, role: String?, state: String, alreadyRecorded: Bool, cancelledNotices: [String],
        answered: [String], waitingFor: [String]
    ) {
        self.id = id
        self.role = role
        self.state = state
        self.alreadyRecorded = alreadyRecorded
        self.cancelledNotices = cancelledNotices
        self.answered = answered
        self.waitingFor = waitingFor
    }

    enum CodingKeys: String, CodingKey {
        case id, role, state, answered
        case alreadyRecorded = "already_recorded"
        case cancelledNotices = "cancelled_notices"
        case waitingFor = "waiting_for"
    }
}

public struct NoticeView: Codable, Sendable, Hashable {
    public var id: String
    public var slot: String
    public var at: String
    public var state: String

    public init(id: String, slot: String, at: String, state: String) {
        self.id = id
        self.slot = slot
        self.at = at
        self.state = state
    }
}

/// `GET /v1/status`.
public struct StatusView: Codable, Sendable {
    public struct Config: Codable, Sendable {
        public var directory: String
        public var generation: Int
        public var loadedAt: String
        public var fingerprint: String
        public var agreements: Int
        public var timezone: String
        public var warnings: Int

        public init(
            directory: String, generation: Int, loadedAt: String, fingerprint: String, agreements: Int,
            timezone: String, warnings: Int
        ) {
            self.directory = directory
            self.generation = generation
            self.loadedAt = loadedAt
            self.fingerprint = fingerprint
            self.agreements = agreements
            self.timezone = timezone
            self.warnings = warnings
        }

        enum CodingKeys: String, CodingKey {
            case directory, generation, fingerprint, agreements, timezone, warnings
            case loadedAt = "loaded_at"
        }
    }

    public struct Counts: Codable, Sendable {
        /// Deadlines not yet done (upcoming and overdue).
        public var planned: Int
        public var done: Int
        public var pendingNotices: Int
        public var sentNotices: Int
        /// Failed and waiting for a retry.
        public var failedNotices: Int
        /// Given up after every retry: `samverkanctl undelivered` lists them.
        public var deadLetters: Int

        public init(
            planned: Int, done: Int, pendingNotices: Int, sentNotices: Int, failedNotices: Int, deadLetters: Int
        ) {
            self.planned = planned
            self.done = done
            self.pendingNotices = pendingNotices
            self.sentNotices = sentNotices
            self.failedNotices = failedNotices
            self.deadLetters = deadLetters
        }

        enum CodingKeys: String, CodingKey {
            case planned, done
            case pendingNotices = "pending_notices"
            case sentNotices = "sent_notices"
            case failedNotices = "failed_notices"
            case deadLetters = "dead_letters"
        }
    }

    public var version: String
    public var pid: Int32
    public var startedAt: String
    public var uptimeSeconds: Int
    public var config: Config
    public var deadlines: Counts
    public var nextDue: DeadlineView?
    public var nextNotice: NoticeView?
    public var lastReloadError: String?
    public var status: String

    public init(
        version: String, pid: Int32, startedAt: String, uptimeSeconds: Int, config: Config, deadlines: Counts,
        nextDue: DeadlineView?, nextNotice: NoticeView?, lastReloadError: String?, status: String
    ) {
        self.version = version
        self.pid = pid
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.config = config
        self.deadlines = deadlines
        self.nextDue = nextDue
        self.nextNotice = nextNotice
        self.lastReloadError = lastReloadError
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case version, pid, config, deadlines, status
        case startedAt = "started_at"
        case uptimeSeconds = "uptime_seconds"
        case nextDue = "next_due"
        case nextNotice = "next_notice"
        case lastReloadError = "last_reload_error"
    }
}

/// `POST /v1/reload`.
public struct ReloadView: Codable, Sendable {
    public var generation: Int
    public var changed: Bool
    public var summary: String
    public var warnings: [String]

    public init(generation: Int, changed: Bool, summary: String, warnings: [String]) {
        self.generation = generation
        self.changed = changed
        self.summary = summary
        self.warnings = warnings
    }
}

/// `{"error": {"code", "message"}}`, the body of every 4xx and 5xx answer.
public struct ErrorView: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public var code: String
        public var message: String
        public var details: [String]?

        public init(code: String, message: String, details: [String]? = nil) {
            self.code = code
            self.message = message
            self.details = details
        }
    }

    public var error: Detail

    public init(code: String, message: String, details: [String]? = nil) {
        self.error = Detail(code: code, message: message, details: details)
    }
}

/// The version every binary reports.
public enum SamverkanVersion {
    public static let current = "0.1.0"
}

/// A case: a window opened by an event (a SMADIT handover), under a neutral reference.
/// `POST /v1/cases`, `POST /v1/cases/{reference}/close`, `GET /v1/cases`.
public struct CaseView: Codable, Sendable, Hashable {
    public var reference: String
    public var agreement: String
    public var window: String
    public var openedAt: String
    /// `open` or `closed`.
    public var state: String
    public var closedAt: String?
    /// `contacted`, `unreachable` or `declined` once closed.
    public var outcome: String?
    /// When the window's target passes (the breach time).
    public var due: String
    /// Seconds left until `due` while open (negative: breached and still open); absent once closed.
    public var secondsLeft: Int?
    public var deadline: DeadlineView

    public init(
        reference: String, agreement: String, window: String, openedAt: String, state: String, closedAt: String?,
        outcome: String?, due: String, secondsLeft: Int?, deadline: DeadlineView
    ) {
        self.reference = reference
        self.agreement = agreement
        self.window = window
        self.openedAt = openedAt
        self.state = state
        self.closedAt = closedAt
        self.outcome = outcome
        self.due = due
        self.secondsLeft = secondsLeft
        self.deadline = deadline
    }

    enum CodingKeys: String, CodingKey {
        case reference, agreement, window, state, outcome, due, deadline
        case openedAt = "opened_at"
        case closedAt = "closed_at"
        case secondsLeft = "seconds_left"
    }
}

/// `GET /v1/notices?state=dead` (`samverkanctl undelivered`): a dead letter.
public struct UndeliveredView: Codable, Sendable, Hashable {
    public var notice: NoticeView
    public var deadline: DeadlineView
    public var attempts: Int
    public var lastSink: String?
    public var lastError: String?
    public var lastAttemptAt: String?

    public init(
        notice: NoticeView, deadline: DeadlineView, attempts: Int, lastSink: String?, lastError: String?,
        lastAttemptAt: String?
    ) {
        self.notice = notice
        self.deadline = deadline
        self.attempts = attempts
        self.lastSink = lastSink
        self.lastError = lastError
        self.lastAttemptAt = lastAttemptAt
    }

    enum CodingKeys: String, CodingKey {
        case notice, deadline, attempts
        case lastSink = "last_sink"
        case lastError = "last_error"
        case lastAttemptAt = "last_attempt_at"
    }
}

/// `POST /v1/notices/{id}/retry`: `sent`, or `dead` again with the attempts' errors.
public struct RetryResultView: Codable, Sendable, Hashable {
    public var id: String
    public var state: String
    public var attempts: [DeliveryView]

    public init(id: String, state: String, attempts: [DeliveryView]) {
        self.id = id
        self.state = state
        self.attempts = attempts
    }
}

/// `GET /v1/agreements` and `GET /v1/agreements/{id}`: an agreement with its next deadlines.
/// Parties are organisations (a kommun, a lokalpolisområde); roles are functions with functional
/// addresses, never persons.
public struct AgreementView: Codable, Sendable, Hashable {
    public struct PartyView: Codable, Sendable, Hashable {
        public var name: String
        public var kind: String

        public init(name: String, kind: String) {
            self.name = name
            self.kind = kind
        }
    }

    public var id: String
    public var title: String
    public var parties: [PartyView]
    /// The first day it applies, as written (`2020-09-07`, or `2021` when the source gives only a year).
    public var validFrom: String?
    /// The last day, as written; absent when open-ended (löpande).
    public var validUntil: String?
    /// `in_force`, `ended` or `not_yet`.
    public var state: String
    public var source: String?
    public var obligations: [String]
    public var windows: [String]
    public var roles: [String]
    /// The next deadlines not yet done (and overdue ones), at most five; every one in the detail.
    public var next: [DeadlineView]

    public init(
        id: String, title: String, parties: [PartyView], validFrom: String?, validUntil: String?, state: String,
        source: String?, obligations: [String], windows: [String], roles: [String], next: [DeadlineView]
    ) {
        self.id = id
        self.title = title
        self.parties = parties
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.state = state
        self.source = source
        self.obligations = obligations
        self.windows = windows
        self.roles = roles
        self.next = next
    }

    enum CodingKeys: String, CodingKey {
        case id, title, parties, state, source, obligations, windows, roles, next
        case validFrom = "valid_from"
        case validUntil = "valid_until"
    }
}
