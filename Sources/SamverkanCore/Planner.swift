import Foundation

/// The pure heart of the product: agreements + zone + a date range → deadlines with their
/// notices, each with an explanation of how its time was derived.
///
/// No clock and no I/O: the same input always gives the same deadlines with the same ids.
public struct Planner: Sendable {
    public let zone: Zone

    public init(zone: Zone) {
        self.zone = zone
    }

    /// Every deadline whose due date (in the zone) lies in `from...through`, sorted by due
    /// instant and then id.
    public func plan(_ agreements: [Agreement], from: LocalDate, through: LocalDate) -> [Deadline] {
        var deadlines: [Deadline] = []
        for agreement in agreements {
            for obligation in agreement.obligations {
                for nominal in occurrences(of: obligation, in: agreement, from: from, through: through) {
                    let deadline = makeDeadline(agreement: agreement, obligation: obligation, nominal: nominal)
                    let dueDate = zone.today(deadline.due)
                    if dueDate >= from && dueDate <= through {
                        deadlines.append(deadline)
                    }
                }
            }
        }
        deadlines.sort { ($0.due, $0.id) < ($1.due, $1.id) }
        return deadlines
    }

    /// The nominal dates of an obligation that may fall due in the range.
    ///
    /// A working-day move can carry a due date a few days across the range's edges, so the
    /// search is widened by a week and the caller filters by the final due date.
    func occurrences(of obligation: Obligation, in agreement: Agreement, from: LocalDate, through: LocalDate)
        -> [NominalDate]
    {
        let lower = from.adding(days: -7)
        let upper = through.adding(days: 7)
        switch obligation.schedule.rule {
        case .date(let fuzzy):
            guard fuzzy.date >= lower, fuzzy.date <= upper else { return [] }
            return [NominalDate(date: fuzzy.date, origin: fuzzy.isDerived ? "date \(fuzzy)" : "date \(fuzzy.date)")]
        case .beforeEnd(let days):
            guard let end = agreement.valid.until else { return [] }
            let date = end.date.adding(days: -days)
            guard date >= lower, date <= upper else { return [] }
            return [NominalDate(date: date, origin: "\(days) days before the agreement ends (\(end))")]
        }
    }

    func makeDeadline(agreement: Agreement, obligation: Obligation, nominal: NominalDate) -> Deadline {
        let schedule = obligation.schedule
        var explanation = ["rule: \(nominal.origin)", "nominal date: \(nominal.date)"]
        let (due, dstNote) = zone.resolve(LocalDateTime(date: nominal.date, time: schedule.time))
        explanation.append("due: \(zone.rfc3339(due)) (\(schedule.time) local time in \(zone.identifier))")
        if let dstNote { explanation.append(dstNote) }
        let deadlineID = "\(agreement.id)/\(obligation.id)/\(nominal.date)"
        var notices: [PlannedNotice] = []
        for lead in obligation.remind {
            let at: Date
            var note: String
            switch lead {
            case .days(let n), .workingDays(let n):
                let local = LocalDateTime(date: nominal.date.adding(days: -n), time: schedule.time)
                let resolved = zone.resolve(local)
                at = resolved.instant
                note = "\(lead) before due: \(local)"
                if let dst = resolved.dstNote { note += "; \(dst)" }
            case .hours(let n):
                at = due.addingTimeInterval(TimeInterval(-n * 3600))
                note = "\(n) hours before the due instant"
            }
            notices.append(
                PlannedNotice(
                    id: "\(deadlineID)/\(lead.slot)", slot: lead.slot, at: at, recipients: obligation.notify,
                    explanation: note))
        }
        notices.append(
            PlannedNotice(
                id: "\(deadlineID)/due", slot: "due", at: due, recipients: obligation.notify, explanation: nil))
        notices.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        return Deadline(
            id: deadlineID, agreement: agreement.id, obligation: obligation.id, kind: obligation.kind.rawValue,
            title: obligation.title, nominal: nominal.date, due: due, notices: notices, explanation: explanation)
    }
}

/// An occurrence date as the rule gave it, with the words that explain where it came from.
struct NominalDate: Sendable, Hashable {
    var date: LocalDate
    var origin: String
}
