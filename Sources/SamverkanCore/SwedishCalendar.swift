/// The Swedish calendar of non-working days: the statutory holidays, the de facto free eves,
/// weekends, and the extra `closed_days` of a config.
///
/// A **working day** (`design.md`, "Working days") is a Monday–Friday that is
/// - not an allmän helgdag under **Lag (1989:253) om allmänna helgdagar**,
/// - not midsommarafton, julafton or nyårsafton, which **Lag (1930:173) om beräkning av
///   lagstadgad tid, 2 §**, treats like helgdagar ("söndag, annan allmän helgdag, lördag,
///   midsommarafton, julafton eller nyårsafton") and collective agreements give off,
/// - and not one of `closedDays` (local klämdagar and the like, from config).
///
/// The rules are those in force since 2005-01-01, when **SFS 2004:1320** made Sveriges nationaldag
/// a helgdag and annandag pingst an ordinary day. Earlier years followed other rules, and nobody
/// can promise today's law for ever, so dates outside ``supportedYears`` are refused with a
/// ``CalendarError`` instead of being judged under the wrong law.
///
/// Every statutory fact for the whole range is computed once, on first use, into a bitset of
/// about 72 000 days (9 kB); each calendar holds that bitset with its closed days added (shared,
/// not copied, when there are none), so ``isWorkingDay(_:)`` is a subtraction, a range check
/// and a bit test, about 10 ns.
public struct SwedishCalendar: Sendable, Hashable {
    /// The years whose non-working days this calendar knows: from the 2005 reform
    /// (SFS 2004:1320) to an arbitrary but generous horizon.
    public static let supportedYears = 2005...2200

    /// Extra non-working days from config (`closed_days`), on top of the statutory ones.
    public let closedDays: Set<LocalDate>

    /// Bit `i` set: day `firstDayNumber + i` is not a working day (statutory or closed).
    private let nonWorking: [UInt64]

    /// Day number of 2005-01-01, the first supported day (checked when the table is built).
    static let firstDayNumber = 12_784
    /// Days from 2005-01-01 through 2200-12-31 (checked when the table is built).
    static let dayCount = 71_587

    /// A calendar with `closedDays` as extra non-working days; closed days outside
    /// ``supportedYears`` are kept in `closedDays` but can never be asked about.
    public init(closedDays: Set<LocalDate> = []) {
        self.closedDays = closedDays
        var bits = Self.table.nonWorking
        for day in closedDays {
            let offset = day.dayNumber - Self.firstDayNumber
            if offset >= 0 && offset < Self.dayCount { bits[offset >> 6] |= 1 << UInt64(offset & 63) }
        }
        self.nonWorking = bits
    }

    /// Two calendars are equal when their closed days are; the bitset follows from those.
    public static func == (lhs: SwedishCalendar, rhs: SwedishCalendar) -> Bool { lhs.closedDays == rhs.closedDays }

    public func hash(into hasher: inout Hasher) { hasher.combine(closedDays) }

    /// The helgdagar and de facto non-working days of `year`, sorted by date.
    ///
    /// Sundays are not listed (every Sunday is a helgdag), but påskdagen and pingstdagen are,
    /// although they always fall on a Sunday. Two holidays can share a date (första maj and
    /// Kristi himmelsfärdsdag in 2008; pingstdagen and Sveriges nationaldag in 2049); both are
    /// listed, in their usual calendar order. `closedDays` are not holidays and are not listed.
    public func holidays(in year: Int) throws(CalendarError) -> [Holiday] {
        guard Self.supportedYears.contains(year) else { throw .outsideSupportedYears(year: year) }
        return Self.table.holidays[year - Self.supportedYears.lowerBound]
    }

    /// The holidays falling on `date` (none, one, or rarely two).
    public func holidays(on date: LocalDate) throws(CalendarError) -> [Holiday] {
        guard Self.supportedYears.contains(date.year) else { throw .outsideSupportedYears(date: date, context: nil) }
        return Self.table.holidays[date.year - Self.supportedYears.lowerBound].filter { $0.date == date }
    }

