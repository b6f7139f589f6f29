import Testing

@testable import SamverkanCore

/// The config's dates, times, lead times and rules are read as bytes when they are ASCII. These
/// tests hold each to the reading by `Character` it replaced, over hand-picked texts and many
/// generated ones (a fixed seed, so every run checks the same texts).
@Suite("parsing ASCII as bytes")
struct ASCIIParsingTests {
    /// Texts that probe every rule of the parsers: signs, lengths, separators, non-ASCII digits,
    /// combining marks and "\r\n" (one `Character`, two bytes).
    static let handPicked = [
        "", "-", ":", "2026", "+123", "-123", "2026-01", "2026-1", "2026-13", "2026-+1", "2026-01-01", "2026-02-29",
        "2024-02-29", "2026-01-01 ", " 2026-01-01", "２０２６-01-01", "2026-01-01\u{301}", "2026-\u{301}01-01",
        "2026-01-0\r\n", "09:00", "9:00", "+9:00", "09:00:00", "09:00:0", "23:59:59", "24:00", "09:60", "\r\n:00",
        "1\r\n:00", "0x:00", "5d", "5wd", "wd", "d", "0d", "+5d", "-5d", "12h", "5w", "5dd", "5 d", "５d",
        "99999999999999999999d",
    ]

    static func generated(count: Int) -> [String] {
        let alphabet = ["0", "1", "2", "5", "9", "-", ":", "+", "d", "w", "h", " ", "é", "\u{301}", "\r\n", "T", "Z"]
        var state: UInt64 = 0x2026_0520_0000_0005
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        return (0..<count).map { _ in
            (0..<next(12)).map { _ in alphabet[next(alphabet.count)] }.joined()
        }
    }

    @Test("LocalDate, LocalTime, LeadTime and FuzzyDate read as they did by Character")
    func sameAsCharacters() {
        for text in Self.handPicked + Self.generated(count: 20_000) {
            #expect(LocalDate(iso: text) == Old.localDate(text), "\(text.debugDescription)")
            #expect(LocalDate(iso: Substring(text)) == Old.localDate(text), "\(text.debugDescription)")
            #expect(LocalTime(text: text) == Old.localTime(text), "\(text.debugDescription)")
            #expect(LeadTime(text: text) == Old.leadTime(text), "\(text.debugDescription)")
            for anchor in [FuzzyDate.Anchor.start, .end] {
                #expect(
                    FuzzyDate(parsing: text, anchor: anchor) == Old.fuzzyDate(text, anchor), "\(text.debugDescription)")
            }
        }
    }

    @Test("recurrence rules read as bytes give the rule or the error that Characters give")
    func rulesSameAsCharacters() {
        let parts = [
            "FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY", "FREQ=HOURLY", "freq=monthly", "INTERVAL=2",
            "INTERVAL=0", "COUNT=3", "COUNT=+3", "UNTIL=20261231", "UNTIL=20261231T000000Z", "UNTIL=2026123",
            "BYMONTH=1,2", "BYMONTH=13", "BYMONTHDAY=-1,15", "BYMONTHDAY=1,1", "BYDAY=MO,FR", "BYDAY=+2TU,-1FR",
            "BYDAY=1MO", "BYDAY=MO,1TU", "BYSETPOS=-1", "WKST=SU", "BYWEEKNO=1", "X=1", "=1", "COUNT", "", " ",
            "\r\n", "RRULE:",
        ]
        var texts = ["RRULE:FREQ=DAILY", "rrule:freq=daily", "RRULE:\r\n", "RR\r\nULE:FREQ=DAILY", "FREQ=DAILY;"]
        var state: UInt64 = 5
        for _ in 0..<5_000 {
            var chosen: [String] = []
            for _ in 0..<(1 + Int(state % 4)) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                chosen.append(parts[Int((state >> 33) % UInt64(parts.count))])
            }
            texts.append(chosen.joined(separator: ";"))
        }
        for text in texts {
            let bytes = Result { () throws(RecurrenceRule.ParseError) in try RecurrenceRule(parsing: text) }
            let characters = Result { () throws(RecurrenceRule.ParseError) in
                try RecurrenceRule.parseReadingCharacters(text)
            }
            #expect(bytes == characters, "\(text.debugDescription)")
        }
    }
}

/// The parsers as they were, reading `Character`s.
private enum Old {
    static func localDate(_ text: some StringProtocol) -> LocalDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        return LocalDate(year: y, month: m, day: d)
    }

    static func localTime(_ text: some StringProtocol) -> LocalTime? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
            let h = Int(parts[0]), let m = Int(parts[1])
        else { return nil }
        let s = parts.count == 3 ? Int(parts[2]) : 0
        guard let s else { return nil }
        return LocalTime(hour: h, minute: m, second: s)
    }

    static func leadTime(_ text: some StringProtocol) -> LeadTime? {
        let units: [(String, (Int) -> LeadTime)] = [
            ("wd", LeadTime.workingDays), ("d", LeadTime.days), ("h", LeadTime.hours),
        ]
        for (suffix, make) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(number), n > 0 else {
                return nil
            }
            return make(n)
        }
        return nil
    }

    static func fuzzyDate(_ text: String, _ anchor: FuzzyDate.Anchor) -> FuzzyDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, first.count == 4, let year = Int(first) else { return nil }
        switch parts.count {
        case 1:
            let date =
                anchor == .start ? LocalDate(year: year, month: 1, day: 1) : LocalDate(year: year, month: 12, day: 31)
            return date.map { FuzzyDate(precision: .year, date: $0, text: text) }
        case 2:
            guard parts[1].count == 2, let month = Int(parts[1]), (1...12).contains(month) else { return nil }
            let day = anchor == .start ? 1 : LocalDate.daysIn(month: month, year: year)
            return LocalDate(year: year, month: month, day: day).map {
                FuzzyDate(precision: .month, date: $0, text: text)
            }
        case 3:
            return localDate(text).map { FuzzyDate(precision: .day, date: $0, text: text) }
        default:
            return nil
        }
    }
}
