/// A recurrence rule: the subset of RFC 5545 (section 3.3.10) that agreements are written in,
/// on dates only.
///
/// Parts: `FREQ` (`YEARLY`, `MONTHLY`, `WEEKLY`, `DAILY`), `INTERVAL`, `COUNT`, `UNTIL`,
/// `BYMONTH`, `BYMONTHDAY` (negative counts from the month's end), `BYDAY` (ordinals such as
/// `1MO` or `-1FR` under `MONTHLY` and `YEARLY`), `BYSETPOS` and `WKST`. The time of day is
/// not part of a rule; the planner applies it to the dates a rule yields.
///
/// Expansion equals python-dateutil's `rrule` for the same naive DTSTART, which the tests use as
/// their oracle (`design.md`, "Recurrence"; `platform.md` 6.3). Foundation's
/// `Calendar.RecurrenceRule` is not used: it gets ordinal weekdays and `BYSETPOS` wrong
/// (`platform.md` 6.4).
///
/// Where RFC 5545 and dateutil part ways, the rule text that would expose it is rejected when
/// parsed, so every rule accepted here means the same under both: ordinals under `WEEKLY` or
/// `DAILY` (dateutil drops the ordinal), plain and ordinal weekdays in one `BYDAY` (dateutil
/// keeps only days matching both), and ordinals no month or year can reach.
///
/// A parsed rule is canonical: lists are sorted (duplicates are rejected), and `description`
/// renders the text back (`INTERVAL=1` and `WKST=MO`, the defaults, are left out), so two
/// spellings of the same parts compare equal.
public struct RecurrenceRule: Sendable, Hashable {
    public enum Frequency: String, Sendable, Hashable, CaseIterable {
        case yearly = "YEARLY"
        case monthly = "MONTHLY"
        case weekly = "WEEKLY"
        case daily = "DAILY"
    }

    /// A day of the week, numbered as `LocalDate.weekday` numbers it (ISO: Monday is 1).
    public enum Weekday: Int, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
        case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

        /// The RFC 5545 two-letter code, `MO` … `SU`.
        public var description: String { Self.codes[rawValue - 1] }

        static let codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

        init?(code: some StringProtocol) {
            guard let index = Self.codes.firstIndex(where: { $0 == code.uppercased() }) else { return nil }
            self.init(rawValue: index + 1)
        }

        public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// One entry of `BYDAY`: a weekday, and for `MONTHLY`/`YEARLY` optionally which one of the
    /// month or year (`2` the second, `-1` the last). RFC 5545 calls it `weekdaynum`.
    public struct WeekdayNum: Sendable, Hashable, Comparable, CustomStringConvertible {
        public let weekday: Weekday
        /// `nil` for every such weekday; otherwise 1…53 or -53…-1.
        public let ordinal: Int?

        public init(_ weekday: Weekday, ordinal: Int? = nil) {
            self.weekday = weekday
            self.ordinal = ordinal
        }

        /// `MO`, `2TU`, `-1FR`.
        public var description: String { ordinal.map { "\($0)\(weekday)" } ?? weekday.description }

        public static func < (lhs: WeekdayNum, rhs: WeekdayNum) -> Bool {
            (lhs.weekday.rawValue, lhs.ordinal ?? 0) < (rhs.weekday.rawValue, rhs.ordinal ?? 0)
        }
    }

    public let frequency: Frequency
    /// How many periods (years, months, weeks, days) lie between two used ones; at least 1.
    public let interval: Int
    /// How many occurrences there are, counted from DTSTART; never set together with `until`.
    public let count: Int?
    /// The last date an occurrence may fall on (inclusive).
    public let until: LocalDate?
    /// Sorted, 1…12.
    public let byMonth: [Int]
    /// Sorted, 1…31 or -31…-1 (from the month's end).
    public let byMonthDay: [Int]
    /// Sorted by weekday, then ordinal; either all without ordinals or all with one.
    public let byDay: [WeekdayNum]
    /// Sorted, 1…366 or -366…-1.
    public let bySetPos: [Int]
    /// The first day of a week; decides which days share a week under `WEEKLY` with
    /// `INTERVAL` > 1.
    public let weekStart: Weekday

