import Foundation
import SamverkanCore
import Testing

/// `DeadlineStream` must write exactly the JSON that `DeadlineJSON` writes for the deadlines of
/// `Planner.plan`, in the same order: the two are compared byte for byte over schedules that
/// exercise every path (moves, DST gaps and folds, `d`/`wd`/`h` leads, collection rounds,
/// escaping, ids that start alike) in several zones.
@Suite("deadline stream")
struct DeadlineStreamTests {
    static let zones = ["Europe/Stockholm", "America/New_York", "Australia/Lord_Howe", "UTC"]
    static let ranges = [
        ("2026-01-01", "2027-12-31"), ("2027-03-20", "2027-04-05"), ("2027-10-31", "2027-10-31"),
        ("2026-06-01", "2026-06-01"), ("2005-01-20", "2005-02-20"),
    ]

    static func date(_ text: String) -> LocalDate { LocalDate(iso: text)! }

    static func rule(_ text: String) -> RecurrenceRule { try! RecurrenceRule(parsing: text) }

    static func obligation(
        _ id: String, _ kind: ObligationKind = .report, title: String? = nil, _ rule: Schedule.Rule,
        time: String = "09:00", move: WorkingDayMove = .none, remind: [LeadTime], collectFrom: [String] = []
    ) -> Obligation {
        Obligation(
            id: id, kind: kind, title: title ?? id,
            schedule: Schedule(rule: rule, time: LocalTime(text: time)!, workingDay: move), remind: remind,
            notify: ["r"], collectFrom: collectFrom)
    }

