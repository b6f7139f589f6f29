import Foundation
import SamverkanCore
import Testing

private let stockholm = Zone(identifier: "Europe/Stockholm")!

private func date(_ text: String) -> LocalDate { LocalDate(iso: text)! }

private func agreement(_ obligations: [Obligation], valid: Validity = Validity(), windows: [Window] = []) -> Agreement {
    Agreement(
        id: "avesta-falun", title: "Avesta – LPO Falun", valid: valid,
        roles: [
            "samordnare": Role(id: "samordnare", email: "s@avesta.example", deputy: "kommunpolis"),
            "kommunpolis": Role(id: "kommunpolis"), "skola": Role(id: "skola"), "fritid": Role(id: "fritid"),
            "mottagande-enhet": Role(id: "mottagande-enhet", deputy: "enhetschef"),
            "enhetschef": Role(id: "enhetschef"),
        ],
        obligations: obligations, windows: windows)
}

private func oneOff(_ day: String, time: String = "09:00", move: WorkingDayMove = .none, remind: [LeadTime] = [])
    -> Obligation
{
    Obligation(
        id: "uppgift", kind: .review, title: "Uppgift",
        schedule: Schedule(
            rule: .date(FuzzyDate(parsing: day, anchor: .end)!), time: LocalTime(text: time)!, workingDay: move),
        remind: remind, notify: ["samordnare"])
}

private func plan(_ obligations: [Obligation], from: String = "2005-01-01", to: String = "2200-12-31") throws
    -> [Deadline]
{
    try Planner(zone: stockholm).plan([agreement(obligations)], from: date(from), through: date(to))
}

@Suite("planner")
struct PlannerTests {
    @Test("ids use the nominal date; a move changes due, never the id, and is explained")
    func movedDueKeepsId() throws {
        let deadline = try #require(try plan([oneOff("2026-06-19", move: .previous)]).first)
        #expect(deadline.id == "avesta-falun/uppgift/2026-06-19")
        #expect(stockholm.rfc3339(deadline.due) == "2026-06-18T09:00:00+02:00")
        #expect(deadline.explanation.contains("2026-06-19 is midsommarafton, moved to previous working day 2026-06-18"))
        #expect(deadline.notices.map(\.id) == ["avesta-falun/uppgift/2026-06-19/due"])
    }

    @Test(
        "statutory dates move forward, reminders back (domain.md §6 shift vectors)",
        arguments: [
            ("2025-12-24", "2025-12-29", "2025-12-23"), ("2026-04-03", "2026-04-07", "2026-04-02"),
            ("2026-06-19", "2026-06-22", "2026-06-18"), ("2026-10-31", "2026-11-02", "2026-10-30"),
            ("2026-12-31", "2027-01-04", "2026-12-30"), ("2027-12-24", "2027-12-27", "2027-12-23"),
        ])
    func shiftVectors(day: String, forward: String, back: String) throws {
        let next = try #require(try plan([oneOff(day, move: .next)]).first)
        #expect(stockholm.today(next.due) == date(forward))
        let previous = try #require(try plan([oneOff(day, move: .previous)]).first)
        #expect(stockholm.today(previous.due) == date(back))
        let kept = try #require(try plan([oneOff(day, move: .none)]).first)
        #expect(stockholm.today(kept.due) == date(day), "working_day: none never moves (agreement end dates)")
    }