    // The BY parts as bit sets, for expansion (see RecurrenceRule+Expansion.swift).
    /// Bit m for month m.
    let monthBits: UInt16
    /// Bit d for day d of the month.
    let monthDayBits: UInt32
    /// Bit k for day -k of the month (bit 1 is the last day).
    let negativeMonthDayBits: UInt32
    /// Bit w for ISO weekday w, from `byDay` entries without an ordinal.
    let weekdayBits: UInt8
}

// MARK: - Parsing

extension RecurrenceRule {
    /// What went wrong while parsing a rule, and where: `offset` is the character (0-based,
    /// counted in `Character`s of the text given) at which the problem starts, so a caller that
    /// knows where the rule sits in its file can point at the column.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The kind of problem, for callers that match on it; new kinds may be added.
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            private enum Base: String, Hashable, Sendable {
                case malformed, unknownPart, unsupportedPart, duplicatePart, missingFrequency, invalidValue
                case conflictingParts
            }

            private let base: Base
            private init(_ base: Base) { self.base = base }

            /// Not `NAME=VALUE;NAME=VALUE…`: an empty part or value, a part without `=`, whitespace.
            public static let malformed = Code(.malformed)
            /// A part RFC 5545 does not define, or one outside the subset (`BYHOUR`).
            public static let unknownPart = Code(.unknownPart)
            /// `BYYEARDAY` and `BYWEEKNO`: RFC 5545 parts this subset leaves out on purpose.
            public static let unsupportedPart = Code(.unsupportedPart)
            /// The same part twice.
            public static let duplicatePart = Code(.duplicatePart)
            /// No `FREQ`.
            public static let missingFrequency = Code(.missingFrequency)
            /// A value that is not a number, weekday or date, is out of range, or is listed twice.
            public static let invalidValue = Code(.invalidValue)
            /// Parts that cannot go together (`COUNT` with `UNTIL`, an ordinal with `WEEKLY`).
            public static let conflictingParts = Code(.conflictingParts)