    /// Agreements whose ids start alike ("a", "a-1", "a0", "ab"), so that ranking by id matters.
    static let agreements: [Agreement] = {
        let roles = ["r": Role(id: "r"), "skola": Role(id: "skola"), "fritid": Role(id: "fritid")]
        let valid = Validity(
            from: FuzzyDate(parsing: "2020-01-01", anchor: .start), until: FuzzyDate(parsing: "2030-06", anchor: .end))
        return [
            Agreement(
                id: "a", title: "A", valid: valid, roles: roles,
                obligations: [
                    obligation(
                        "x", title: "Quote \" backslash \\ tab \t newline \n control \u{1} Ünïcödé ✓",
                        .recurring(rule("FREQ=DAILY;INTERVAL=3"), start: nil), time: "02:30", move: .next,
                        remind: [.days(1), .hours(24), .workingDays(2), .hours(5)]),
                    obligation(
                        "x-y", .lagesbild,
                        .recurring(rule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"), start: nil),
                        time: "23:59:59", remind: [.workingDays(5), .workingDays(1), .days(3)],
                        collectFrom: ["skola", "fritid"]),
                    obligation(
                        "slut", .renewal, .beforeEnd(days: 400), move: .previous, remind: [.days(30), .hours(1)]),
                    obligation("fuzzy", .custom, .date(FuzzyDate(parsing: "2027-06", anchor: .end)!), remind: []),
                    obligation(
                        "helg", .meeting, .recurring(rule("FREQ=WEEKLY;BYDAY=SA,SU"), start: nil), time: "03:00",
                        move: .previous, remind: [.hours(20)]),
                ]),
            Agreement(
                id: "a-1", title: "A-1", valid: Validity(from: FuzzyDate(parsing: "2026-01-01", anchor: .start)),
                roles: roles,
                obligations: [
                    obligation(
                        "x", .review, .recurring(rule("FREQ=DAILY;INTERVAL=3"), start: nil), time: "02:30", move: .next,
                        remind: [.days(1)]),
                    obligation(
                        "count", .review, .recurring(rule("FREQ=WEEKLY;COUNT=300;BYDAY=MO"), start: date("2005-01-03")),
                        time: "02:00", remind: [.hours(2), .days(1)]),
                    obligation(
                        "gap", .report, .recurring(rule("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"), start: nil), time: "02:30",
                        remind: [.hours(1), .hours(25)]),
                    obligation(
                        "twice", .report, .recurring(rule("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"), start: nil),
                        time: "02:30",
                        remind: [.hours(1), .hours(2), .workingDays(1)]),
                ]),
            Agreement(
                id: "a0", title: "A0", valid: Validity(from: FuzzyDate(parsing: "2026-01-01", anchor: .start)),
                roles: roles,
                obligations: [
                    obligation(
                        "n", .custom, .recurring(rule("FREQ=MONTHLY;BYMONTHDAY=1,15,-1"), start: nil),
                        remind: [.hours(1), .hours(23), .hours(10)])
                ]),
            Agreement(
                id: "ab", title: "AB",
                valid: Validity(
                    from: FuzzyDate(parsing: "2026-01-01", anchor: .start),
                    until: FuzzyDate(parsing: "2027-08", anchor: .end)),
                roles: roles,
                obligations: [
                    obligation(
                        "x", .promise, title: "𝄞", .recurring(rule("FREQ=DAILY"), start: nil), time: "02:30",
                        move: .next, remind: [.hours(12), .hours(2)]),
                    obligation("end", .renewal, .beforeEnd(days: 10), move: .next, remind: [.days(3)]),
                ]),
        ]
    }()

    /// What `samverkanctl plan --json` printed before the stream: `DeadlineJSON` over the plan.
    static func expected(_ planner: Planner, from: String, to: String) throws -> [UInt8] {
        var writer = DeadlineJSON(zone: planner.zone)
        writer.begin()
        for deadline in try planner.plan(agreements, from: date(from), through: date(to)) {
            writer.append(deadline, state: "planned", noticeState: "planned", explain: false)
        }
        writer.end()
        return writer.drain()
    }

    static func streamed(_ planner: Planner, from: String, to: String, chunkSize: Int = 1 << 18) throws -> [UInt8] {
        var builder = DeadlineStream.Builder(from: date(from), through: date(to))
        for agreement in agreements { builder.add(agreement) }
        let stream = try builder.build(planner: planner)
        var bytes: [UInt8] = []
        stream.writeJSON(state: "planned", noticeState: "planned", chunkSize: chunkSize) {
            bytes.append(contentsOf: $0)
        }
        return bytes
    }

    /// The first line that differs, as "line N: got …, expected …", or nil when the bytes are equal
    /// (a plan is too long to print whole in a failure).
    static func firstDifference(_ actual: [UInt8], _ expected: [UInt8]) -> String? {
        guard actual != expected else { return nil }
        let got = String(decoding: actual, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let want = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, (a, b)) in zip(got, want).enumerated() where a != b {
            return "line \(index + 1): got \(a), expected \(b)"
        }
        return "\(got.count) lines, expected \(want.count)"
    }

    @Test("the stream writes what DeadlineJSON writes for Planner.plan", arguments: zones)
    func sameAsPlanner(zone identifier: String) throws {
        let zone = try #require(Zone(identifier: identifier))
        let closed: Set<LocalDate> = [Self.date("2027-05-14"), Self.date("2027-12-27"), Self.date("2027-12-28")]
        let planner = Planner(zone: zone, calendar: SwedishCalendar(closedDays: closed), explains: false)
        for (from, to) in Self.ranges {
            let expected = try Self.expected(planner, from: from, to: to)
            let streamed = try Self.streamed(planner, from: from, to: to)
            #expect(Self.firstDifference(streamed, expected) == nil, "\(identifier) \(from)...\(to)")
        }
    }

    @Test("small blocks give the same bytes")
    func smallBlocks() throws {
        let planner = Planner(zone: try #require(Zone(identifier: "Europe/Stockholm")), explains: false)
        let expected = try Self.expected(planner, from: "2026-01-01", to: "2027-12-31")
        let streamed = try Self.streamed(planner, from: "2026-01-01", to: "2027-12-31", chunkSize: 1)
        #expect(Self.firstDifference(streamed, expected) == nil)
    }

    @Test("an empty plan is an empty array")
    func emptyPlan() throws {
        let planner = Planner(zone: try #require(Zone(identifier: "Europe/Stockholm")), explains: false)
        #expect(try Self.streamed(planner, from: "2019-01-01", to: "2019-01-02") == Array("[]\n".utf8))
    }

    @Test("a date outside the calendar's years fails in build, with the planner's error")
    func calendarError() throws {
        let planner = Planner(zone: try #require(Zone(identifier: "Europe/Stockholm")), explains: false)
        let plannerError = #expect(throws: CalendarError.self) {
            try planner.plan(Self.agreements, from: Self.date("2005-01-01"), through: Self.date("2005-12-31"))
        }
        var builder = DeadlineStream.Builder(from: Self.date("2005-01-01"), through: Self.date("2005-12-31"))
        for agreement in Self.agreements { builder.add(agreement) }
        let streamError = #expect(throws: CalendarError.self) { try builder.build(planner: planner) }
        #expect(plannerError != nil && plannerError == streamError)
    }
}