    @Test("profile L reminders before 2026-12-31 land on working days (domain.md §5 test vector)")
    func profileL() throws {
        let leads: [LeadTime] = [
            .days(180), .days(120), .days(90), .days(60), .days(30), .days(14), .days(7), .days(1),
        ]
        let deadline = try #require(try plan([oneOff("2026-12-31", remind: leads)]).first)
        let reminders = deadline.notices.filter { $0.slot != "due" }.map { stockholm.today($0.at).description }
        #expect(
            reminders == [
                "2026-07-03", "2026-09-02", "2026-10-02", "2026-10-30", "2026-12-01", "2026-12-17", "2026-12-23",
                "2026-12-30",
            ])
        let moved = try #require(deadline.notices.first { $0.slot == "-7d" })
        #expect(
            moved.explanation
                == "7 days before 2026-12-31: 2026-12-24, which is julafton, moved to previous working day 2026-12-23")
        #expect(deadline.notices.allSatisfy { stockholm.local($0.at).time == LocalTime(text: "09:00") })
    }

    @Test("5 working days before Friday 2026-03-06 is Friday 2026-02-27 (domain.md §7.2 C)")
    func workingDayLead() throws {
        let deadline = try #require(try plan([oneOff("2026-03-06", remind: [.workingDays(5)])]).first)
        let reminder = try #require(deadline.notices.first { $0.slot == "-5wd" })
        #expect(stockholm.rfc3339(reminder.at) == "2026-02-27T09:00:00+01:00")
    }

    @Test("an h lead time is elapsed time, across a DST change")
    func hourLeadIsElapsed() throws {
        // Due 2026-03-29 10:00+02:00; 12 h earlier is 2026-03-28 21:00+01:00 (11 wall-clock hours).
        let deadline = try #require(try plan([oneOff("2026-03-29", time: "10:00", remind: [.hours(12)])]).first)
        let reminder = try #require(deadline.notices.first { $0.slot == "-12h" })
        #expect(stockholm.rfc3339(reminder.at) == "2026-03-28T21:00:00+01:00")
    }

    @Test("a wd lead time across the spring change keeps the wall-clock time")
    func workingDaysAcrossDST() throws {
        // Due Tuesday 2026-03-31 09:00+02:00; 3 working days before is Thursday 2026-03-26, 09:00+01:00.
        let deadline = try #require(try plan([oneOff("2026-03-31", remind: [.workingDays(3)])]).first)
        #expect(deadline.notices.first.map { stockholm.rfc3339($0.at) } == "2026-03-26T09:00:00+01:00")
    }

    /// Last Sundays of March and October in Europe/Stockholm, 2026–2030.
    static let springDays = ["2026-03-29", "2027-03-28", "2028-03-26", "2029-03-25", "2030-03-31"]
    static let autumnDays = ["2026-10-25", "2027-10-31", "2028-10-29", "2029-10-28", "2030-10-27"]

    @Test("daily 02:30 on spring-forward days moves forward by the gap", arguments: springDays)
    func springGap(day: String) throws {
        let rule = try RecurrenceRule(parsing: "FREQ=DAILY")
        let obligation = Obligation(
            id: "daglig", kind: .custom, title: "Daglig",
            schedule: Schedule(rule: .recurring(rule, start: date("2026-01-01")), time: LocalTime(text: "02:30")!),
            notify: ["samordnare"])
        let deadline = try #require(try plan([obligation], from: day, to: day).first)
        #expect(stockholm.rfc3339(deadline.due) == "\(day)T03:30:00+02:00")
        #expect(
            deadline.explanation.contains { $0.contains("does not exist") && $0.contains("moved forward to 03:30") })
        let three = Obligation(
            id: "tre", kind: .custom, title: "Tre",
            schedule: Schedule(rule: .recurring(rule, start: date("2026-01-01")), time: LocalTime(text: "03:00")!),
            notify: ["samordnare"])
        #expect(try plan([three], from: day, to: day).map { stockholm.rfc3339($0.due) } == ["\(day)T03:00:00+02:00"])
    }

    @Test("daily and weekly 02:30 on fall-back days mean the first 02:30", arguments: autumnDays)
    func autumnFold(day: String) throws {
        for text in ["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=SU"] {
            let rule = try RecurrenceRule(parsing: text)
            let obligation = Obligation(
                id: "regel", kind: .custom, title: "Regel",
                schedule: Schedule(rule: .recurring(rule, start: date("2026-01-01")), time: LocalTime(text: "02:30")!),
                notify: ["samordnare"])
            let deadline = try #require(try plan([obligation], from: day, to: day).first)
            #expect(stockholm.rfc3339(deadline.due) == "\(day)T02:30:00+02:00", "\(text)")
            #expect(deadline.explanation.contains { $0.contains("occurs twice") })
        }
        let rule = try RecurrenceRule(parsing: "FREQ=DAILY")
        let three = Obligation(
            id: "tre", kind: .custom, title: "Tre",
            schedule: Schedule(rule: .recurring(rule, start: date("2026-01-01")), time: LocalTime(text: "03:00")!),
            notify: ["samordnare"])
        #expect(try plan([three], from: day, to: day).map { stockholm.rfc3339($0.due) } == ["\(day)T03:00:00+01:00"])
    }

    @Test("a collection round has per-respondent reminders and a summary to the coordinator")
    func collectionRound() throws {
        let rule = try RecurrenceRule(parsing: "FREQ=MONTHLY;BYMONTHDAY=-1")
        let round = Obligation(
            id: "lagesbild", kind: .lagesbild, title: "Månadens lägesbild",
            schedule: Schedule(rule: .recurring(rule, start: date("2026-01-01")), workingDay: .previous),
            remind: [.workingDays(5), .workingDays(1)], notify: ["samordnare"], collectFrom: ["kommunpolis", "skola"],
            questions: ["Vilka ordningsstörningar har förekommit den senaste månaden?"])
        let deadline = try #require(try plan([round], from: "2026-12-01", to: "2026-12-31").first)
        #expect(deadline.id == "avesta-falun/lagesbild/2026-12-31")
        #expect(stockholm.today(deadline.due) == date("2026-12-30"), "nyårsafton: previous working day")
        #expect(
            Set(deadline.notices.map(\.id)) == [
                "avesta-falun/lagesbild/2026-12-31/-5wd/kommunpolis", "avesta-falun/lagesbild/2026-12-31/-5wd/skola",
                "avesta-falun/lagesbild/2026-12-31/-1wd/kommunpolis", "avesta-falun/lagesbild/2026-12-31/-1wd/skola",
                "avesta-falun/lagesbild/2026-12-31/summary",
            ])
        #expect(deadline.notices.first { $0.id.hasSuffix("-5wd/skola") }?.recipients == ["skola"])
        #expect(deadline.notices.first { $0.slot == "summary" }?.recipients == ["samordnare"])
    }

    @Test(
        "a SMADIT window is 24 h of elapsed time across DST (domain.md §4 vectors)",
        arguments: [
            ("2026-03-28T22:00:00+01:00", "2026-03-29T23:00:00+02:00"),
            ("2026-10-24T22:00:00+02:00", "2026-10-25T21:00:00+01:00"),
            // Opened inside the autumn fold (the first 02:30) and just before the spring gap.
            ("2026-10-25T02:30:00+02:00", "2026-10-26T01:30:00+01:00"),
            ("2026-03-29T01:59:59+01:00", "2026-03-30T02:59:59+02:00"),
        ])
    func smaditWindow(opened: String, due: String) throws {
        let window = Window(
            id: "smadit", kind: "smadit", durationSeconds: 86_400, remindAfterSeconds: [3600],
            escalateAfterSeconds: [18 * 3600], escalateTo: ["enhetschef"], notify: ["mottagande-enhet"])
        let openedAt = try #require(Zone.parseRFC3339(opened))
        let deadline = Planner(zone: stockholm).plan(
            window: window, agreement: agreement([], windows: [window]), reference: "2026-0042", openedAt: openedAt)
        #expect(deadline.id == "avesta-falun/smadit/2026-0042")
        #expect(stockholm.rfc3339(deadline.due) == due)
        #expect(deadline.notices.map(\.slot) == ["+1h", "escalation", "breach"])
        #expect(deadline.notices[1].recipients == ["enhetschef"], "deputy of the receiving unit and escalate_to, once")
        #expect(deadline.notices[1].at == openedAt.addingTimeInterval(18 * 3600))
    }

    @Test("a month-precision end is derived and said to be")
    func derivedDate() throws {
        let deadline = try #require(try plan([oneOff("2022-03")]).first)
        #expect(deadline.id == "avesta-falun/uppgift/2022-03-31")
        #expect(deadline.explanation.first == "rule: one-off date 2022-03-31 (derived from 2022-03)")
    }

    @Test("before_end counts from the agreement's end; an open-ended agreement has none")
    func beforeEnd() throws {
        let obligation = Obligation(
            id: "fornyelse", kind: .renewal, title: "Förnyelse", schedule: Schedule(rule: .beforeEnd(days: 90)),
            notify: ["samordnare"])
        let ending = agreement([obligation], valid: Validity(until: FuzzyDate(parsing: "2021", anchor: .end)))
        let planned = try Planner(zone: stockholm).plan([ending], from: date("2021-01-01"), through: date("2021-12-31"))
        #expect(planned.map(\.id) == ["avesta-falun/fornyelse/2021-10-02"])
        #expect(
            try Planner(zone: stockholm).plan(
                [agreement([obligation])], from: date("2005-01-01"), through: date("2200-12-31")
            ).isEmpty)
    }

    @Test("a move that needs a year outside 2005–2200 is refused, not computed")
    func outsideLaw() throws {
        #expect(throws: CalendarError.self) {
            try plan([oneOff("2004-06-19", move: .next)], from: "2004-01-01", to: "2004-12-31")
        }
        // Without a move or a wd lead, any year plans.
        let old = try Planner(zone: stockholm, calendar: SwedishCalendar()).plan(
            [agreement([oneOff("2210-01-01")])], from: date("2210-01-01"), through: date("2210-12-31"))
        #expect(old.count == 1)
    }

    @Test("a large plan, made on every core, is the plans of its agreements one by one, joined and sorted")
    func largePlanOnEveryCore() throws {
        let rules = ["FREQ=WEEKLY;BYDAY=MO", "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=DAILY;INTERVAL=9"]
        let agreements = (0..<40).map { k in
            var each = agreement(
                (0..<8).map { i in
                    var obligation = oneOff(
                        "2026-\(String(format: "%02d", 1 + (k + i) % 12))-1\(i)", time: "0\(i):1\(k % 10)",
                        move: i % 2 == 0 ? .next : .none, remind: [.days(i + 1), .workingDays(2)])
                    obligation.id = "o\(i)"
                    if i % 3 == 0 {
                        obligation.schedule.rule = .recurring(
                            try! RecurrenceRule(parsing: rules[k % 3]), start: date("2026-01-0\(1 + k % 9)"))
                    }
                    return obligation
                })
            each.id = "a\(k)"
            return each
        }
        let planner = Planner(zone: stockholm)
        let whole = try planner.plan(agreements, from: date("2026-01-01"), through: date("2026-12-31"))
        let oneByOne = try agreements.flatMap {
            try planner.plan([$0], from: date("2026-01-01"), through: date("2026-12-31"))
        }
        #expect(whole.count > 3000)
        #expect(whole == oneByOne.sorted { ($0.due, $0.id) < ($1.due, $1.id) })
    }

    @Test("a large plan fails as one by one would: with the error of the first obligation, in order, that fails")
    func largePlanFailsFirstInOrder() throws {
        // 2004-06-19 and 2201-06-19 are Saturdays: moving them needs a year outside the law.
        let agreements = (0..<40).map { k in
            var each = agreement(
                (0..<8).map { i in
                    var obligation = oneOff("2026-03-1\(i)")
                    obligation.id = "o\(i)"
                    if k == 11 && i == 5 { obligation = oneOff("2004-06-19", move: .next) }
                    if k == 35 && i == 2 { obligation = oneOff("2201-06-19", move: .next) }
                    return obligation
                })
            each.id = "a\(k)"
            return each
        }
        let planner = Planner(zone: stockholm)
        let first = #expect(throws: CalendarError.self) {
            try planner.plan(agreements, from: date("2004-01-01"), through: date("2201-12-31"))
        }
        let alone = #expect(throws: CalendarError.self) {
            try planner.plan([agreements[11]], from: date("2004-01-01"), through: date("2201-12-31"))
        }
        let later = #expect(throws: CalendarError.self) {
            try planner.plan([agreements[35]], from: date("2004-01-01"), through: date("2201-12-31"))
        }
        #expect(first != nil && first == alone)
        #expect(first != later, "the two errors tell the agreements apart")
    }

    @Test("the same input gives the same ids and times")
    func deterministic() throws {
        let a = try plan([oneOff("2026-12-31", remind: [.days(30)])])
        let b = try plan([oneOff("2026-12-31", remind: [.days(30)])])
        #expect(a == b)
    }
}