            public var description: String { base.rawValue }
        }

        /// A part of the rule: its name as written, upper-cased, and the offset of its first
        /// character.
        public struct Part: Hashable, Sendable {
            public let name: String
            public let offset: Int
        }

        public let code: Code
        /// What was wrong and what is allowed, naming the part: `COUNT: 0 is out of range (1 to
        /// 1000000)`. It does not repeat the offset.
        public let message: String
        /// The part the problem is in, or `nil` when it concerns the rule as a whole (no `FREQ`).
        public let offendingPart: Part?
        /// Where the problem starts: the offending value inside the part, the part itself, or 0.
        public let offset: Int

        public var description: String { "offset \(offset): \(message)" }
    }

    /// The parts this subset understands, in canonical order.
    static let supportedParts = [
        "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "WKST",
    ]

    static let maximumInterval = 100_000
    static let maximumCount = 1_000_000

    /// Parses `FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1` (an `RRULE:` prefix is allowed). Names and
    /// weekday codes are case-insensitive, as RFC 5545 has them.
    public init(parsing text: String) throws(ParseError) {
        // ASCII text, the usual case, is read as bytes, many times faster than as `Character`s.
        // There every byte is one character, so every offset is the same; the one exception,
        // "\r\n" (one `Character`), is whitespace and refused where it starts either way.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            self = try Parser(text: Array(text.utf8)).parse()
        } else {
            self = try Parser(text: Array(text)).parse()
        }
    }

    /// Parses as `Character`s whatever the text: the reading every text had before bytes, kept so
    /// that tests can hold the byte reading of ASCII to it.
    static func parseReadingCharacters(_ text: String) throws(ParseError) -> RecurrenceRule {
        try Parser(text: Array(text)).parse()
    }

    /// A rule from its parts, which the parser has checked.
    private init(
        frequency: Frequency, interval: Int, count: Int?, until: LocalDate?, byMonth: [Int], byMonthDay: [Int],
        byDay: [WeekdayNum], bySetPos: [Int], weekStart: Weekday
    ) {
        self.frequency = frequency
        self.interval = interval
        self.count = count
        self.until = until
        self.byMonth = byMonth
        self.byMonthDay = byMonthDay
        self.byDay = byDay
        self.bySetPos = bySetPos
        self.weekStart = weekStart
        self.monthBits = byMonth.reduce(0) { $0 | 1 << UInt16($1) }
        self.monthDayBits = byMonthDay.filter { $0 > 0 }.reduce(0) { $0 | 1 << UInt32($1) }
        self.negativeMonthDayBits = byMonthDay.filter { $0 < 0 }.reduce(0) { $0 | 1 << UInt32(-$1) }
        self.weekdayBits = byDay.filter { $0.ordinal == nil }.reduce(0) { $0 | 1 << UInt8($1.weekday.rawValue) }
    }

    private struct Parser<Unit: RuleTextUnit> {
        let text: [Unit]

        /// A `NAME=VALUE` part as found in the text, upper-cased.
        struct RawPart {
            let name: String
            let offset: Int
            let value: [Unit]
            let valueOffset: Int
            var location: ParseError.Part { ParseError.Part(name: name, offset: offset) }
        }

        /// One comma-separated item of a value.
        struct Item {
            let text: String
            let offset: Int
        }

        func fail(_ code: ParseError.Code, _ message: String, part: RawPart?, at offset: Int? = nil) -> ParseError {
            ParseError(code: code, message: message, offendingPart: part?.location, offset: offset ?? part?.offset ?? 0)
        }

        func parse() throws(ParseError) -> RecurrenceRule {
            var position = 0
            let prefix = ["R", "R", "U", "L", "E", ":"]
            if text.count >= prefix.count, zip(text, prefix).allSatisfy({ $0.uppercased() == $1 }) {
                position = prefix.count
            }
            if let blank = text.firstIndex(where: \.isWhitespace) {
                throw ParseError(
                    code: .malformed, message: "whitespace is not allowed in a rule", offendingPart: nil, offset: blank)
            }
            guard position < text.count else {
                throw ParseError(
                    code: .malformed, message: "the rule is empty (it needs at least FREQ, e.g. FREQ=MONTHLY)",
                    offendingPart: nil, offset: 0)
            }

            var parts: [RawPart] = []
            while position <= text.count {
                let end = text[position...].firstIndex(of: Unit(ascii: ";")) ?? text.count
                let part = try split(position..<end)
                if let earlier = parts.first(where: { $0.name == part.name }) {
                    throw fail(
                        .duplicatePart, "\(part.name): given twice (first at offset \(earlier.offset))", part: part)
                }
                parts.append(part)
                position = end + 1
            }
            return try build(parts)
        }

        func split(_ range: Range<Int>) throws(ParseError) -> RawPart {
            guard !range.isEmpty else {
                throw ParseError(
                    code: .malformed, message: "empty part (a ';' at the start or end, or two in a row)",
                    offendingPart: nil, offset: range.lowerBound)
            }
            let chunk = text[range]
            guard let equals = chunk.firstIndex(of: Unit(ascii: "=")) else {
                let name = Unit.string(chunk).uppercased()
                let part = RawPart(name: name, offset: range.lowerBound, value: [], valueOffset: range.upperBound)
                throw fail(
                    .malformed, "'\(Unit.string(chunk))' has no value (parts are written NAME=VALUE)", part: part)
            }
            let name = Unit.string(text[range.lowerBound..<equals]).uppercased()
            let part = RawPart(
                name: name, offset: range.lowerBound, value: Array(text[(equals + 1)..<range.upperBound]),
                valueOffset: equals + 1)
            guard !name.isEmpty else {
                throw fail(.malformed, "'=' without a part name before it", part: part)
            }
            guard RecurrenceRule.supportedParts.contains(name) else {
                let supported = RecurrenceRule.supportedParts.joined(separator: ", ")
                if name == "BYYEARDAY" || name == "BYWEEKNO" {
                    throw fail(
                        .unsupportedPart, "\(name) is not supported here (supported: \(supported))", part: part)
                }
                throw fail(.unknownPart, "unknown part '\(name)' (supported: \(supported))", part: part)
            }
            guard !part.value.isEmpty else {
                throw fail(.malformed, "\(name): the value is empty", part: part)
            }
            return part
        }

        /// The comma-separated items of a part's value; none may be empty or repeated
        /// (`same` says which spellings are the same value, `+2TU` and `2TU` for instance).
        func items<Key: Hashable>(of part: RawPart, key same: (Item) throws(ParseError) -> Key) throws(ParseError)
            -> [(Item, Key)]
        {
            var result: [(Item, Key)] = []
            var start = 0
            while start <= part.value.count {
                let end = part.value[start...].firstIndex(of: Unit(ascii: ",")) ?? part.value.count
                let item = Item(text: Unit.string(part.value[start..<end]), offset: part.valueOffset + start)
                guard !item.text.isEmpty else {
                    throw fail(
                        .malformed, "\(part.name): empty item (a ',' at the start or end, or two in a row)",
                        part: part, at: item.offset)
                }
                let key = try same(item)
                // A value has a handful of items: a scan is cheaper than a dictionary per part.
                if let first = result.first(where: { $0.1 == key })?.0 {
                    throw fail(
                        .invalidValue, "\(part.name): '\(item.text)' repeats '\(first.text)'", part: part,
                        at: item.offset)
                }
                result.append((item, key))
                start = end + 1
            }
            return result
        }

        /// An integer with an optional sign (when `signed`), at most seven digits.
        func integer(_ text: Substring, signed: Bool) -> Int? {
            var digits = text
            var negative = false
            if signed, let first = digits.first, first == "+" || first == "-" {
                negative = first == "-"
                digits = digits.dropFirst()
            }
            guard (1...7).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let magnitude = Int(digits)
            else { return nil }
            return negative ? -magnitude : magnitude
        }

        func number(
            _ item: Item, in part: RawPart, signed: Bool, valid: (Int) -> Bool, range: String
        ) throws(ParseError) -> Int {
            guard let value = integer(Substring(item.text), signed: signed) else {
                throw fail(
                    .invalidValue, "\(part.name): '\(item.text)' is not a whole number (\(range))", part: part,
                    at: item.offset)
            }
            guard valid(value) else {
                throw fail(
                    .invalidValue, "\(part.name): \(value) is out of range (\(range))", part: part, at: item.offset)
            }
            return value
        }

        func single(_ part: RawPart) -> Item { Item(text: Unit.string(part.value[...]), offset: part.valueOffset) }

        func weekday(_ item: Item, in part: RawPart) throws(ParseError) -> Weekday {
            guard let day = Weekday(code: item.text) else {
                throw fail(
                    .invalidValue, "\(part.name): '\(item.text)' is not a weekday (MO, TU, WE, TH, FR, SA, SU)",
                    part: part, at: item.offset)
            }
            return day
        }

        func weekdayNum(_ item: Item, in part: RawPart) throws(ParseError) -> WeekdayNum {
            let text = Substring(item.text)
            let split = text.firstIndex(where: { !($0 == "+" || $0 == "-" || ($0.isASCII && $0.isNumber)) })
            let prefix = text[..<(split ?? text.endIndex)]
            let code = text[(split ?? text.endIndex)...]
            guard let day = Weekday(code: code), prefix.isEmpty || integer(prefix, signed: true) != nil else {
                throw fail(
                    .invalidValue,
                    "\(part.name): '\(item.text)' is not a weekday (MO, TU, WE, TH, FR, SA, SU, optionally with "
                        + "an ordinal like 1MO or -1FR)",
                    part: part, at: item.offset)
            }
            guard let ordinal = integer(prefix, signed: true) else { return WeekdayNum(day) }
            guard ordinal != 0 else {
                throw fail(
                    .invalidValue,
                    "\(part.name): '\(item.text)': the ordinal cannot be 0 (1 is the first, -1 the last)",
                    part: part, at: item.offset)
            }
            return WeekdayNum(day, ordinal: ordinal)
        }

        func date(_ part: RawPart) throws(ParseError) -> LocalDate {
            let value = part.value
            let digits = { (range: Range<Int>) -> Int? in
                guard range.upperBound <= value.count, value[range].allSatisfy(\.isASCIIDigit) else {
                    return nil
                }
                return Int(Unit.string(value[range]))
            }
            let shape = "write YYYYMMDD, or YYYYMMDDTHHMMSS with an optional Z; only the date is used"
            let hasTime = value.count > 8
            let timeIsValid =
                !hasTime
                || ((value.count == 15 || (value.count == 16 && value[15].uppercased() == "Z"))
                    && value[8].uppercased() == "T" && digits(9..<11).map { $0 < 24 } == true
                    && digits(11..<13).map { $0 < 60 } == true && digits(13..<15).map { $0 < 60 } == true)
            guard value.count >= 8, timeIsValid, let year = digits(0..<4), let month = digits(4..<6),
                let day = digits(6..<8)
            else {
                throw fail(
                    .invalidValue, "\(part.name): '\(Unit.string(value[...]))' is not a date (\(shape))", part: part,
                    at: part.valueOffset)
            }
            guard let date = LocalDate(year: year, month: month, day: day) else {
                throw fail(
                    .invalidValue, "\(part.name): '\(Unit.string(value[...]))' is not a day in the calendar",
                    part: part,
                    at: part.valueOffset)
            }
            return date
        }

        /// Reads each part's value, left to right so the first problem in the text is the one
        /// reported, then checks how the parts go together.
        func build(_ parts: [RawPart]) throws(ParseError) -> RecurrenceRule {
            var frequency: Frequency?
            var interval = 1
            var count: Int?
            var until: LocalDate?
            var byMonth: [Int] = []
            var byMonthDay: [Int] = []
            var byDay: [(Item, WeekdayNum)] = []
            var bySetPos: [Int] = []
            var weekStart = Weekday.monday
            for part in parts {
                switch part.name {
                case "FREQ":
                    let text = Unit.string(part.value[...]).uppercased()
                    guard let value = Frequency(rawValue: text) else {
                        let kind =
                            ["HOURLY", "MINUTELY", "SECONDLY"].contains(text)
                            ? "is not supported" : "is not a frequency"
                        throw fail(
                            .invalidValue,
                            "FREQ: '\(Unit.string(part.value[...]))' \(kind) (use YEARLY, MONTHLY, WEEKLY or DAILY)",
                            part: part, at: part.valueOffset)
                    }
                    frequency = value
                case "INTERVAL":
                    interval = try number(
                        single(part), in: part, signed: false,
                        valid: { (1...RecurrenceRule.maximumInterval).contains($0) },
                        range: "1 to \(RecurrenceRule.maximumInterval)")
                case "COUNT":
                    count = try number(
                        single(part), in: part, signed: false,
                        valid: { (1...RecurrenceRule.maximumCount).contains($0) },
                        range: "1 to \(RecurrenceRule.maximumCount)")
                case "UNTIL":
                    until = try date(part)
                case "BYMONTH":
                    byMonth = try items(of: part) { (item) throws(ParseError) in
                        try number(item, in: part, signed: false, valid: { (1...12).contains($0) }, range: "1 to 12")
                    }.map(\.1)
                case "BYMONTHDAY":
                    byMonthDay = try items(of: part) { (item) throws(ParseError) in
                        try number(
                            item, in: part, signed: true, valid: { $0 != 0 && (-31...31).contains($0) },
                            range: "1 to 31, or -31 to -1 counting from the month's end")
                    }.map(\.1)
                case "BYDAY":
                    byDay = try items(of: part) { (item) throws(ParseError) in try weekdayNum(item, in: part) }
                case "BYSETPOS":
                    bySetPos = try items(of: part) { (item) throws(ParseError) in
                        try number(
                            item, in: part, signed: true, valid: { $0 != 0 && (-366...366).contains($0) },
                            range: "1 to 366, or -366 to -1 counting from the end")
                    }.map(\.1)
                default:  // "WKST"; split(_:) lets no other name through
                    weekStart = try weekday(single(part), in: part)
                }
            }

            guard let frequency else {
                throw ParseError(
                    code: .missingFrequency, message: "FREQ is missing (one of YEARLY, MONTHLY, WEEKLY, DAILY)",
                    offendingPart: nil, offset: 0)
            }
            let countPart = parts.first { $0.name == "COUNT" }
            if let countPart, let untilPart = parts.first(where: { $0.name == "UNTIL" }) {
                throw fail(
                    .conflictingParts, "COUNT and UNTIL cannot both be given",
                    part: countPart.offset > untilPart.offset ? countPart : untilPart)
            }
            if let part = parts.first(where: { $0.name == "BYDAY" }) {
                try check(byDay: byDay, in: part, frequency: frequency, hasByMonth: !byMonth.isEmpty)
            }
            return RecurrenceRule(
                frequency: frequency, interval: interval, count: count, until: until, byMonth: byMonth.sorted(),
                byMonthDay: byMonthDay.sorted(), byDay: byDay.map(\.1).sorted(), bySetPos: bySetPos.sorted(),
                weekStart: weekStart)
        }

        /// The BYDAY rules that depend on other parts, where RFC 5545 and dateutil would
        /// otherwise disagree (see the type's documentation).
        func check(
            byDay entries: [(Item, WeekdayNum)], in part: RawPart, frequency: Frequency, hasByMonth: Bool
        ) throws(ParseError) {
            let plain = entries.first { $0.1.ordinal == nil }
            guard let numbered = entries.first(where: { $0.1.ordinal != nil }) else { return }
            if frequency == .weekly || frequency == .daily {
                throw fail(
                    .conflictingParts,
                    "BYDAY: '\(numbered.0.text)' has an ordinal, which only FREQ=MONTHLY and FREQ=YEARLY allow; "
                        + "write '\(numbered.1.weekday)'",
                    part: part, at: numbered.0.offset)
            }
            if let plain {
                let (first, second) = plain.0.offset < numbered.0.offset ? (plain.0, numbered.0) : (numbered.0, plain.0)
                throw fail(
                    .conflictingParts,
                    "BYDAY: '\(first.text)' and '\(second.text)' mix weekdays with and without an ordinal, "
                        + "which implementations read differently; use one kind per rule",
                    part: part, at: second.offset)
            }
            let withinMonth = frequency == .monthly || hasByMonth
            let limit = withinMonth ? 5 : 53
            for (item, day) in entries {
                guard let ordinal = day.ordinal, abs(ordinal) > limit else { continue }
                let scope = withinMonth ? "a month" : "a year"
                throw fail(
                    .invalidValue,
                    "BYDAY: '\(item.text)': \(scope) has at most \(limit) of each weekday (use 1 to \(limit) "
                        + "or -\(limit) to -1)",
                    part: part, at: item.offset)
            }
        }
    }
}

