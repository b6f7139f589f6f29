import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

// MARK: - Fixed examples

/// Dates `first`, `first + step`, … up to `last`, as ISO text.
private func every(_ step: Int, days first: String, through last: String) -> [String] {
    guard let first = LocalDate(iso: first), let last = LocalDate(iso: last) else { return ["bad range"] }
    return stride(from: first.dayNumber, through: last.dayNumber, by: step).map { LocalDate(dayNumber: $0).description }
}

/// `dates("1997-09", 2, 9, 16)` is 1997-09-02, 1997-09-09, 1997-09-16.
private func dates(_ month: String, _ days: Int...) -> [String] {
    days.map { "\(month)-\($0 < 10 ? "0" : "")\($0)" }
}

@Suite("RecurrenceRule: fixed examples")
struct RecurrenceRuleExampleTests {
    @Test(arguments: RecurrenceRuleExampleTests.rfc5545 + RecurrenceRuleExampleTests.platform)
    func example(_ example: Example) throws {
        let rule = try RecurrenceRule(parsing: example.rule)
        let start = try #require(LocalDate(iso: example.start))
        let through = try #require(LocalDate(iso: example.through))
        #expect(rule.occurrences(start: start, from: start, through: through).map(\.description) == example.expected)
    }

    @Test func untilIsAnInclusiveDate() throws {
        // RFC 5545 stops this on the 23rd because its events are at 09:00 and UNTIL is midnight
        // UTC; rules here are dates, so UNTIL's date is the last possible one, whatever its time.
        let start = try #require(LocalDate(iso: "1997-12-20"))
        let end = try #require(LocalDate(iso: "1998-12-31"))
        for text in [
            "FREQ=DAILY;UNTIL=19971224", "FREQ=DAILY;UNTIL=19971224T000000Z", "FREQ=DAILY;UNTIL=19971224T235959",
        ] {
            let rule = try RecurrenceRule(parsing: text)
            #expect(rule.until == LocalDate(iso: "1997-12-24"))
            #expect(
                rule.occurrences(start: start, from: start, through: end).map(\.description)
                    == every(1, days: "1997-12-20", through: "1997-12-24"), "\(text)")
        }
    }

    @Test func countCountsFromDTSTARTWhenTheWindowStartsLater() throws {
        let rule = try RecurrenceRule(parsing: "FREQ=MONTHLY;COUNT=3")
        let start = try #require(LocalDate(iso: "2026-01-31"))
        let from = try #require(LocalDate(iso: "2026-03-01"))
        let through = try #require(LocalDate(iso: "2030-12-31"))
        // Jan 31, Mar 31, May 31: the third is the last, however late the window opens.
        #expect(
            rule.occurrences(start: start, from: from, through: through).map(\.description) == [
                "2026-03-31", "2026-05-31",
            ])
    }

    @Test func aLateWindowSkipsAheadToTheSameDates() throws {
        let rule = try RecurrenceRule(parsing: "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR;WKST=SU")
        let start = try #require(LocalDate(iso: "1990-01-03"))
        let from = try #require(LocalDate(iso: "2026-01-01"))
        let through = try #require(LocalDate(iso: "2026-12-31"))
        let all = rule.occurrences(start: start, from: start, through: through)
        let late = rule.occurrences(start: start, from: from, through: through)
        #expect(late == all.filter { $0 >= from })
        #expect(late.count == 35)  // dateutil: 2026-01-02 … 2026-12-25
    }

    @Test(arguments: [
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "2026-01-01", true),
        ("FREQ=YEARLY;BYMONTH=2", "2026-01-31", true),  // 31 February, from DTSTART's day
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTH=3", "2026-01-15", true),  // only ever January
        ("FREQ=MONTHLY;UNTIL=20251231", "2026-01-01", true),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2", "2026-01-01", true),
        ("FREQ=MONTHLY;BYMONTHDAY=31", "2026-02-01", false),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "2025-01-01", false),
    ])
    func neverFires(rule text: String, start: String, expected: Bool) throws {
        let rule = try RecurrenceRule(parsing: text)
        let start = try #require(LocalDate(iso: start))
        let through = try #require(LocalDate(iso: "2046-12-31"))
        #expect(rule.neverFires(start: start, through: through) == expected)
    }

    @Test func lazyOccurrencesEndWithCountUntilOrTheYear9999() throws {
        let start = try #require(LocalDate(iso: "2026-01-01"))
        let counted = try RecurrenceRule(parsing: "FREQ=WEEKLY;COUNT=5;BYDAY=MO,TH")
        #expect(
            Array(counted.occurrences(start: start)).map(\.description) == [
                "2026-01-01", "2026-01-05", "2026-01-08", "2026-01-12", "2026-01-15",
            ])
        let bounded = try RecurrenceRule(parsing: "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20260401")
        #expect(
            Array(bounded.occurrences(start: start)).map(\.description) == ["2026-01-30", "2026-02-27", "2026-03-27"])
        // A rule that stops matching scans to dateutil's end of time, then ends.
        let never = try RecurrenceRule(parsing: "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30")
        #expect(Array(never.occurrences(start: start)).isEmpty)
        let open = try RecurrenceRule(parsing: "FREQ=YEARLY;INTERVAL=1000")
        #expect(
            Array(open.occurrences(start: start)).map(\.description) == [
                "2026-01-01", "3026-01-01", "4026-01-01",
                "5026-01-01", "6026-01-01", "7026-01-01", "8026-01-01", "9026-01-01",
            ])
    }
}

extension RecurrenceRuleExampleTests {
    /// A rule, its DTSTART, a window, and the dates it must give there.
    struct Example: Sendable, CustomTestStringConvertible {
        let name: String
        let start: String
        let rule: String
        let through: String
        let expected: [String]

        init(_ name: String, start: String, _ rule: String, through: String = "2100-12-31", _ expected: [String]) {
            self.name = name
            self.start = start
            self.rule = rule
            self.through = through
            self.expected = expected
        }