    /// Why `date` is not a working day, for explanations, or `nil` when it is one.
    ///
    /// Statutory reasons come before local ones and the holiday before the weekday: Saturday
    /// 2026-06-06 gives "Sveriges nationaldag", Saturday 2026-06-13 "lördag", a closed Friday
    /// "closed day (closed_days)". Two holidays on one date are joined with "och".
    public func nonWorkingReason(_ date: LocalDate) throws(CalendarError) -> String? {
        let names = try holidays(on: date).map(\.name)
        if !names.isEmpty { return names.joined(separator: " och ") }
        switch date.weekday {
        case 6: return "lördag"
        case 7: return "söndag"
        default: return closedDays.contains(date) ? "closed day (closed_days)" : nil
        }
    }

    /// Whether `date` is a working day: Monday–Friday, no holiday, not a closed day.
    public func isWorkingDay(_ date: LocalDate) throws(CalendarError) -> Bool {
        try isWorkingDay(dayNumber: date.dayNumber, context: nil)
    }

    /// ``isWorkingDay(_:)`` on a day number; `context` says what was being computed, for the error.
    @inline(__always)
    func isWorkingDay(dayNumber: Int, context: @autoclosure () -> String?) throws(CalendarError) -> Bool {
        let offset = dayNumber &- Self.firstDayNumber
        guard offset >= 0, offset < Self.dayCount else {
            throw .outsideSupportedYears(date: LocalDate(dayNumber: dayNumber), context: context())
        }
        return nonWorking[offset &>> 6] & (1 &<< UInt64(offset & 63)) == 0
    }

    /// Western (Gregorian) Easter Sunday of `year`, by the anonymous Gregorian algorithm
    /// (Meeus/Jones/Butcher, as in Meeus, *Astronomical Algorithms*).
    ///
    /// Lag (1989:253) defines påskdagen as the Sunday after the full moon on or after 21 March;
    /// in practice that is the ecclesiastical Easter this algorithm gives (`domain.md` §6).
    public static func easterSunday(year: Int) -> LocalDate {
        let a = year % 19
        let b = year / 100
        let c = year % 100
        let d = b / 4
        let e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4
        let k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return fixed(year, month, day)
    }
}

/// A holiday: an allmän helgdag, or one of the eves that count as non-working.
public struct Holiday: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// An allmän helgdag under Lag (1989:253).
        case helgdag
        /// Midsommarafton, julafton, nyårsafton: not helgdagar, but listed with them by
        /// Lag (1930:173), 2 §, and free under collective agreements.
        case deFactoNonWorking
    }

    public let date: LocalDate
    /// The Swedish name, in the statute's spelling: "trettondedag jul", "Kristi himmelsfärdsdag".
    public let name: String
    public let kind: Kind

    public init(date: LocalDate, name: String, kind: Kind) {
        self.date = date
        self.name = name
        self.kind = kind
    }

    /// `2026-06-19 midsommarafton`.
    public var description: String { "\(date) \(name)" }
}

/// A calendar question the calendar cannot answer: the date lies outside the supported law.
public struct CalendarError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, to match on; a struct so that new codes break no caller.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case outsideSupportedYears
        }

        private let value: Value

        private init(_ value: Value) { self.value = value }

        /// The computation needed a year outside ``SwedishCalendar/supportedYears``.
        public static let outsideSupportedYears = Code(.outsideSupportedYears)

        public var description: String {
            switch value {
            case .outsideSupportedYears: "outsideSupportedYears"
            }
        }
    }

    public let code: Code
    /// The year that is not supported.
    public let year: Int
    /// The first date that was needed and is outside the range, when there was one.
    public let date: LocalDate?
    /// A full sentence for logs and config diagnostics.
    public let message: String

    public var description: String { message }

    static func outsideSupportedYears(year: Int) -> CalendarError {
        CalendarError(code: .outsideSupportedYears, year: year, date: nil, what: "the year \(year)", context: nil)
    }

    static func outsideSupportedYears(date: LocalDate, context: String?) -> CalendarError {
        CalendarError(code: .outsideSupportedYears, year: date.year, date: date, what: "\(date)", context: context)
    }

    private init(code: Code, year: Int, date: LocalDate?, what: String, context: String?) {
        self.code = code
        self.year = year
        self.date = date
        let range = SwedishCalendar.supportedYears
        var message =
            "working days are only known for \(range.lowerBound)–\(range.upperBound) "
            + "(Lag 1989:253 as amended by SFS 2004:1320); \(what) is outside"
        if let context { message += " (\(context))" }
        self.message = message
    }
}

// MARK: - The statutory rules and the precomputed table