/// What the rule parser reads: `Character`s in general, or bytes when the text is ASCII.
private protocol RuleTextUnit: Equatable {
    init(ascii: Unicode.Scalar)
    var isWhitespace: Bool { get }
    /// `0`…`9`.
    var isASCIIDigit: Bool { get }
    func uppercased() -> String
    static func string(_ units: ArraySlice<Self>) -> String
}

extension Character: RuleTextUnit {
    fileprivate init(ascii: Unicode.Scalar) { self.init(ascii) }
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate static func string(_ units: ArraySlice<Character>) -> String { String(units) }
}

/// An ASCII byte, read as the `Character` it is.
extension UInt8: RuleTextUnit {
    /// Unicode's White_Space among ASCII: tab, line feed, vertical tab, form feed, return, space.
    fileprivate var isWhitespace: Bool { self == 0x20 || (0x09...0x0D).contains(self) }
    fileprivate var isASCIIDigit: Bool { (0x30...0x39).contains(self) }
    fileprivate func uppercased() -> String {
        String(Unicode.Scalar((0x61...0x7A).contains(self) ? self - 0x20 : self))
    }
    fileprivate static func string(_ units: ArraySlice<UInt8>) -> String { String(decoding: units, as: UTF8.self) }
}

// MARK: - Rendering