        var testDescription: String { name }
    }

    /// RFC 5545 section 3.8.5.3, the examples within this subset (no BYYEARDAY, BYWEEKNO or times).
    ///
    /// Where the RFC bounds a rule with `UNTIL=…T000000Z` and lists events at 09:00, the day of UNTIL
    /// falls out only because of the time of day. Rules here are dates, UNTIL is an inclusive date,
    /// so those examples are written with the previous day, which gives the RFC's dates (see
    /// `untilIsAnInclusiveDate` for the date-time form).
    static let rfc5545: [Example] = [
        .init(
            "daily, 10 occurrences", start: "1997-09-02", "FREQ=DAILY;COUNT=10",
            every(1, days: "1997-09-02", through: "1997-09-11")),
        .init(
            "daily until December 24, 1997", start: "1997-09-02", "FREQ=DAILY;UNTIL=19971223",
            every(1, days: "1997-09-02", through: "1997-12-23")),
        .init(
            "every other day, forever", start: "1997-09-02", "FREQ=DAILY;INTERVAL=2", through: "1997-12-31",
            every(2, days: "1997-09-02", through: "1997-12-31")),
        .init(
            "every 10 days, 5 occurrences", start: "1997-09-02", "FREQ=DAILY;INTERVAL=10;COUNT=5",
            dates("1997-09", 2, 12, 22) + dates("1997-10", 2, 12)),
        .init(
            "every day in January, for 3 years (yearly)", start: "1998-01-01",
            "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
            every(1, days: "1998-01-01", through: "1998-01-31") + every(1, days: "1999-01-01", through: "1999-01-31")
                + every(1, days: "2000-01-01", through: "2000-01-31")),
        .init(
            "every day in January, for 3 years (daily)", start: "1998-01-01",
            "FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1",
            every(1, days: "1998-01-01", through: "1998-01-31") + every(1, days: "1999-01-01", through: "1999-01-31")
                + every(1, days: "2000-01-01", through: "2000-01-31")),
        .init(
            "weekly, 10 occurrences", start: "1997-09-02", "FREQ=WEEKLY;COUNT=10",
            every(7, days: "1997-09-02", through: "1997-11-04")),
        .init(
            "weekly until December 24, 1997", start: "1997-09-02", "FREQ=WEEKLY;UNTIL=19971224T000000Z",
            every(7, days: "1997-09-02", through: "1997-12-23")),
        .init(
            "every other week, forever", start: "1997-09-02", "FREQ=WEEKLY;INTERVAL=2;WKST=SU", through: "1998-02-28",
            every(14, days: "1997-09-02", through: "1998-02-17")),
        .init(
            "weekly on Tuesday and Thursday for five weeks (UNTIL)", start: "1997-09-02",
            "FREQ=WEEKLY;UNTIL=19971006;WKST=SU;BYDAY=TU,TH",
            dates("1997-09", 2, 4, 9, 11, 16, 18, 23, 25, 30) + ["1997-10-02"]),
        .init(
            "weekly on Tuesday and Thursday for five weeks (COUNT)", start: "1997-09-02",
            "FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH",
            dates("1997-09", 2, 4, 9, 11, 16, 18, 23, 25, 30) + ["1997-10-02"]),
        .init(
            "every other week on Monday, Wednesday and Friday until December 24, 1997", start: "1997-09-01",
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971223;WKST=SU;BYDAY=MO,WE,FR",
            dates("1997-09", 1, 3, 5, 15, 17, 19, 29) + dates("1997-10", 1, 3, 13, 15, 17, 27, 29, 31)
                + dates("1997-11", 10, 12, 14, 24, 26, 28) + dates("1997-12", 8, 10, 12, 22)),
        .init(
            "every other week on Tuesday and Thursday, 8 occurrences", start: "1997-09-02",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH",
            dates("1997-09", 2, 4, 16, 18, 30) + dates("1997-10", 2, 14, 16)),
        .init(
            "monthly on the first Friday, 10 occurrences", start: "1997-09-05", "FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
            [
                "1997-09-05", "1997-10-03", "1997-11-07", "1997-12-05", "1998-01-02", "1998-02-06", "1998-03-06",
                "1998-04-03",
                "1998-05-01", "1998-06-05",
            ]),
        .init(
            "monthly on the first Friday until December 24, 1997", start: "1997-09-05",
            "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR", ["1997-09-05", "1997-10-03", "1997-11-07", "1997-12-05"]),
        .init(
            "every other month on the first and last Sunday, 10 occurrences", start: "1997-09-07",
            "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU",
            dates("1997-09", 7, 28) + dates("1997-11", 2, 30) + dates("1998-01", 4, 25) + dates("1998-03", 1, 29)
                + dates("1998-05", 3, 31)),
        .init(
            "monthly on the second-to-last Monday, 6 months", start: "1997-09-22", "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
            ["1997-09-22", "1997-10-20", "1997-11-17", "1997-12-22", "1998-01-19", "1998-02-16"]),
        .init(
            "monthly on the third-to-last day, forever", start: "1997-09-28", "FREQ=MONTHLY;BYMONTHDAY=-3",
            through: "1998-02-28",
            ["1997-09-28", "1997-10-29", "1997-11-28", "1997-12-29", "1998-01-29", "1998-02-26"]),
        .init(
            "monthly on the 2nd and 15th, 10 occurrences", start: "1997-09-02", "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15",
            dates("1997-09", 2, 15) + dates("1997-10", 2, 15) + dates("1997-11", 2, 15) + dates("1997-12", 2, 15)
                + dates("1998-01", 2, 15)),
        .init(
            "monthly on the first and last day, 10 occurrences", start: "1997-09-30",
            "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1",
            [
                "1997-09-30", "1997-10-01", "1997-10-31", "1997-11-01", "1997-11-30", "1997-12-01", "1997-12-31",
                "1998-01-01",
                "1998-01-31", "1998-02-01",
            ]),
        .init(
            "every 18 months on the 10th to 15th, 10 occurrences", start: "1997-09-10",
            "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15",
            dates("1997-09", 10, 11, 12, 13, 14, 15) + dates("1999-03", 10, 11, 12, 13)),
        .init(
            "every Tuesday, every other month", start: "1997-09-02", "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
            through: "1998-03-31",
            dates("1997-09", 2, 9, 16, 23, 30) + dates("1997-11", 4, 11, 18, 25) + dates("1998-01", 6, 13, 20, 27)
                + dates("1998-03", 3, 10, 17, 24, 31)),
        .init(
            "yearly in June and July, 10 occurrences", start: "1997-06-10", "FREQ=YEARLY;COUNT=10;BYMONTH=6,7",
            (1997...2001).flatMap { ["\($0)-06-10", "\($0)-07-10"] }),
        .init(
            "every other year in January, February and March, 10 occurrences", start: "1997-03-10",
            "FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3",
            ["1997-03-10"] + [1999, 2001, 2003].flatMap { ["\($0)-01-10", "\($0)-02-10", "\($0)-03-10"] }),
        .init(
            "every 20th Monday of the year, forever", start: "1997-05-19", "FREQ=YEARLY;BYDAY=20MO",
            through: "1999-12-31",
            ["1997-05-19", "1998-05-18", "1999-05-17"]),
        .init(
            "every Thursday in March, forever", start: "1997-03-13", "FREQ=YEARLY;BYMONTH=3;BYDAY=TH",
            through: "1999-12-31",
            dates("1997-03", 13, 20, 27) + dates("1998-03", 5, 12, 19, 26) + dates("1999-03", 4, 11, 18, 25)),
        .init(
            "every Thursday in June, July and August, forever", start: "1997-06-05",
            "FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8",
            through: "1999-12-31",
            dates("1997-06", 5, 12, 19, 26) + dates("1997-07", 3, 10, 17, 24, 31) + dates("1997-08", 7, 14, 21, 28)
                + dates("1998-06", 4, 11, 18, 25) + dates("1998-07", 2, 9, 16, 23, 30) + dates("1998-08", 6, 13, 20, 27)
                + dates("1999-06", 3, 10, 17, 24) + dates("1999-07", 1, 8, 15, 22, 29) + dates("1999-08", 5, 12, 19, 26)
        ),
        .init(
            "every Friday the 13th, forever (DTSTART not matching is no occurrence)", start: "1997-09-02",
            "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", through: "2000-12-31",
            ["1998-02-13", "1998-03-13", "1998-11-13", "1999-08-13", "2000-10-13"]),
        .init(
            "the first Saturday after the first Sunday, forever", start: "1997-09-13",
            "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13", through: "1998-06-30",
            [
                "1997-09-13", "1997-10-11", "1997-11-08", "1997-12-13", "1998-01-10", "1998-02-07", "1998-03-07",
                "1998-04-11",
                "1998-05-09", "1998-06-13",
            ]),
        .init(
            "U.S. presidential election day", start: "1996-11-05",
            "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8", through: "2004-12-31",
            ["1996-11-05", "2000-11-07", "2004-11-02"]),
        .init(
            "the third Tuesday, Wednesday or Thursday, 3 months", start: "1997-09-04",
            "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", ["1997-09-04", "1997-10-07", "1997-11-06"]),
        .init(
            "the second-to-last weekday", start: "1997-09-29", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2",
            through: "1998-03-31",
            ["1997-09-29", "1997-10-30", "1997-11-27", "1997-12-30", "1998-01-29", "1998-02-26", "1998-03-30"]),
        .init(
            "WKST=MO changes which days share a week", start: "1997-08-05",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
            ["1997-08-05", "1997-08-10", "1997-08-19", "1997-08-24"]),
        .init(
            "WKST=SU changes which days share a week", start: "1997-08-05",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
            ["1997-08-05", "1997-08-17", "1997-08-19", "1997-08-31"]),
        .init(
            "February 30 is skipped, not counted", start: "2007-01-15", "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5",
            ["2007-01-15", "2007-01-30", "2007-02-15", "2007-03-15", "2007-03-30"]),
    ]

