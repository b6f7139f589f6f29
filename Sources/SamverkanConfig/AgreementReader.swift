import SamverkanCore

/// Reads one `agreements.d/*.yaml` file into an `Agreement`, checking ids, dates, roles and
/// lead times.
struct AgreementReader {
    let file: String
    let zone: Zone
    let today: LocalDate?
    let calendar: SwedishCalendar

    static let keys = ["id", "title", "parties", "source", "valid", "roles", "obligations", "windows"]
    static let obligationKeys = [
        "id", "kind", "title", "schedule", "remind", "notify", "quote", "collect_from", "questions",
    ]
    static let scheduleKeys = ["date", "before_end", "rrule", "start", "time", "working_day"]
    static let windowKeys = ["id", "kind", "duration", "remind_after", "escalate_after", "escalate_to", "notify"]

    func read(_ value: YAMLValue, _ log: inout DiagnosticLog) -> Agreement? {
        guard let map = value.mapping(&log, what: "an agreement", allowed: Self.keys) else { return nil }
        let id = slug(map.required("id", &log, what: "the agreement"), &log, what: "agreement id") ?? "?"
        let title = map.required("title", &log, what: "agreement '\(id)'")?.string(&log, what: "title") ?? id
        var agreement = Agreement(id: id, title: title)
        agreement.source = map["source"]?.string(&log, what: "source")
        if let node = map["parties"], let items = node.list(&log, what: "parties") {
            for item in items {
                guard let party = item.mapping(&log, what: "a party", allowed: ["name", "kind"]),
                    let name = party.required("name", &log, what: "a party")?.string(&log, what: "party name")
                else { continue }
                agreement.parties.append(Party(name: name, kind: party["kind"]?.string(&log, what: "party kind") ?? ""))
            }
        }
        if let node = map["valid"] { agreement.valid = readValidity(node, id: id, &log) }
        if let node = map["roles"], let roles = node.mapping(&log, what: "roles", allowed: []) {
            for entry in roles.entries {
                guard isSlug(entry.key) else {
                    log.error(file, entry.keyPosition, "role id '\(entry.key)' must be a slug ([a-z0-9][a-z0-9-]*)")
                    continue
                }
                guard let role = entry.value.mapping(&log, what: "role '\(entry.key)'", allowed: ["email", "deputy"])
                else { continue }
                agreement.roles[entry.key] = Role(
                    id: entry.key, email: role["email"]?.string(&log, what: "email"),
                    deputy: role["deputy"]?.string(&log, what: "deputy"))
            }
            for entry in roles.entries {
                if let deputy = agreement.roles[entry.key]?.deputy, agreement.roles[deputy] == nil,
                    let node = roles[entry.key]?.mapping(&log, what: "role", allowed: [])?["deputy"]
                {
                    log.error(file, node.position, unknownRole(deputy, in: agreement))
                }
            }
        }
        if let node = map["obligations"], let items = node.list(&log, what: "obligations") {
            var seen: Set<String> = []
            for item in items {
                guard let obligation = readObligation(item, agreement: agreement, &log) else { continue }
                if !seen.insert(obligation.id).inserted {
                    log.error(file, item.position, "duplicate obligation id '\(obligation.id)' in agreement '\(id)'")
                    continue
                }
                agreement.obligations.append(obligation)
            }
        }
        if let node = map["windows"], let items = node.list(&log, what: "windows") {
            for item in items {
                if let window = readWindow(item, agreement: agreement, &log) { agreement.windows.append(window) }
            }
        }
        if let today, let until = agreement.valid.until, until.date < today {
            log.warning(
                file, map["valid"]?.position ?? map.position,
                "agreement '\(id)' ended \(until); its revision is due (add a successor or extend valid.until)")
        }
        return agreement
    }