extension RecurrenceRule: CustomStringConvertible, LosslessStringConvertible {
    /// The canonical rule text: `FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU`. Parsing it
    /// gives this rule back.
    public var description: String {
        var parts = ["FREQ=\(frequency.rawValue)"]
        if interval != 1 { parts.append("INTERVAL=\(interval)") }
        if let count { parts.append("COUNT=\(count)") }
        if let until {
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            let year = String(until.year)
            let paddedYear = String(repeating: "0", count: max(0, 4 - year.count)) + year
            parts.append("UNTIL=\(paddedYear)\(two(until.month))\(two(until.day))")
        }
        func list(_ name: String, _ values: [some CustomStringConvertible]) {
            if !values.isEmpty { parts.append("\(name)=" + values.map(\.description).joined(separator: ",")) }
        }
        list("BYMONTH", byMonth)
        list("BYMONTHDAY", byMonthDay)
        list("BYDAY", byDay)
        list("BYSETPOS", bySetPos)
        if weekStart != .monday { parts.append("WKST=\(weekStart)") }
        return parts.joined(separator: ";")
    }

    /// Parses like `init(parsing:)`, without saying what was wrong.
    public init?(_ description: String) {
        guard let rule = try? RecurrenceRule(parsing: description) else { return nil }
        self = rule
    }
}