    /// `platform.md` 6.3 and 6.4: dateutil's answers, where Foundation's `Calendar.RecurrenceRule` went wrong.
    static let platform: [Example] = [
        .init(
            "last Friday, 4 times", start: "2026-01-01", "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;COUNT=4",
            ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24"]),
        .init(
            "day 30, clamped", start: "2026-01-01", "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1;COUNT=4",
            ["2026-01-30", "2026-02-28", "2026-03-30", "2026-04-30"]),
        .init(
            "every Friday", start: "2026-01-01", "FREQ=MONTHLY;BYDAY=FR;COUNT=3",
            ["2026-01-02", "2026-01-09", "2026-01-16"]),
        .init(
            "last weekday", start: "2026-01-01", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3",
            ["2026-01-30", "2026-02-27", "2026-03-31"]),
        .init(
            "second Tuesday", start: "2026-01-01", "FREQ=MONTHLY;BYDAY=2TU;COUNT=3",
            ["2026-01-13", "2026-02-10", "2026-03-10"]),
        .init(
            "BYMONTHDAY=31 skips short months", start: "2026-01-31", "FREQ=MONTHLY;COUNT=4",
            ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"]),
        .init(
            "29 February only in leap years", start: "2024-02-29", "FREQ=YEARLY", through: "2033-01-01",
            ["2024-02-29", "2028-02-29", "2032-02-29"]),
    ]

}

// MARK: - Parsing

@Suite("RecurrenceRule: parsing")
struct RecurrenceRuleParsingTests {
    @Test func partsAreReadIntoTheModel() throws {
        let rule = try RecurrenceRule(
            parsing: "RRULE:freq=yearly;interval=2;bymonth=11,3;byday=-1fr,+2tu;bysetpos=1,-1;wkst=su;count=7")
        #expect(rule.frequency == .yearly)
        #expect(rule.interval == 2)
        #expect(rule.count == 7)
        #expect(rule.until == nil)
        #expect(rule.byMonth == [3, 11])
        #expect(rule.byMonthDay == [])
        #expect(rule.byDay == [.init(.tuesday, ordinal: 2), .init(.friday, ordinal: -1)])
        #expect(rule.bySetPos == [-1, 1])
        #expect(rule.weekStart == .sunday)
        #expect(rule.description == "FREQ=YEARLY;INTERVAL=2;COUNT=7;BYMONTH=3,11;BYDAY=2TU,-1FR;BYSETPOS=-1,1;WKST=SU")
    }

    @Test(arguments: [
        ("FREQ=DAILY", "FREQ=DAILY"),
        ("FREQ=WEEKLY;INTERVAL=1;WKST=MO;BYDAY=FR,MO", "FREQ=WEEKLY;BYDAY=MO,FR"),
        ("BYMONTHDAY=-1,1,15;FREQ=MONTHLY;UNTIL=20261231T120000Z", "FREQ=MONTHLY;UNTIL=20261231;BYMONTHDAY=-1,1,15"),
        ("FREQ=MONTHLY;BYDAY=+1MO,-1MO,1FR", "FREQ=MONTHLY;BYDAY=-1MO,1MO,1FR"),
    ])
    func descriptionIsCanonical(text: String, canonical: String) throws {
        let rule = try RecurrenceRule(parsing: text)
        #expect(rule.description == canonical)
        #expect(try RecurrenceRule(parsing: canonical) == rule)
        #expect(RecurrenceRule(canonical) == rule)
    }

    struct Failure: Sendable, CustomTestStringConvertible {
        let text: String
        let code: RecurrenceRule.ParseError.Code
        let message: String
        let part: String?
        let partOffset: Int?
        let offset: Int
        var testDescription: String { text.isEmpty ? "(empty)" : text }
    }

    static let supported = "FREQ, INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY, BYDAY, BYSETPOS, WKST"

    @Test(arguments: [
        Failure(
            text: "FREQ=WEEKLY;BYDAY=MO,MOX", code: .invalidValue,
            message:
                "BYDAY: 'MOX' is not a weekday (MO, TU, WE, TH, FR, SA, SU, optionally with an ordinal like 1MO "
                + "or -1FR)",
            part: "BYDAY", partOffset: 12, offset: 21),
        Failure(
            text: "FREQ=MONTHLY;COUNT=3;UNTIL=20261231", code: .conflictingParts,
            message: "COUNT and UNTIL cannot both be given", part: "UNTIL", partOffset: 21, offset: 21),
        Failure(
            text: "FREQ=DAILY;BYHOUR=9", code: .unknownPart, message: "unknown part 'BYHOUR' (supported: \(supported))",
            part: "BYHOUR", partOffset: 11, offset: 11),
        Failure(
            text: "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", code: .unsupportedPart,
            message: "BYWEEKNO is not supported here (supported: \(supported))", part: "BYWEEKNO", partOffset: 12,
            offset: 12),
        Failure(
            text: "FREQ=YEARLY;BYYEARDAY=100", code: .unsupportedPart,
            message: "BYYEARDAY is not supported here (supported: \(supported))", part: "BYYEARDAY", partOffset: 12,
            offset: 12),
        Failure(
            text: "INTERVAL=2;BYDAY=MO", code: .missingFrequency,
            message: "FREQ is missing (one of YEARLY, MONTHLY, WEEKLY, DAILY)", part: nil, partOffset: nil, offset: 0),
        Failure(
            text: "FREQ=HOURLY", code: .invalidValue,
            message: "FREQ: 'HOURLY' is not supported (use YEARLY, MONTHLY, WEEKLY or DAILY)", part: "FREQ",
            partOffset: 0,
            offset: 5),
        Failure(
            text: "FREQ=FORTNIGHTLY", code: .invalidValue,
            message: "FREQ: 'FORTNIGHTLY' is not a frequency (use YEARLY, MONTHLY, WEEKLY or DAILY)", part: "FREQ",
            partOffset: 0, offset: 5),
        Failure(
            text: "FREQ=DAILY;INTERVAL=0", code: .invalidValue, message: "INTERVAL: 0 is out of range (1 to 100000)",
            part: "INTERVAL", partOffset: 11, offset: 20),
        Failure(
            text: "FREQ=DAILY;COUNT=abc", code: .invalidValue,
            message: "COUNT: 'abc' is not a whole number (1 to 1000000)", part: "COUNT", partOffset: 11, offset: 17),
        Failure(
            text: "FREQ=MONTHLY;BYMONTHDAY=0", code: .invalidValue,
            message: "BYMONTHDAY: 0 is out of range (1 to 31, or -31 to -1 counting from the month's end)",
            part: "BYMONTHDAY", partOffset: 13, offset: 24),
        Failure(
            text: "FREQ=MONTHLY;BYMONTHDAY=1,32", code: .invalidValue,
            message: "BYMONTHDAY: 32 is out of range (1 to 31, or -31 to -1 counting from the month's end)",
            part: "BYMONTHDAY", partOffset: 13, offset: 26),
        Failure(
            text: "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", code: .invalidValue,
            message: "BYSETPOS: 0 is out of range (1 to 366, or -366 to -1 counting from the end)", part: "BYSETPOS",
            partOffset: 22, offset: 31),
        Failure(
            text: "FREQ=YEARLY;BYMONTH=13;BYMONTHDAY=0", code: .invalidValue,
            message: "BYMONTH: 13 is out of range (1 to 12)", part: "BYMONTH", partOffset: 12, offset: 20),
        Failure(
            text: "FREQ=MONTHLY;FREQ=YEARLY", code: .duplicatePart, message: "FREQ: given twice (first at offset 0)",
            part: "FREQ", partOffset: 13, offset: 13),
        Failure(
            text: "FREQ=YEARLY;BYMONTH=1,1", code: .invalidValue, message: "BYMONTH: '1' repeats '1'", part: "BYMONTH",
            partOffset: 12, offset: 22),
        Failure(
            text: "FREQ=MONTHLY;BYDAY=+1MO,1MO", code: .invalidValue, message: "BYDAY: '1MO' repeats '+1MO'",
            part: "BYDAY", partOffset: 13, offset: 24),
        Failure(
            text: "FREQ=WEEKLY;BYDAY=1MO", code: .conflictingParts,
            message: "BYDAY: '1MO' has an ordinal, which only FREQ=MONTHLY and FREQ=YEARLY allow; write 'MO'",
            part: "BYDAY", partOffset: 12, offset: 18),
        Failure(
            text: "FREQ=MONTHLY;BYDAY=MO,1FR", code: .conflictingParts,
            message:
                "BYDAY: 'MO' and '1FR' mix weekdays with and without an ordinal, which implementations read "
                + "differently; use one kind per rule",
            part: "BYDAY", partOffset: 13, offset: 22),
        Failure(
            text: "FREQ=MONTHLY;BYDAY=6MO", code: .invalidValue,
            message: "BYDAY: '6MO': a month has at most 5 of each weekday (use 1 to 5 or -5 to -1)", part: "BYDAY",
            partOffset: 13, offset: 19),
        Failure(
            text: "FREQ=YEARLY;BYMONTH=3;BYDAY=-6TH", code: .invalidValue,
            message: "BYDAY: '-6TH': a month has at most 5 of each weekday (use 1 to 5 or -5 to -1)", part: "BYDAY",
            partOffset: 22, offset: 28),
        Failure(
            text: "FREQ=YEARLY;BYDAY=54MO", code: .invalidValue,
            message: "BYDAY: '54MO': a year has at most 53 of each weekday (use 1 to 53 or -53 to -1)", part: "BYDAY",
            partOffset: 12, offset: 18),
        Failure(
            text: "FREQ=MONTHLY;BYDAY=0MO", code: .invalidValue,
            message: "BYDAY: '0MO': the ordinal cannot be 0 (1 is the first, -1 the last)", part: "BYDAY",
            partOffset: 13,
            offset: 19),
        Failure(
            text: "FREQ=MONTHLY;WKST=XX", code: .invalidValue,
            message: "WKST: 'XX' is not a weekday (MO, TU, WE, TH, FR, SA, SU)", part: "WKST", partOffset: 13,
            offset: 18),
        Failure(
            text: "FREQ=MONTHLY;UNTIL=20260230", code: .invalidValue,
            message: "UNTIL: '20260230' is not a day in the calendar", part: "UNTIL", partOffset: 13, offset: 19),
        Failure(
            text: "FREQ=MONTHLY;UNTIL=2026-12-31", code: .invalidValue,
            message:
                "UNTIL: '2026-12-31' is not a date (write YYYYMMDD, or YYYYMMDDTHHMMSS with an optional Z; only the "
                + "date is used)",
            part: "UNTIL", partOffset: 13, offset: 19),
        Failure(
            text: "FREQ=MONTHLY;UNTIL=20261231T250000", code: .invalidValue,
            message:
                "UNTIL: '20261231T250000' is not a date (write YYYYMMDD, or YYYYMMDDTHHMMSS with an optional Z; "
                + "only the date is used)",
            part: "UNTIL", partOffset: 13, offset: 19),
        Failure(
            text: "FREQ=MONTHLY;;COUNT=2", code: .malformed,
            message: "empty part (a ';' at the start or end, or two in a row)", part: nil, partOffset: nil, offset: 13),
        Failure(
            text: "FREQ=MONTHLY;", code: .malformed, message: "empty part (a ';' at the start or end, or two in a row)",
            part: nil, partOffset: nil, offset: 13),
        Failure(
            text: "FREQ=MONTHLY; COUNT=2", code: .malformed, message: "whitespace is not allowed in a rule", part: nil,
            partOffset: nil, offset: 13),
        Failure(
            text: "FREQ=MONTHLY;COUNT", code: .malformed,
            message: "'COUNT' has no value (parts are written NAME=VALUE)",
            part: "COUNT", partOffset: 13, offset: 13),
        Failure(
            text: "FREQ=MONTHLY;COUNT=", code: .malformed, message: "COUNT: the value is empty", part: "COUNT",
            partOffset: 13, offset: 13),
        Failure(
            text: "FREQ=MONTHLY;BYDAY=MO,,TU", code: .malformed,
            message: "BYDAY: empty item (a ',' at the start or end, or two in a row)", part: "BYDAY", partOffset: 13,
            offset: 22),
        Failure(
            text: "", code: .malformed, message: "the rule is empty (it needs at least FREQ, e.g. FREQ=MONTHLY)",
            part: nil,
            partOffset: nil, offset: 0),
    ])
    func rejects(_ failure: Failure) {
        let error = #expect(throws: RecurrenceRule.ParseError.self) { try RecurrenceRule(parsing: failure.text) }
        #expect(error?.code == failure.code)
        #expect(error?.message == failure.message)
        #expect(error?.offendingPart?.name == failure.part)
        #expect(error?.offendingPart?.offset == failure.partOffset)
        #expect(error?.offset == failure.offset)
        #expect(error?.description == "offset \(failure.offset): \(failure.message)")
    }

    @Test func rejectedTextIsNotALosslessString() {
        #expect(RecurrenceRule("FREQ=DAILY;COUNT=0") == nil)
    }
}

// MARK: - dateutil as oracle

@Suite("RecurrenceRule: python-dateutil as oracle")
struct RecurrenceRuleOracleTests {
    static let caseCount = 4_000
    static let seed: UInt64 = 0x5A3D_7E21_2026_0001

    /// `Tests/SamverkanCoreTests/Oracles/rrule_oracle.py`, next to this file (symlinks resolved,
    /// so a package that links this file in finds it too).
    static var oracleScript: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("Oracles/rrule_oracle.py")
    }

    /// Runs the oracle once over every case; one line of dates per case.
    static func runOracle(_ cases: [Case]) async throws -> [Result<[String], OracleError>] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rrule-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("cases.tsv")
        let output = directory.appendingPathComponent("dateutil.tsv")
        let lines = cases.map { "\($0.rule)\t\($0.start)\t\($0.from)\t\($0.through)\n" }
        try lines.joined().write(to: input, atomically: true, encoding: .utf8)

        let run = try await ProcessRunner.run("/usr/bin/python3", [oracleScript.path, input.path, output.path])
        guard run.status == 0 else {
            throw OracleError(
                message: "\(oracleScript.path) exited with \(run.status): \(run.stderr)"
                    + " (CI installs python3-dateutil; locally: apt-get install python3-dateutil)")
        }
        let results = try String(contentsOf: output, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .dropLast()
        return results.map { line in
            let fields = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2, fields[0] == "OK" else {
                return .failure(OracleError(message: "dateutil: \(fields.last ?? "")"))
            }
            return .success(fields[1].split(separator: ",").map(String.init))
        }
    }

    struct OracleError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    @Test func expansionEqualsDateutil() async throws {
        let cases = Generator.make(count: Self.caseCount, seed: Self.seed)
        let clock = ContinuousClock()
        let oracleStarted = clock.now
        let expected = try await Self.runOracle(cases)
        let oracleTime = clock.now - oracleStarted
        try #require(expected.count == cases.count, "the oracle answered \(expected.count) of \(cases.count) cases")

        var rules: [RecurrenceRule] = []
        for oracleCase in cases {
            rules.append(try RecurrenceRule(parsing: oracleCase.rule))
        }
        let swiftStarted = clock.now
        let actual = zip(rules, cases).map { rule, oracleCase in
            rule.occurrences(start: oracleCase.start, from: oracleCase.from, through: oracleCase.through)
        }
        let swiftTime = clock.now - swiftStarted

        var mismatches = 0
        var nonEmpty = 0
        var occurrences = 0
        for (index, oracleCase) in cases.enumerated() {
            let ours = actual[index].map(\.description)
            switch expected[index] {
            case .failure(let error):
                mismatches += 1
                Issue.record("\(oracleCase.rule) DTSTART \(oracleCase.start): \(error)")
            case .success(let theirs):
                if !theirs.isEmpty { nonEmpty += 1 }
                occurrences += theirs.count
                if ours != theirs {
                    mismatches += 1
                    if mismatches <= 20 {
                        #expect(ours == theirs, "\(Self.describeDifference(oracleCase, ours: ours, theirs: theirs))")
                    }
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(cases.count) rules differ from dateutil")

        let fired = expected.map { (try? $0.get())?.isEmpty == false }
        let table = Self.coverageTable(cases, fired: fired)
        print(table.text)
        print(
            "recurrence oracle: \(cases.count) rules, \(nonEmpty) with occurrences, \(occurrences) dates compared; "
                + "dateutil \(oracleTime), Swift \(swiftTime)")

        // Every frequency with every combination of BY parts, and with each way of ending, often
        // enough that a mistake in one corner shows.
        for frequency in Generator.frequencies {
            for combination in 0..<16 {
                let parts = Generator.byPartNames.enumerated().filter { combination & 1 << $0.offset != 0 }
                    .map(\.element)
                let seen = table.byCombination[frequency + " " + parts.joined(separator: "+"), default: 0]
                #expect(seen >= 25, "only \(seen) rules for FREQ=\(frequency) with [\(parts.joined(separator: ", "))]")
            }
            for limit in Generator.limits {
                let seen = cases.filter { $0.frequency == frequency && $0.limit == limit }.count
                #expect(seen >= 200, "only \(seen) rules for FREQ=\(frequency) with \(limit)")
            }
        }
        for feature in [
            "negative BYMONTHDAY", "negative BYSETPOS", "ordinal within year", "ordinal within month (MONTHLY)",
            "ordinal within month (YEARLY)", "WEEKLY WKST≠MO INTERVAL>1 BYDAY", "DTSTART 29 February",
            "DTSTART month end",
            "window decades after DTSTART",
        ] {
            let seen = table.features[feature, default: 0]
            #expect(seen >= 20, "only \(seen) rules with \(feature)")
        }
        // Most rules must fire in their window, or agreement would prove little.
        #expect(nonEmpty * 2 >= cases.count, "only \(nonEmpty) of \(cases.count) rules fired in their window")
    }

    static func describeDifference(_ oracleCase: Case, ours: [String], theirs: [String]) -> String {
        let common = min(ours.count, theirs.count)
        let index = (0..<common).first { ours[$0] != theirs[$0] } ?? common
        func around(_ dates: [String]) -> String {
            let slice = dates[min(index, dates.count)..<min(index + 3, dates.count)]
            return slice.isEmpty ? "(end)" : slice.joined(separator: ", ")
        }
        return "\(oracleCase.rule) DTSTART \(oracleCase.start) window \(oracleCase.from)…\(oracleCase.through): "
            + "first difference at occurrence \(index + 1): Swift \(around(ours)), dateutil \(around(theirs)) "
            + "(\(ours.count) vs \(theirs.count) dates)"
    }

    /// Counts by FREQ × BY parts (rows) and COUNT/UNTIL/none (columns), printed for the log.
    static func coverageTable(
        _ cases: [Case], fired: [Bool]
    ) -> (text: String, byCombination: [String: Int], features: [String: Int]) {
        var rows: [String: [String: Int]] = [:]
        var byCombination: [String: Int] = [:]
        var features: [String: Int] = [:]
        for (oracleCase, fired) in zip(cases, fired) {
            let row =
                oracleCase.frequency + " "
                + (oracleCase.byParts.isEmpty ? "-" : oracleCase.byParts.joined(separator: "+"))
            rows[row, default: [:]][oracleCase.limit, default: 0] += 1
            if fired { rows[row, default: [:]]["fired", default: 0] += 1 }
            let plain = oracleCase.byParts.map { $0 == "BYDAY(n)" ? "BYDAY" : $0 }
            byCombination[oracleCase.frequency + " " + plain.joined(separator: "+"), default: 0] += 1
            for feature in oracleCase.features { features[feature, default: 0] += 1 }
        }
        func order(_ row: String) -> (Int, Int, String) {
            let frequency = row.split(separator: " ")[0]
            return (
                Generator.frequencies.firstIndex(of: String(frequency)) ?? 9, row.split(separator: "+").count, row
            )
        }
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        func padLeft(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        var lines = [
            "recurrence oracle coverage: rules by FREQ × BY parts × end (BYDAY(n): with ordinals; "
                + "fired: with an occurrence in the window)"
        ]
        lines.append(
            pad("FREQ BY-parts", 44) + ["none", "COUNT", "UNTIL", "total", "fired"].map { padLeft($0, 7) }.joined())
        for row in rows.keys.sorted(by: { order($0) < order($1) }) {
            let counts = Generator.limits.map { rows[row]?[$0] ?? 0 }
            let columns = counts + [counts.reduce(0, +), rows[row]?["fired"] ?? 0]
            lines.append(pad(row, 44) + columns.map { padLeft(String($0), 7) }.joined())
        }
        lines.append("features: " + features.keys.sorted().map { "\($0) \(features[$0] ?? 0)" }.joined(separator: "; "))
        return (lines.joined(separator: "\n"), byCombination, features)
    }

    /// The bounded expansion, the lazy sequence and `firstOccurrence` must agree with each other
    /// on every generated rule (no oracle needed), including the arithmetic skip to late windows.
    @Test func boundedLazyAndFirstAgree() throws {
        let cases = Generator.make(count: 1_500, seed: Self.seed ^ 0xFFFF)
        for oracleCase in cases {
            let rule = try RecurrenceRule(parsing: oracleCase.rule)
            let bounded = rule.occurrences(start: oracleCase.start, from: oracleCase.from, through: oracleCase.through)
            let fromStart = rule.occurrences(
                start: oracleCase.start, from: oracleCase.start, through: oracleCase.through)
            // The lazy sequence is only asked for as many dates as it should have up to `through`, and
            // one more when the rule fires again soon, so a rule that stops matching is not scanned
            // up to the year 9999.
            let next = rule.firstOccurrence(
                start: oracleCase.start, onOrAfter: oracleCase.through.adding(days: 1),
                through: oracleCase.through.adding(days: 3 * 366))
            let lazy = Array(rule.occurrences(start: oracleCase.start).prefix(fromStart.count + (next == nil ? 0 : 1)))
            #expect(lazy == fromStart + (next.map { [$0] } ?? []), "\(oracleCase.rule) DTSTART \(oracleCase.start)")
            #expect(
                bounded == fromStart.filter { $0 >= oracleCase.from }, "\(oracleCase.rule) DTSTART \(oracleCase.start)")
            #expect(
                rule.firstOccurrence(start: oracleCase.start, onOrAfter: oracleCase.from, through: oracleCase.through)
                    == bounded.first, "\(oracleCase.rule) DTSTART \(oracleCase.start)")
            #expect(try RecurrenceRule(parsing: rule.description) == rule, "\(oracleCase.rule)")
        }
    }
}

extension RecurrenceRuleOracleTests {
    /// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator whose sequence is fixed on every
    /// platform and Swift version, unlike `Int.random(in:using:)`'s mapping onto ranges.
    struct SplitMix64 {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
        }

        /// True with probability `percent` / 100.
        mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

        mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

        /// `count` distinct items, in random order.
        mutating func distinct<T>(_ count: Int, of items: [T]) -> [T] {
            var items = items
            for i in 0..<min(count, items.count) {
                items.swapAt(i, int(i...(items.count - 1)))
            }
            return Array(items.prefix(count))
        }

        /// Fisher–Yates, on this generator alone (the standard library's shuffle may change).
        mutating func shuffle<T>(_ items: inout [T]) {
            items = distinct(items.count, of: items)
        }
    }

    /// One generated rule, with what it exercises.
    struct Case {
        let rule: String
        let start: LocalDate
        let from: LocalDate
        let through: LocalDate
        let frequency: String
        /// The BY parts present, in canonical order; BYDAY with ordinals is `BYDAY(n)`.
        let byParts: [String]
        let limit: String
        let features: Set<String>
    }

    enum Generator {
        static let frequencies = ["YEARLY", "MONTHLY", "WEEKLY", "DAILY"]
        static let byPartNames = ["BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS"]
        static let weekdays = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        static let limits = ["none", "COUNT", "UNTIL"]

        static func make(count: Int, seed: UInt64) -> [Case] {
            var random = SplitMix64(state: seed)
            return (0..<count).map { _ in make(&random) }
        }

        static func date(_ random: inout SplitMix64, years: ClosedRange<Int>) -> LocalDate {
            if random.chance(2) {
                let leapYears = years.filter { LocalDate.isLeap($0) }
                return LocalDate(year: random.pick(leapYears), month: 2, day: 29) ?? LocalDate(dayNumber: 0)
            }
            let year = random.int(years)
            let month = random.int(1...12)
            let length = LocalDate.daysIn(month: month, year: year)
            // Month ends (and so 29 February) are where implementations differ; favour them.
            let day = random.chance(30) ? random.int((length - 2)...length) : random.int(1...length)
            return LocalDate(year: year, month: month, day: day) ?? LocalDate(dayNumber: 0)
        }

        static func make(_ random: inout SplitMix64) -> Case {
            let frequency = random.pick(frequencies)
            let chosen = random.int(0...15)
            let present = byPartNames.enumerated().filter { chosen & 1 << $0.offset != 0 }.map(\.element)
            let limit = random.pick(limits)
            let start = date(&random, years: 1990...2100)
            var parts: [String] = []
            var features: Set<String> = []
            var byParts: [String] = []

            let interval =
                random.chance(50)
                ? 1 : random.chance(70) ? random.int(2...4) : random.int(5...(frequency == "DAILY" ? 40 : 13))
            if interval != 1 || random.chance(10) { parts.append("INTERVAL=\(interval)") }

            var untilLead: Int?
            switch limit {
            case "COUNT":
                let count =
                    random.chance(60)
                    ? random.int(1...12) : random.chance(75) ? random.int(13...60) : random.int(61...400)
                parts.append("COUNT=\(count)")
            case "UNTIL":
                untilLead = random.int(-20...(6 * 365))
                let until = start.adding(days: untilLead ?? 0)
                let digits = until.description.replacingOccurrences(of: "-", with: "")
                parts.append(
                    "UNTIL=" + random.pick([digits, digits + "T000000", digits + "T235959Z", digits + "T093000Z"]))
            default:
                break
            }

            var hasByMonth = false
            if present.contains("BYMONTH") {
                var months = random.distinct(random.int(1...4), of: Array(1...12))
                if random.chance(50) && !months.contains(start.month) { months[0] = start.month }
                parts.append("BYMONTH=" + months.map(String.init).joined(separator: ","))
                byParts.append("BYMONTH")
                hasByMonth = true
            }
            if present.contains("BYMONTHDAY") {
                let monthEnds = [28, 29, 30, 31, -1, -2, -3, -28, -29, -30, -31]
                let pool = random.chance(40) ? monthEnds : Array(-31...(-1)) + Array(1...31)
                var days = random.distinct(random.int(1...4), of: pool)
                if present.contains("BYDAY") && random.chance(60) {
                    // A week of days, as in "the Tuesday after the first Monday": weekdays meet it.
                    let first = random.chance(30) ? random.int(-31...(-7)) : random.int(1...25)
                    days = Array(first...(first + 6))
                }
                if days.contains(where: { $0 < 0 }) { features.insert("negative BYMONTHDAY") }
                parts.append("BYMONTHDAY=" + days.map(String.init).joined(separator: ","))
                byParts.append("BYMONTHDAY")
            }
            if present.contains("BYDAY") {
                let ordinalsAllowed = frequency == "YEARLY" || frequency == "MONTHLY"
                if ordinalsAllowed && random.chance(50) {
                    let withinYear = frequency == "YEARLY" && !hasByMonth
                    let limit = withinYear ? 53 : 5
                    var entries: [String] = []
                    var seen: Set<String> = []
                    for _ in 0..<random.int(1...3) {
                        let magnitude = random.chance(60) ? random.int(1...min(4, limit)) : random.int(1...limit)
                        let ordinal = random.chance(35) ? -magnitude : magnitude
                        let weekday = random.pick(weekdays)
                        guard seen.insert("\(ordinal)\(weekday)").inserted else { continue }
                        entries.append((ordinal > 0 && random.chance(20) ? "+" : "") + "\(ordinal)\(weekday)")
                    }
                    parts.append("BYDAY=" + entries.joined(separator: ","))
                    byParts.append("BYDAY(n)")
                    features.insert(withinYear ? "ordinal within year" : "ordinal within month (\(frequency))")
                } else {
                    parts.append("BYDAY=" + random.distinct(random.int(1...5), of: weekdays).joined(separator: ","))
                    byParts.append("BYDAY")
                }
            }
            if present.contains("BYSETPOS") {
                let wide =
                    switch frequency {
                    case "YEARLY": 366
                    case "MONTHLY": 31
                    case "WEEKLY": 7
                    default: 2
                    }
                let positions = (0..<random.int(1...3)).map { _ in
                    let magnitude =
                        random.chance(50) ? 1 : random.chance(50) ? random.int(1...min(4, wide)) : random.int(1...wide)
                    return random.chance(45) ? -magnitude : magnitude
                }
                let unique = positions.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
                if unique.contains(where: { $0 < 0 }) { features.insert("negative BYSETPOS") }
                parts.append("BYSETPOS=" + unique.map(String.init).joined(separator: ","))
                byParts.append("BYSETPOS")
            }
            if frequency == "WEEKLY" ? random.chance(60) : random.chance(10) {
                let weekStart = random.pick(weekdays)
                parts.append("WKST=" + weekStart)
                if frequency == "WEEKLY" && interval > 1 && weekStart != "MO" && present.contains("BYDAY") {
                    features.insert("WEEKLY WKST≠MO INTERVAL>1 BYDAY")
                }
            }
            if start.month == 2 && start.day == 29 { features.insert("DTSTART 29 February") }
            if start.day == LocalDate.daysIn(month: start.month, year: start.year) {
                features.insert("DTSTART month end")
            }

            // FREQ first, mostly; RFC 5545 allows any order.
            random.shuffle(&parts)
            let freqAt = random.chance(70) ? 0 : random.int(0...parts.count)
            parts.insert("FREQ=\(frequency)", at: freqAt)
            let text = (random.chance(5) ? "RRULE:" : "") + parts.joined(separator: ";")

            // Windows: around DTSTART, a few years on, or decades on; with COUNT mostly near DTSTART
            // and with UNTIL mostly before it, where there is something to see.
            let lead: Int
            switch random.int(0...9) {
            case 0...3: lead = random.int(-40...60)
            case 4...7 where limit == "COUNT" && random.chance(70): lead = random.int(-40...60)
            case 4...7 where limit == "UNTIL" && random.chance(70): lead = random.int(-40...max(-40, untilLead ?? 0))
            case 4...7: lead = random.int(0...(4 * 365))
            default:
                lead = frequency == "DAILY" ? random.int((2 * 365)...(6 * 365)) : random.int((5 * 365)...(30 * 365))
            }
            let from = start.adding(days: lead)
            let through = from.adding(days: random.chance(10) ? random.int(0...40) : random.int(41...(2 * 365)))
            if lead > 5 * 365 { features.insert("window decades after DTSTART") }
            return Case(
                rule: text, start: start, from: from, through: through, frequency: frequency, byParts: byParts,
                limit: limit,
                features: features)
        }
    }
}