    private func slug(_ value: YAMLValue?, _ log: inout DiagnosticLog, what: @autoclosure () -> String) -> String? {
        guard let value, let text = value.string(&log, what: what()) else { return nil }
        guard isSlug(text) else {
            log.error(file, value.position, "\(what()) '\(text)' must be a slug: lower-case letters, digits and '-'")
            return nil
        }
        return text
    }

    private func fuzzyDate(
        _ value: YAMLValue, anchor: FuzzyDate.Anchor, _ log: inout DiagnosticLog, what: @autoclosure () -> String
    ) -> FuzzyDate? {
        guard let text = value.string(&log, what: what()) else { return nil }
        guard let date = FuzzyDate(parsing: text, anchor: anchor) else {
            log.error(file, value.position, "\(what()) '\(text)' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)")
            return nil
        }
        return date
    }

    private func readValidity(_ value: YAMLValue, id: String, _ log: inout DiagnosticLog) -> Validity {
        var validity = Validity()
        guard let map = value.mapping(&log, what: "valid", allowed: ["from", "until"]) else { return validity }
        if let node = map["from"], !node.isNull {
            validity.from = fuzzyDate(node, anchor: .start, &log, what: "valid.from")
        }
        if let node = map["until"], !node.isNull {
            validity.until = fuzzyDate(node, anchor: .end, &log, what: "valid.until")
        }
        if let from = validity.from, let until = validity.until, until.date < from.date {
            log.error(file, map["until"]?.position ?? map.position, "valid.until \(until) is before valid.from \(from)")
        }
        return validity
    }

