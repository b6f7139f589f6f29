public import Foundation
import Synchronization

/// The pure heart of the product: agreements + calendar + zone + a date range → deadlines with
/// their notices, each with an explanation of how its time was derived.
///
/// No clock and no I/O: the same input always gives the same deadlines with the same ids.
public struct Planner: Sendable {
    public let zone: Zone
    public let calendar: SwedishCalendar
    /// Whether deadlines and notices carry their explanation. Building the words costs more than
    /// the dates themselves; `plan --json` of a large config leaves them out.
    public let explains: Bool
    /// How many threads a large plan is made on (nil: one per core). A caller that plans many
    /// agreements side by side itself plans each on one.
    public let threads: Int?

    public init(zone: Zone, calendar: SwedishCalendar = SwedishCalendar(), explains: Bool = true, threads: Int? = nil) {
        self.zone = zone
        self.calendar = calendar
        self.explains = explains
        self.threads = threads
    }

    /// Every deadline whose due date (in the zone) lies in `from...through`, sorted by due
    /// instant and then id.
    ///
    /// Throws when a working-day move or a `wd` lead time would need a year outside the
    /// calendar's law (2005–2200): such a date is refused rather than computed under the wrong law.
    ///
    /// Large plans are made on every core: the obligations, in order, are cut into runs planned
    /// side by side. The result is the same as one by one (the runs are joined in order and then
    /// sorted), and so is the error: that of the first obligation, in order, that fails.
    public func plan(_ agreements: [Agreement], from: LocalDate, through: LocalDate) throws(CalendarError) -> [Deadline]
    {
        let work: [(agreement: Int, obligation: Int)] = agreements.indices.flatMap { index in
            agreements[index].obligations.indices.map { (index, $0) }
        }
        let runs = Self.runs(of: work.count, cores: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        var deadlines: [Deadline] = []
        if runs.count <= 1 {
            deadlines = try plan(work[...], of: agreements, from: from, through: through)
        } else {
            let results = Mutex([Result<[Deadline], CalendarError>?](repeating: nil, count: runs.count))
            ParallelLoop.forEach(iterations: runs.count) { index in
                let result = Result { () throws(CalendarError) in
                    try plan(work[runs[index]], of: agreements, from: from, through: through)
                }
                results.withLock { $0[index] = result }
            }
            for result in results.withLock({ $0 }) {
                // Every run has finished when the loop returns.
                guard let result else { continue }
                deadlines += try result.get()
            }
        }
        deadlines.sort { ($0.due, $0.id) < ($1.due, $1.id) }
        return deadlines
    }

    /// The obligations `work` (indices into `agreements`), one by one, unsorted.
    private func plan(
        _ work: ArraySlice<(agreement: Int, obligation: Int)>, of agreements: [Agreement], from: LocalDate,
        through: LocalDate
    ) throws(CalendarError) -> [Deadline] {
        var deadlines: [Deadline] = []
        for (agreementIndex, obligationIndex) in work {
            let agreement = agreements[agreementIndex]
            let obligation = agreement.obligations[obligationIndex]
            for nominal in occurrences(of: obligation, in: agreement, from: from, through: through) {
                let deadline = try makeDeadline(agreement: agreement, obligation: obligation, nominal: nominal)
                let dueDate = zone.today(deadline.due)
                if dueDate >= from && dueDate <= through {
                    deadlines.append(deadline)
                }
            }
        }
        return deadlines
    }

    /// Contiguous runs of `count` obligations to plan side by side: a few per core, so that a run
    /// of costly obligations (a weekly round of many respondents) does not leave a core idle, and
    /// none shorter than ``obligationsPerRun`` (handing a run to a thread costs more than planning
    /// a few obligations). One run, the whole, for a small plan.
    static func runs(of count: Int, cores: Int) -> [Range<Int>] {
        let wanted = min(max(cores, 1) * 4, count / obligationsPerRun)
        guard cores > 1, wanted > 1 else { return [0..<count] }
        return (0..<wanted).map { index in (count * index / wanted)..<(count * (index + 1) / wanted) }
    }

    /// The fewest obligations a run of a parallel plan holds.
    static let obligationsPerRun = 64

    /// The nominal dates of an obligation that may fall due in the range, with where they came
    /// from when the planner explains.
    func occurrences(of obligation: Obligation, in agreement: Agreement, from: LocalDate, through: LocalDate)
        -> [NominalDate]
    {
        var dates: [NominalDate] = []
        // Building the origin's words costs more than the dates: only when they are shown.
        var origin: String?
        Self.forEachNominalDay(of: obligation, in: agreement, from: from, through: through) { day in
            if explains && origin == nil { origin = self.origin(of: obligation, in: agreement) }
            dates.append(NominalDate(date: LocalDate(dayNumber: day), origin: origin ?? ""))
        }
        return dates
    }

    /// Calls `body` with the day number of each nominal date of an obligation that may fall due in
    /// the range, in order.
    ///
    /// A working-day move can carry a due date a few days across the range's edges, so the
    /// search is widened by a week and the caller filters by the final due date.
    static func forEachNominalDay(
        of obligation: Obligation, in agreement: Agreement, from: LocalDate, through: LocalDate, _ body: (Int) -> Void
    ) {
        let lower = from.adding(days: -7)
        let upper = through.adding(days: 7)
        switch obligation.schedule.rule {
        case .date(let fuzzy):
            if fuzzy.date >= lower, fuzzy.date <= upper { body(fuzzy.date.dayNumber) }
        case .beforeEnd(let days):
            guard let end = agreement.valid.until else { return }
            let date = end.date.adding(days: -days)
            if date >= lower, date <= upper { body(date.dayNumber) }
        case .recurring(let rule, let start):
            guard let dtstart = start ?? agreement.valid.from?.date else { return }
            // An agreement's end bounds its obligations; the rule's own UNTIL or COUNT may end it sooner.
            let last = min(upper, agreement.valid.until?.date ?? upper)
            rule.forEachOccurrence(start: dtstart, from: max(lower, dtstart), through: last, body)
        }
    }

    /// Where an obligation's nominal dates come from, in words, for explanations.
    private func origin(of obligation: Obligation, in agreement: Agreement) -> String {
        switch obligation.schedule.rule {
        case .date(let fuzzy):
            return fuzzy.isDerived ? "one-off date \(fuzzy)" : "one-off date \(fuzzy.date)"
        case .beforeEnd(let days):
            return "\(days) days before the agreement ends (\(agreement.valid.until.map { "\($0)" } ?? "?"))"
        case .recurring(let rule, let start):
            return "\(rule) from \(start ?? agreement.valid.from?.date ?? LocalDate(dayNumber: 0))"
        }
    }

    func makeDeadline(agreement: Agreement, obligation: Obligation, nominal: NominalDate) throws(CalendarError)
        -> Deadline
    {
        let schedule = obligation.schedule
        var explanation: [String] = []
        if explains { explanation = ["rule: \(nominal.origin)", "nominal date: \(nominal.date)"] }
        let dueDate = LocalDate(dayNumber: try dueDay(nominal: nominal.date.dayNumber, move: schedule.workingDay))
        if explains {
            switch schedule.workingDay {
            case .none:
                // Only a note: outside the calendar's years the date simply stays.
                if let reason = (try? calendar.nonWorkingReason(nominal.date)) ?? nil {
                    explanation.append("\(nominal.date) is \(reason); kept (working_day: none)")
                }
            case .next, .previous:
                // A move happened exactly when the nominal date is not a working day.
                if dueDate != nominal.date, let reason = try calendar.nonWorkingReason(nominal.date) {
                    let direction = schedule.workingDay == .next ? "next" : "previous"
                    explanation.append(
                        "\(nominal.date) is \(reason), moved to \(direction) working day \(dueDate)")
                }
            }
        }
        let (due, dstNote) = zone.resolve(LocalDateTime(date: dueDate, time: schedule.time))
        if explains {
            explanation.append("due: \(zone.rfc3339(due)) (\(schedule.time) local time in \(zone.identifier))")
            if let dstNote { explanation.append(dstNote) }
        }
        let deadlineID = "\(agreement.id)/\(obligation.id)/\(nominal.date)"

        var notices: [PlannedNotice] = []
        let isRound = !obligation.collectFrom.isEmpty
        for lead in obligation.remind {
            let (at, note) = try reminderTime(lead, dueDate: dueDate, time: schedule.time, due: due)
            if isRound {
                // A request and reminders per respondent, so they stop for whoever has answered.
                for role in obligation.collectFrom {
                    notices.append(
                        PlannedNotice(
                            id: "\(deadlineID)/\(lead.slot)/\(role)", slot: lead.slot, at: at, recipients: [role],
                            explanation: explains ? note : nil))
                }
            } else {
                notices.append(
                    PlannedNotice(
                        id: "\(deadlineID)/\(lead.slot)", slot: lead.slot, at: at, recipients: obligation.notify,
                        explanation: explains ? note : nil))
            }
        }
        if isRound {
            notices.append(
                PlannedNotice(
                    id: "\(deadlineID)/summary", slot: "summary", at: due, recipients: obligation.notify,
                    explanation: "the round's summary to the coordinator at the due time"))
        } else {
            notices.append(PlannedNotice(id: "\(deadlineID)/due", slot: "due", at: due, recipients: obligation.notify))
        }
        notices.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        return Deadline(
            id: deadlineID, agreement: agreement.id, obligation: obligation.id, kind: obligation.kind.rawValue,
            title: obligation.title, nominal: nominal.date, due: due, notices: notices, explanation: explanation)
    }

    /// When a reminder goes out. `d` and `wd` keep the wall-clock time; a `d` reminder that lands
    /// on a non-working day moves to the previous working day so no lead time is lost; `h` is
    /// elapsed time (`design.md`).
    func reminderTime(_ lead: LeadTime, dueDate: LocalDate, time: LocalTime, due: Date) throws(CalendarError) -> (
        Date, String
    ) {
        switch lead {
        case .hours(let n):
            return (
                due.addingTimeInterval(TimeInterval(-n * 3600)), explains ? "\(n) hours before the due instant" : ""
            )
        case .days(let n):
            let date = dueDate.adding(days: -n)
            let sent = LocalDate(dayNumber: try reminderDay(daysBefore: n, dueDay: dueDate.dayNumber))
            var note = explains ? "\(n) \(n == 1 ? "day" : "days") before \(dueDate): \(date)" : ""
            // A move happened exactly when `date` is not a working day.
            if explains, sent != date, let reason = try calendar.nonWorkingReason(date) {
                note += ", which is \(reason), moved to previous working day \(sent)"
            }
            let resolved = zone.resolve(LocalDateTime(date: sent, time: time))
            return (resolved.instant, explains ? resolved.dstNote.map { note + "; " + $0 } ?? note : "")
        case .workingDays(let n):
            let date = LocalDate(dayNumber: try calendar.addingWorkingDays(-n, toDay: dueDate.dayNumber))
            let note = explains ? "\(n) working \(n == 1 ? "day" : "days") before \(dueDate): \(date)" : ""
            let resolved = zone.resolve(LocalDateTime(date: date, time: time))
            return (resolved.instant, resolved.dstNote.map { note + "; " + $0 } ?? note)
        }
    }

    // The date arithmetic of a deadline, shared by `makeDeadline` and `DeadlineStream` so the two
    // can never disagree on a date. Day numbers count days since 1970-01-01.

    /// The due day of an occurrence: its nominal day, moved off a non-working day when the
    /// schedule says so (`working_day: next | previous`).
    func dueDay(nominal: Int, move: WorkingDayMove) throws(CalendarError) -> Int {
        guard move != .none, try !calendar.isWorkingDay(dayNumber: nominal, context: nil) else { return nominal }
        return move == .next
            ? try calendar.nextWorkingDay(onOrAfterDay: nominal)
            : try calendar.previousWorkingDay(onOrBeforeDay: nominal)
    }

    /// The day a `d` reminder goes out: `n` days before the due day, moved back to the previous
    /// working day when it is not one, so that no lead time is lost.
    func reminderDay(daysBefore n: Int, dueDay: Int) throws(CalendarError) -> Int {
        let day = dueDay - n
        return try calendar.isWorkingDay(dayNumber: day, context: nil)
            ? day : try calendar.previousWorkingDay(onOrBeforeDay: day)
    }

    /// The deadline and notices of an event-started window (SMADIT): elapsed time from
    /// `openedAt`, never moved by DST, weekends or holidays (`domain.md` §4).
    public func plan(window: Window, agreement: Agreement, reference: String, openedAt: Date) -> Deadline {
        let deadlineID = "\(agreement.id)/\(window.id)/\(reference)"
        let due = openedAt.addingTimeInterval(TimeInterval(window.durationSeconds))
        var notices: [PlannedNotice] = []
        for offset in window.remindAfterSeconds {
            let slot = "+\(Self.hoursText(offset))"
            notices.append(
                PlannedNotice(
                    id: "\(deadlineID)/\(slot)", slot: slot, at: openedAt.addingTimeInterval(TimeInterval(offset)),
                    recipients: window.notify, explanation: "\(Self.hoursText(offset)) after the window opened"))
        }
        let escalationRecipients = Self.escalationRecipients(window: window, agreement: agreement)
        for (index, offset) in window.escalateAfterSeconds.enumerated() {
            let slot = index == 0 ? "escalation" : "escalation+\(Self.hoursText(offset))"
            notices.append(
                PlannedNotice(
                    id: "\(deadlineID)/\(slot)", slot: slot, at: openedAt.addingTimeInterval(TimeInterval(offset)),
                    recipients: escalationRecipients,
                    explanation: "escalation \(Self.hoursText(offset)) after the window opened"))
        }
        // The breach concerns everyone: the receiving unit, its deputy and those escalated to.
        var breachRecipients = window.notify
        for role in escalationRecipients where !breachRecipients.contains(role) { breachRecipients.append(role) }
        notices.append(
            PlannedNotice(
                id: "\(deadlineID)/breach", slot: "breach", at: due, recipients: breachRecipients,
                explanation: "the target of \(Self.hoursText(window.durationSeconds)) passed with no outcome"))
        notices.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        return Deadline(
            id: deadlineID, agreement: agreement.id, obligation: window.id, kind: window.kind,
            // Neutral: the reference and the time limit, never what kind of case it is (domain.md §4).
            title: "Ärende \(reference) – inom \(Self.hoursText(window.durationSeconds))",
            nominal: zone.today(openedAt), due: due, notices: notices,
            explanation: [
                "window \(window.id) opened \(zone.rfc3339(openedAt))",
                "due: \(zone.rfc3339(due)), \(Self.hoursText(window.durationSeconds)) of elapsed time (never moved by DST, weekends or holidays)",
            ])
    }

    /// Escalations go to the notified roles' deputies and to `escalate_to`, each once.
    static func escalationRecipients(window: Window, agreement: Agreement) -> [String] {
        var roles: [String] = []
        for role in window.notify.compactMap({ agreement.roles[$0]?.deputy }) + window.escalateTo
        where !roles.contains(role) {
            roles.append(role)
        }
        return roles.isEmpty ? window.notify : roles
    }

    /// `24h`, `90m`.
    static func hoursText(_ seconds: Int) -> String {
        seconds % 3600 == 0 ? "\(seconds / 3600)h" : "\(seconds / 60)m"
    }
}

/// An occurrence date as the rule gave it, with the words that explain where it came from.
struct NominalDate: Sendable, Hashable {
    var date: LocalDate
    var origin: String
}
