/// A calendar date with no time and no zone: the unit every rule of the domain is written in.
///
/// Arithmetic is done on a day number (days since 1970-01-01, proleptic Gregorian), so adding
/// days and finding weekdays costs a few integer operations and never touches `Calendar`.
public struct LocalDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a date, or `nil` when the day does not exist (2026-02-30, month 13).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= LocalDate.daysIn(month: month, year: year) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `dayNumber` days after 1970-01-01 (negative before it).
    public init(dayNumber: Int) {
        // Howard Hinnant's civil_from_days.
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    /// Parses `YYYY-MM-DD` strictly (four-digit year, two-digit month and day).
    public init?(iso text: some StringProtocol) {
        guard let date = Self.parse(iso: text) else { return nil }
        self = date
    }

    /// ``init(iso:)`` for a `String`, compiled for it here: other modules call the generic one
    /// unspecialised, which is slow, and loading a config parses thousands of dates.
    public init?(iso text: String) {
        guard let date = Self.parse(iso: text) else { return nil }
        self = date
    }

    /// `DDDD-DD-DD` in ASCII digits, each part read as a number (see `ASCIIText`).
    private static func parse(iso text: some StringProtocol) -> LocalDate? {
        ASCIIText.withBytes(text) { bytes in
            guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
                let y = ASCIIText.digits(bytes, 0..<4), let m = ASCIIText.digits(bytes, 5..<7),
                let d = ASCIIText.digits(bytes, 8..<10)
            else { return nil }
            return LocalDate(year: y, month: m, day: d)
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// ISO weekday: 1 is Monday, 7 is Sunday.
    public var weekday: Int {
        let n = (dayNumber + 3) % 7  // 1970-01-01 was a Thursday (ISO 4)
        return (n < 0 ? n + 7 : n) + 1
    }

    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    /// The number of days from `self` to `other` (positive when `other` is later).
    public func days(until other: LocalDate) -> Int { other.dayNumber - dayNumber }

    public var isLeapYear: Bool { LocalDate.isLeap(year) }

    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `2026-11-30`.
    public var description: String {
        // Ten bytes written straight into a small string, with no allocation: a plan prints a
        // date into every deadline's id and explanation, and interpolating was most of that.
        guard Self.fourDigitYears.contains(year) else {
            let y = String(year)
            let paddedYear = year >= 0 && y.count < 4 ? String(repeating: "0", count: 4 - y.count) + y : y
            return "\(paddedYear)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
        }
        return String(unsafeUninitializedCapacity: 10) { buffer in
            guard let out = buffer.baseAddress else { return 0 }
            return write(to: out)
        }
    }

    /// The years ``write(to:)`` prints: those with at most four digits and no sign.
    static let fourDigitYears = 0...9999

    /// Writes ``description`` (`2026-11-02`, ten bytes) to `out` for a year in ``fourDigitYears``,
    /// and returns how many bytes it wrote.
    func write(to out: UnsafeMutablePointer<UInt8>) -> Int {
        RFC3339.twoDigits(year / 100, at: out)
        RFC3339.twoDigits(year % 100, at: out + 2)
        out[4] = UInt8(ascii: "-")
        RFC3339.twoDigits(month, at: out + 5)
        out[7] = UInt8(ascii: "-")
        RFC3339.twoDigits(day, at: out + 8)
        return 10
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

extension LocalDate: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = LocalDate(iso: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A wall-clock time of day, as written in config (`09:00`, `14:30:15`).
public struct LocalTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int
    public let second: Int

    public init?(hour: Int, minute: Int, second: Int = 0) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// Parses `HH:MM` or `HH:MM:SS`.
    public init?(text: some StringProtocol) {
        guard let time = Self.parse(text) else { return nil }
        self = time
    }

    /// ``init(text:)`` for a `String`, compiled for it here (see `LocalDate.init(iso:)`).
    public init?(text: String) {
        guard let time = Self.parse(text) else { return nil }
        self = time
    }

    /// Two or three `:`-separated parts of two ASCII characters each, read as `Int` reads them
    /// (see `ASCIIText`).
    private static func parse(_ text: some StringProtocol) -> LocalTime? {
        ASCIIText.withBytes(text) { bytes in
            let parts = ASCIIText.split(bytes, separator: UInt8(ascii: ":"))
            guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 }),
                let h = ASCIIText.integer(bytes, parts[0]), let m = ASCIIText.integer(bytes, parts[1])
            else { return nil }
            let s = parts.count == 3 ? ASCIIText.integer(bytes, parts[2]) : 0
            guard let s else { return nil }
            return LocalTime(hour: h, minute: m, second: s)
        }
    }

    /// 09:00, the default `time:` of a rule.
    public static let nine = LocalTime(valid: 9, 0, 0)

    private init(valid hour: Int, _ minute: Int, _ second: Int) {
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    public var secondsIntoDay: Int { hour * 3600 + minute * 60 + second }

    public var description: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return second == 0 ? "\(two(hour)):\(two(minute))" : "\(two(hour)):\(two(minute)):\(two(second))"
    }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.secondsIntoDay < rhs.secondsIntoDay }
}

/// A date and a wall-clock time, still without a zone.
public struct LocalDateTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var date: LocalDate
    public var time: LocalTime

    public init(date: LocalDate, time: LocalTime) {
        self.date = date
        self.time = time
    }

    public var description: String { "\(date) \(time)" }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        (lhs.date, lhs.time) < (rhs.date, rhs.time)
    }
}