extension SwedishCalendar {
    /// Every statutory fact of the supported range, computed once.
    struct Table: Sendable {
        /// Bit `i` set: day `firstDayNumber + i` is a Saturday, a Sunday or a holiday.
        let nonWorking: [UInt64]
        /// `holidays[year - 2005]`, sorted by date.
        let holidays: [[Holiday]]
    }

    static let table: Table = {
        let years = supportedYears
        let first = firstDayNumber
        precondition(first == fixed(years.lowerBound, 1, 1).dayNumber, "firstDayNumber is not 2005-01-01")
        precondition(dayCount == fixed(years.upperBound, 12, 31).dayNumber - first + 1, "dayCount is wrong")
        var bits = [UInt64](repeating: 0, count: (dayCount + 63) / 64)
        func mark(_ dayNumber: Int) {
            let offset = dayNumber - first
            bits[offset >> 6] |= 1 << UInt64(offset & 63)
        }
        for dayNumber in first..<(first + dayCount) where LocalDate(dayNumber: dayNumber).weekday >= 6 {
            mark(dayNumber)
        }
        var holidays: [[Holiday]] = []
        holidays.reserveCapacity(years.count)
        for year in years {
            let list = statutoryHolidays(in: year)
            list.forEach { mark($0.date.dayNumber) }
            holidays.append(list)
        }
        return Table(nonWorking: bits, holidays: holidays)
    }()

    /// The holidays of `year` under the law in force since 2005; the caller checks the range.
    static func statutoryHolidays(in year: Int) -> [Holiday] {
        let easter = easterSunday(year: year)
        // Lag (1989:253), 1 §: midsommardagen is the Saturday in 20–26 June and alla helgons dag
        // the Saturday in 31 October–6 November.
        let midsommardagen = saturday(onOrAfter: fixed(year, 6, 20))
        let allaHelgonsDag = saturday(onOrAfter: fixed(year, 10, 31))
        func helgdag(_ date: LocalDate, _ name: String) -> Holiday { Holiday(date: date, name: name, kind: .helgdag) }
        func eve(_ date: LocalDate, _ name: String) -> Holiday {
            Holiday(date: date, name: name, kind: .deFactoNonWorking)
        }
        // In usual calendar order, which breaks ties between holidays sharing a date.
        let list = [
            // Lag (1989:253), 1 §: the fixed-date helgdagar.
            helgdag(fixed(year, 1, 1), "nyårsdagen"),
            helgdag(fixed(year, 1, 6), "trettondedag jul"),
            // Lag (1989:253), 1 §: the Easter-based helgdagar. Annandag pingst was one until
            // 2004 (removed by SFS 2004:1320) and is not listed.
            helgdag(easter.adding(days: -2), "långfredagen"),
            helgdag(easter, "påskdagen"),
            helgdag(easter.adding(days: 1), "annandag påsk"),
            helgdag(fixed(year, 5, 1), "första maj"),
            helgdag(easter.adding(days: 39), "Kristi himmelsfärdsdag"),
            helgdag(easter.adding(days: 49), "pingstdagen"),
            // Lag (1989:253), 1 §, as amended by SFS 2004:1320: a helgdag since 2005.
            helgdag(fixed(year, 6, 6), "Sveriges nationaldag"),
            // Lag (1930:173), 2 §: the eve before midsommardagen, always a Friday in 19–25 June.
            eve(midsommardagen.adding(days: -1), "midsommarafton"),
            helgdag(midsommardagen, "midsommardagen"),
            helgdag(allaHelgonsDag, "alla helgons dag"),
            // Lag (1930:173), 2 §.
            eve(fixed(year, 12, 24), "julafton"),
            helgdag(fixed(year, 12, 25), "juldagen"),
            helgdag(fixed(year, 12, 26), "annandag jul"),
            // Lag (1930:173), 2 §.
            eve(fixed(year, 12, 31), "nyårsafton"),
        ]
        return list.enumerated()
            .sorted { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }
            .map(\.element)
    }

    /// The first Saturday on or after `date`.
    static func saturday(onOrAfter date: LocalDate) -> LocalDate {
        date.adding(days: (6 - date.weekday + 7) % 7)
    }

    /// A date the rules build from a month and day that exist in every year.
    static func fixed(_ year: Int, _ month: Int, _ day: Int) -> LocalDate {
        guard let date = LocalDate(year: year, month: month, day: day) else {
            preconditionFailure("\(year)-\(month)-\(day) is not a date")
        }
        return date
    }
}