    private func readObligation(_ value: YAMLValue, agreement: Agreement, _ log: inout DiagnosticLog) -> Obligation? {
        guard let map = value.mapping(&log, what: "an obligation", allowed: Self.obligationKeys) else { return nil }
        let id = slug(map.required("id", &log, what: "an obligation"), &log, what: "obligation id")
        var kind = ObligationKind.custom
        if let node = map.required("kind", &log, what: "obligation '\(id ?? "?")'"),
            let text = node.string(&log, what: "kind")
        {
            if let parsed = ObligationKind(rawValue: text) {
                kind = parsed
            } else {
                var message = "unknown kind '\(text)'"
                if let close = suggestion(for: text, among: ObligationKind.allCases.map(\.rawValue)) {
                    message += "; did you mean '\(close)'?"
                }
                log.error(
                    file, node.position,
                    message + " (kinds: \(ObligationKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        let title = map["title"]?.string(&log, what: "title") ?? id ?? ""
        let schedule = map.required("schedule", &log, what: "obligation '\(id ?? "?")'").flatMap {
            readSchedule($0, agreement: agreement, &log)
        }
        var remind: [LeadTime] = []
        if let node = map["remind"], let items = node.list(&log, what: "remind") {
            for item in items {
                guard let text = item.string(&log, what: "a lead time") else { continue }
                if let lead = LeadTime(text: text) {
                    remind.append(lead)
                } else {
                    log.error(
                        file, item.position,
                        "'\(text)' is not a lead time; write a number and d, wd or h (30d, 5wd, 2h)")
                }
            }
        }
        let notify = readRoles(map["notify"], agreement: agreement, &log, what: "notify")
        let collectFrom = readRoles(map["collect_from"], agreement: agreement, &log, what: "collect_from")
        let questions = map["questions"]?.strings(&log, what: "questions") ?? []
        if !questions.isEmpty && collectFrom.isEmpty, let node = map["questions"] {
            log.error(file, node.position, "questions need collect_from: the roles that answer them")
        }
        guard let id, let schedule else { return nil }
        if case .recurring(let rule, let start) = schedule.rule, let dtstart = start ?? agreement.valid.from?.date {
            checkRecurrence(rule, start: dtstart, remind: remind, agreement: agreement, map: map, &log)
        }
        return Obligation(
            id: id, kind: kind, title: title, schedule: schedule, remind: remind, notify: notify,
            quote: map["quote"]?.string(&log, what: "quote"), collectFrom: collectFrom, questions: questions)
    }

    /// Rules that never fire inside the agreement's validity, and lead times at least as long as
    /// the gap between occurrences (a monthly rule cannot have a 30-day reminder).
    private func checkRecurrence(
        _ rule: RecurrenceRule, start: LocalDate, remind: [LeadTime], agreement: Agreement, map: YAMLMapping,
        _ log: inout DiagnosticLog
    ) {
        let position = map["schedule"]?.position ?? map.position
        // An open-ended agreement is checked over ten years from its start.
        let end = agreement.valid.until?.date ?? start.adding(days: 3653)
        guard let first = rule.firstOccurrence(start: start, onOrAfter: start, through: end) else {
            log.error(
                file, position,
                "rrule \(rule) never fires between \(start) and \(agreement.valid.until.map { "the agreement's end \($0)" } ?? end.description)"
            )
            return
        }
        // Two years of occurrences show the shortest gap of any rule of the subset.
        guard let shortest = rule.shortestGap(start: start, from: first, through: min(end, first.adding(days: 731)))
        else { return }
        for lead in remind where lead.approximateSeconds >= shortest * 86_400 {
            log.error(
                file, map["remind"]?.position ?? position,
                "lead time \(lead) is not shorter than the \(shortest) days between occurrences of \(rule); a reminder would come before the previous deadline"
            )
        }
    }

    private func readRoles(
        _ value: YAMLValue?, agreement: Agreement, _ log: inout DiagnosticLog, what: @autoclosure () -> String
    ) -> [String] {
        guard let value, let items = value.list(&log, what: what()) else { return [] }
        var roles: [String] = []
        for item in items {
            guard let role = item.string(&log, what: "a role") else { continue }
            if agreement.roles[role] == nil {
                log.error(file, item.position, unknownRole(role, in: agreement))
            }
            roles.append(role)
        }
        return roles
    }

    private func unknownRole(_ role: String, in agreement: Agreement) -> String {
        let known = agreement.roles.keys.sorted()
        let list =
            known.isEmpty
            ? "no roles are defined in this agreement" : "roles defined here: \(known.joined(separator: ", "))"
        guard let close = suggestion(for: role, among: known) else { return "unknown role '\(role)'; \(list)" }
        return "unknown role '\(role)'; did you mean '\(close)'? (\(list))"
    }

    private func readSchedule(_ value: YAMLValue, agreement: Agreement, _ log: inout DiagnosticLog) -> Schedule? {
        guard let map = value.mapping(&log, what: "schedule", allowed: Self.scheduleKeys) else { return nil }
        var time = LocalTime.nine
        if let node = map["time"], let text = node.string(&log, what: "time") {
            if let parsed = LocalTime(text: text) {
                time = parsed
            } else {
                log.error(file, node.position, "time '\(text)' must be HH:MM or HH:MM:SS (24-hour)")
            }
        }
        var move = WorkingDayMove.none
        if let node = map["working_day"], let text = node.string(&log, what: "working_day") {
            if let parsed = WorkingDayMove(rawValue: text) {
                move = parsed
            } else {
                log.error(file, node.position, "working_day must be none, next or previous, found '\(text)'")
            }
        }
        let rules = ["date", "before_end", "rrule"].filter { map[$0] != nil }
        guard rules.count == 1 else {
            log.error(
                file, map.position,
                rules.isEmpty
                    ? "schedule needs one of: date, before_end, rrule"
                    : "schedule takes only one of date, before_end and rrule (found \(rules.joined(separator: " and ")))"
            )
            return nil
        }
        if let node = map["start"], map["rrule"] == nil {
            log.error(file, node.position, "start is the DTSTART of an rrule; a \(rules[0]) schedule does not take it")
        }
        if let node = map["rrule"] {
            guard let text = node.string(&log, what: "rrule") else { return nil }
            var start: LocalDate?
            if let startNode = map["start"], let startText = startNode.string(&log, what: "start") {
                start = LocalDate(iso: startText)
                if start == nil {
                    log.error(file, startNode.position, "start '\(startText)' is not a date (YYYY-MM-DD)")
                }
            }
            if map["start"] == nil && agreement.valid.from == nil {
                log.error(
                    file, node.position,
                    "an rrule needs a DTSTART: give the agreement valid.from, or start: in the schedule")
            }
            do {
                let rule = try RecurrenceRule(parsing: text)
                return Schedule(rule: .recurring(rule, start: start), time: time, workingDay: move)
            } catch {
                // Point at the offending part inside the string (one more column for a quote).
                let quoted = node.isQuoted ? 1 : 0
                let at = Position(line: node.position.line, column: node.position.column + quoted + error.offset)
                log.error(file, at, "bad rrule: \(error.message)")
                return nil
            }
        }
        if let node = map["date"] {
            guard let date = fuzzyDate(node, anchor: .end, &log, what: "date") else { return nil }
            if move == .none, date.precision == .day, let reason = (try? calendar.nonWorkingReason(date.date)) ?? nil {
                log.warning(
                    file, node.position,
                    "\(date.date) is \(reason) and working_day is none: it stays on that day (say working_day: previous or next to move it)"
                )
            }
            return Schedule(rule: .date(date), time: time, workingDay: move)
        }
        guard let node = map["before_end"], let text = node.string(&log, what: "before_end") else { return nil }
        guard case .days(let days)? = LeadTime(text: text) else {
            log.error(file, node.position, "before_end must be a number of days such as 90d, found '\(text)'")
            return nil
        }
        if agreement.valid.until == nil {
            log.error(
                file, node.position, "before_end needs the agreement's valid.until, but the agreement is open-ended")
        }
        return Schedule(rule: .beforeEnd(days: days), time: time, workingDay: move)
    }

    private func readWindow(_ value: YAMLValue, agreement: Agreement, _ log: inout DiagnosticLog) -> Window? {
        guard let map = value.mapping(&log, what: "a window", allowed: Self.windowKeys),
            let id = slug(map.required("id", &log, what: "a window"), &log, what: "window id"),
            let durationNode = map.required("duration", &log, what: "window '\(id)'"),
            let duration = elapsed(durationNode, &log)
        else { return nil }
        func many(_ key: String) -> [Int] {
            guard let node = map[key], let items = node.list(&log, what: key) else { return [] }
            return items.compactMap { elapsed($0, &log) }
        }
        let window = Window(
            id: id, kind: map["kind"]?.string(&log, what: "kind") ?? id, durationSeconds: duration,
            remindAfterSeconds: many("remind_after"), escalateAfterSeconds: many("escalate_after"),
            escalateTo: readRoles(map["escalate_to"], agreement: agreement, &log, what: "escalate_to"),
            notify: readRoles(map["notify"], agreement: agreement, &log, what: "notify"))
        for (key, offsets) in [
            ("remind_after", window.remindAfterSeconds), ("escalate_after", window.escalateAfterSeconds),
        ]
        where offsets.contains(where: { $0 >= duration }) {
            log.error(file, map[key]?.position ?? map.position, "\(key) must be shorter than the window's duration")
        }
        return window
    }

    /// An elapsed duration: `24h`, `90m`, `2d` (days of 24 hours: windows never follow the wall clock).
    private func elapsed(_ value: YAMLValue, _ log: inout DiagnosticLog) -> Int? {
        guard let text = value.string(&log, what: "a duration") else { return nil }
        let units: [(String, Int)] = [("h", 3600), ("m", 60), ("d", 86_400)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            if let n = Int(text.dropLast()), n > 0 { return n * seconds }
        }
        log.error(file, value.position, "'\(text)' is not a duration; write a number and h, m or d (24h, 90m)")
        return nil
    }
}
