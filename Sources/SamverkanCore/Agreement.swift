/// One cooperation agreement (samverkansöverenskommelse) as configured: who the parties are, how
/// long it runs, who receives what, and the obligations and windows it creates.
public struct Agreement: Sendable, Hashable {
    public var id: String
    public var title: String
    public var parties: [Party]
    /// The source document the agreement was modelled from (provenance), if any.
    public var source: String?
    public var valid: Validity
    public var roles: [String: Role]
    public var obligations: [Obligation]
    public var windows: [Window]

    public init(
        id: String, title: String, parties: [Party] = [], source: String? = nil, valid: Validity = Validity(),
        roles: [String: Role] = [:], obligations: [Obligation] = [], windows: [Window] = []
    ) {
        self.id = id
        self.title = title
        self.parties = parties
        self.source = source
        self.valid = valid
        self.roles = roles
        self.obligations = obligations
        self.windows = windows
    }
}

/// A signing party: a kommun, the police, or another organisation.
public struct Party: Sendable, Hashable {
    public var name: String
    public var kind: String

    public init(name: String, kind: String) {
        self.name = name
        self.kind = kind
    }
}

/// How long an agreement runs. `until == nil` means open-ended ("löpande").
public struct Validity: Sendable, Hashable {
    public var from: FuzzyDate?
    public var until: FuzzyDate?

    public init(from: FuzzyDate? = nil, until: FuzzyDate? = nil) {
        self.from = from
        self.until = until
    }
}

/// A recipient of notices, named by function, never by person, with an optional deputy role
/// that receives escalations.
public struct Role: Sendable, Hashable {
    public var id: String
    public var email: String?
    public var deputy: String?

    public init(id: String, email: String? = nil, deputy: String? = nil) {
        self.id = id
        self.email = email
        self.deputy = deputy
    }
}

/// The kinds of obligation of `design.md`; they select templates and routes.
public enum ObligationKind: String, Sendable, Hashable, CaseIterable, Codable {
    case renewal, review, lagesbild, report, meeting, promise, custom
}

/// A recurring or one-off duty of an agreement.
public struct Obligation: Sendable, Hashable {
    public var id: String
    public var kind: ObligationKind
    public var title: String
    public var schedule: Schedule
    public var remind: [LeadTime]
    public var notify: [String]
    /// The sentence of the source document the obligation comes from.
    public var quote: String?
    /// For a collection round (the monthly lägesbild): the roles that each answer. Each
    /// respondent has its own reminders; `notify` gets the summary and the overdue notice.
    public var collectFrom: [String]
    /// The questions of a collection round (seed 001's six focus areas are the model).
    public var questions: [String]

    public init(
        id: String, kind: ObligationKind, title: String, schedule: Schedule, remind: [LeadTime] = [],
        notify: [String] = [], quote: String? = nil, collectFrom: [String] = [], questions: [String] = []
    ) {
        self.collectFrom = collectFrom
        self.questions = questions
        self.id = id
        self.kind = kind
        self.title = title
        self.schedule = schedule
        self.remind = remind
        self.notify = notify
        self.quote = quote
    }
}

/// When an obligation falls due.
public struct Schedule: Sendable, Hashable {
    public enum Rule: Sendable, Hashable {
        /// A one-off date, possibly known only to the month or year.
        case date(FuzzyDate)
        /// A fixed number of days before the agreement's `valid.until`.
        case beforeEnd(days: Int)
        /// An RFC 5545 rule; DTSTART is `start`, else the agreement's `valid.from`.
        case recurring(RecurrenceRule, start: LocalDate?)
    }

    public var rule: Rule
    /// Local wall time of the due instant.
    public var time: LocalTime
    public var workingDay: WorkingDayMove

    public init(rule: Rule, time: LocalTime = .nine, workingDay: WorkingDayMove = .none) {
        self.rule = rule
        self.time = time
        self.workingDay = workingDay
    }
}

/// What to do when a due date falls on a non-working day.
///
/// `next` is for statutory "senast" dates (Lag (1930:173) om beräkning av lagstadgad tid, 2 §);
/// agreement end dates never move (`none`).
public enum WorkingDayMove: String, Sendable, Hashable, CaseIterable {
    case none, next, previous
}

/// An event-started window such as SMADIT's 24 hours: elapsed time, never moved by DST,
/// weekends or holidays.
public struct Window: Sendable, Hashable {
    public var id: String
    public var kind: String
    public var durationSeconds: Int
    public var remindAfterSeconds: [Int]
    public var escalateAfterSeconds: [Int]
    public var escalateTo: [String]
    public var notify: [String]

    public init(
        id: String, kind: String, durationSeconds: Int, remindAfterSeconds: [Int] = [],
        escalateAfterSeconds: [Int] = [], escalateTo: [String] = [], notify: [String] = []
    ) {
        self.id = id
        self.kind = kind
        self.durationSeconds = durationSeconds
        self.remindAfterSeconds = remindAfterSeconds
        self.escalateAfterSeconds = escalateAfterSeconds
        self.escalateTo = escalateTo
        self.notify = notify
    }
}
