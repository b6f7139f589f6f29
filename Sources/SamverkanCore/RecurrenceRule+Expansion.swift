extension RecurrenceRule {
    /// The dates on which the rule fires between `from` and `through` (both inclusive), for
    /// DTSTART `start`.
    ///
    /// The semantics are python-dateutil's `rrule` (the tests hold the two equal): DTSTART
    /// itself is an occurrence only when it matches the rule; BY parts that are left out take
    /// their value from DTSTART (its day of the month for `MONTHLY` and `YEARLY`, and its month
    /// too for a `YEARLY` without `BYMONTH`; its weekday for `WEEKLY`); days that do not exist
    /// (`BYMONTHDAY=31` in April) are skipped, not moved; `BYSETPOS` picks within each period;
    /// `COUNT` counts from DTSTART, however late `from` is. `UNTIL` is a date and is inclusive.
    ///
    /// Work is proportional to the periods between `from` and `through`: without `COUNT`, the
    /// periods before `from` are skipped arithmetically; with it they are counted from `start`.
    public func occurrences(start: LocalDate, from: LocalDate, through: LocalDate) -> [LocalDate] {
        var result: [LocalDate] = []
        forEachOccurrence(start: start, from: from, through: through) { result.append(LocalDate(dayNumber: $0)) }
        return result
    }

    /// `occurrences(start:from:through:)` as day numbers handed to `body`, without an array.
    func forEachOccurrence(start: LocalDate, from: LocalDate, through: LocalDate, _ body: (Int) -> Void) {
        var cache = MonthBitsCache()
        Expansion(rule: self, start: start).run(from: from.dayNumber, through: through.dayNumber, cache: &cache) {
            body($0)
            return true
        }
    }

    /// The fewest days between two consecutive occurrences in `from...through`, or nil when
    /// there are fewer than two.
    public func shortestGap(start: LocalDate, from: LocalDate, through: LocalDate) -> Int? {
        var shortest: Int?
        var previous: Int?
        forEachOccurrence(start: start, from: from, through: through) { day in
            if let previous { shortest = min(shortest ?? Int.max, day - previous) }
            previous = day
        }
        return shortest
    }

    /// The first occurrence on or after `from` and on or before `through`, if any.
    public func firstOccurrence(start: LocalDate, onOrAfter from: LocalDate, through: LocalDate) -> LocalDate? {
        var found: Int?
        var cache = MonthBitsCache()
        Expansion(rule: self, start: start).run(from: from.dayNumber, through: through.dayNumber, cache: &cache) {
            found = $0
            return false
        }
        return found.map(LocalDate.init(dayNumber:))
    }

    /// Whether the rule has no occurrence from `start` up to `through`: a bymonthday the month
    /// never has (`BYMONTH=2;BYMONTHDAY=30`), an `UNTIL` before `start`, a `BYSETPOS` beyond
    /// every period. Config validation asks this with a horizon, since an open rule cannot be
    /// proved empty by expanding it.
    public func neverFires(start: LocalDate, through: LocalDate) -> Bool {
        firstOccurrence(start: start, onOrAfter: start, through: through) == nil
    }

    /// All occurrences from `start` on, lazily and in order.
    ///
    /// Like dateutil, the sequence ends after `COUNT` occurrences, after `UNTIL`, or after the
    /// year 9999; a rule that stops matching is scanned up to there before the iterator returns
    /// `nil`, so prefer `occurrences(start:from:through:)` when there is a horizon.
    public func occurrences(start: LocalDate) -> Occurrences {
        Occurrences(expansion: Expansion(rule: self, start: start))
    }

    /// The lazy occurrences of a rule from one DTSTART; see `occurrences(start:)`.
    public struct Occurrences: Sequence, Sendable {
        let expansion: Expansion

        public func makeIterator() -> Iterator { Iterator(expansion: expansion) }

        public struct Iterator: IteratorProtocol, Sendable {
            private let expansion: Expansion
            private var cache = MonthBitsCache()
            private var period = 0
            private var remaining: Int
            private var finished = false
            /// The selected days of the current period, as day numbers; reused between periods.
            private var days: [Int] = []
            private var index = 0

            init(expansion: Expansion) {
                self.expansion = expansion
                self.remaining = expansion.count ?? Int.max
            }

            public mutating func next() -> LocalDate? {
                while index == days.count {
                    guard !finished else { return nil }
                    fill()
                }
                index += 1
                return LocalDate(dayNumber: days[index - 1])
            }

            /// Moves on to the next period and keeps its occurrences.
            private mutating func fill() {
                var days = self.days
                var cache = self.cache
                var remaining = self.remaining
                var finished = false
                days.removeAll(keepingCapacity: true)
                let bounds = expansion.period(period)
                let start = expansion.start
                let last = expansion.lastDay(through: Expansion.lastSupportedDay)
                if bounds.lower > last {
                    finished = true
                } else {
                    _ = expansion.forEachSelectedDay(in: bounds, cache: &cache) { day in
                        if day < start { return true }
                        remaining -= 1
                        if day > last || remaining < 0 {
                            finished = true
                            return false
                        }
                        days.append(day)
                        return true
                    }
                    finished = finished || remaining == 0
                }
                self.days = days
                self.cache = cache
                self.remaining = remaining
                self.finished = finished
                self.index = 0
                period += 1
            }
        }
    }
}

extension RecurrenceRule {
    /// The last matched month, since `DAILY` and `WEEKLY` visit the same month many times.
    struct MonthBitsCache: Sendable {
        var key = Int.min
        var bits: UInt32 = 0
    }
}

extension RecurrenceRule {
    /// One rule expanded from one DTSTART, the way python-dateutil's `rrule._iter` walks it.
    ///
    /// Periods follow each other from the one holding DTSTART, `interval` apart: years, months,
    /// weeks that begin on `WKST` (the first one cut to begin at DTSTART, as dateutil does), or days.
    /// In each period, the days that pass every BY filter are kept, `BYSETPOS` picks among them, and
    /// those before DTSTART, after `UNTIL` or beyond `COUNT` are dropped.
    ///
    /// A month's matching days are one 32-bit set (bit d for day d), built from bit masks with a
    /// few integer operations, so expansion allocates nothing beyond its result.
    struct Expansion: Sendable {
        let frequency: RecurrenceRule.Frequency
        let interval: Int
        let count: Int?
        let until: Int?
        /// DTSTART's day number.
        let start: Int
        let bySetPos: [Int]
        /// BYDAY when its entries have ordinals (the parser lets no rule mix them with plain
        /// weekdays), else empty; it shares the rule's storage.
        let ordinals: [RecurrenceRule.WeekdayNum]
        /// `YEARLY` without `BYMONTH`: `20MO` is the year's twentieth Monday, not a month's.
        let ordinalsWithinYear: Bool
        /// Bit m for month m; 0 lets every month through.
        let months: UInt16
        let hasMonthDays: Bool
        let monthDays: UInt32
        /// The negative month days as bits of days, for months of 28, 29, 30 and 31 days.
        let negativeMonthDays28: UInt32
        let negativeMonthDays29: UInt32
        let negativeMonthDays30: UInt32
        let negativeMonthDays31: UInt32
        /// Bit j set when the weekday j days after a Monday is allowed, for j in 0..<38 (a month's
        /// days seen from any weekday); 0 lets every weekday through.
        let weekdayPattern: UInt64
        let startYear: Int
        /// DTSTART's year × 12 + month − 1.
        let startMonthIndex: Int
        /// The first day of DTSTART's week, the week beginning on `WKST`.
        let weekAnchor: Int

        /// The end of dateutil's calendar (`datetime.MAXYEAR`), where it stops looking.
        static let lastSupportedDay = dayNumber(year: 10_000, month: 1) - 1

        init(rule: RecurrenceRule, start date: LocalDate) {
            frequency = rule.frequency
            interval = rule.interval
            count = rule.count
            until = rule.until?.dayNumber
            start = date.dayNumber
            bySetPos = rule.bySetPos
            ordinals = rule.byDay.first?.ordinal == nil ? [] : rule.byDay
            ordinalsWithinYear = rule.frequency == .yearly && rule.byMonth.isEmpty

            // dateutil's constructor: with none of BYMONTHDAY and BYDAY (nor BYYEARDAY, BYWEEKNO,
            // BYEASTER, outside this subset), the period's position of DTSTART is the filter.
            var months = rule.monthBits
            var monthDays = rule.monthDayBits
            var weekdays = rule.weekdayBits
            if rule.byMonthDay.isEmpty && rule.byDay.isEmpty {
                switch rule.frequency {
                case .yearly:
                    if months == 0 { months = 1 << UInt16(date.month) }
                    monthDays = 1 << UInt32(date.day)
                case .monthly:
                    monthDays = 1 << UInt32(date.day)
                case .weekly:
                    weekdays = 1 << UInt8(date.weekday)
                case .daily:
                    break
                }
            }
            self.months = months
            self.monthDays = monthDays
            hasMonthDays = monthDays != 0 || rule.negativeMonthDayBits != 0
            func negativeDays(length: Int) -> UInt32 {
                // Most rules have no negative month days (and rules are expanded by the thousand).
                guard rule.negativeMonthDayBits != 0 else { return 0 }
                return (1...length).reduce(UInt32(0)) { bits, k in
                    rule.negativeMonthDayBits & 1 << UInt32(k) != 0 ? bits | 1 << UInt32(length + 1 - k) : bits
                }
            }
            negativeMonthDays28 = negativeDays(length: 28)
            negativeMonthDays29 = negativeDays(length: 29)
            negativeMonthDays30 = negativeDays(length: 30)
            negativeMonthDays31 = negativeDays(length: 31)
            weekdayPattern =
                weekdays == 0
                ? 0
                : (0..<38).reduce(UInt64(0)) { pattern, j in
                    weekdays & 1 << UInt8(j % 7 + 1) != 0 ? pattern | 1 << UInt64(j) : pattern
                }
            startYear = date.year
            startMonthIndex = date.year * 12 + date.month - 1
            weekAnchor = start - (date.weekday - rule.weekStart.rawValue + 7) % 7
        }

        /// The last day an occurrence may fall on: `through`, `UNTIL` or dateutil's end of time.
        func lastDay(through: Int) -> Int { min(through, until ?? Int.max, Self.lastSupportedDay) }

        /// Calls `body` with each occurrence in `from...through`, in order, until it returns false.
        func run(from: Int, through: Int, cache: inout MonthBitsCache, _ body: (Int) -> Bool) {
            let last = lastDay(through: through)
            guard from <= last, start <= last else { return }
            if bySetPos.isEmpty && (frequency == .daily || frequency == .weekly) {
                return runByMonth(from: from, last: last, cache: &cache, body)
            }
            let start = start
            var remaining = count ?? Int.max
            var period = count == nil ? firstPeriod(reaching: from) : 0
            while remaining > 0 {
                let bounds = self.period(period)
                if bounds.lower > last { return }
                if count != nil, bySetPos.isEmpty, bounds.upper <= from, bounds.lower >= start {
                    // Entirely before the window: only COUNT needs to know how many there were.
                    remaining -= countDays(in: bounds, cache: &cache)
                } else {
                    var stop = false
                    _ = forEachSelectedDay(in: bounds, cache: &cache) { day in
                        if day < start { return true }
                        remaining -= 1
                        if day > last || remaining < 0 || (day >= from && !body(day)) {
                            stop = true
                            return false
                        }
                        return true
                    }
                    if stop { return }
                }
                period += 1
            }
        }

        /// `run` for `DAILY` and `WEEKLY` without `BYSETPOS`, a month at a time. Their occurrences
        /// are the days from DTSTART on that lie in a used period and pass the filters, so a month
        /// is one mask, and the months before `from` that `COUNT` must still count cost a popcount
        /// each (a period at a time, a `COUNT` rule begun decades ago cost 50 ns a day).
        private func runByMonth(from: Int, last: Int, cache: inout MonthBitsCache, _ body: (Int) -> Bool) {
            var remaining = count ?? Int.max
            let first = count == nil ? max(start, from) : start
            let date = LocalDate(dayNumber: first)
            var year = date.year
            var month = date.month
            var monthFirst = first - date.day + 1
            while monthFirst <= last && remaining > 0 {
                let length = LocalDate.daysIn(month: month, year: year)
                var bits = matchingDays(year: year, month: month, monthFirst: monthFirst, length: length, cache: &cache)
                if bits != 0 {
                    let low = max(start - monthFirst, 0) + 1
                    let high = min(last - monthFirst + 1, length)
                    bits &= periodDays(monthFirst: monthFirst, length: length) & Self.days(low, through: high)
                }
                if monthFirst + length <= from {
                    remaining -= bits.nonzeroBitCount
                } else {
                    while bits != 0 {
                        let day = monthFirst + bits.trailingZeroBitCount - 1
                        bits &= bits - 1
                        remaining -= 1
                        if remaining < 0 || (day >= from && !body(day)) { return }
                    }
                }
                monthFirst += length
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
        }

        /// The days of a month that lie in a period the rule uses: every `interval`-th day from
        /// DTSTART (`DAILY`), or every day of every `interval`-th week from DTSTART's (`WEEKLY`).
        private func periodDays(monthFirst: Int, length: Int) -> UInt32 {
            guard interval > 1 else { return Self.days(1, through: length) }
            var bits: UInt32 = 0
            if frequency == .daily {
                var offset = (start - monthFirst) % interval
                if offset < 0 { offset += interval }
                while offset < length {
                    bits |= 1 << UInt32(offset + 1)
                    offset += interval
                }
            } else {
                let span = 7 * interval
                let behind = (monthFirst - weekAnchor) % span
                var weekStart = monthFirst - (behind < 0 ? behind + span : behind)
                while weekStart < monthFirst + length {
                    bits |= Self.days(
                        max(weekStart - monthFirst, 0) + 1, through: min(weekStart + 7 - monthFirst, length))
                    weekStart += span
                }
            }
            return bits
        }

        /// Bits `low...high` (empty when `high` < `low`); days of a month run 1...31.
        static func days(_ low: Int, through high: Int) -> UInt32 {
            guard low <= high else { return 0 }
            return UInt32(truncatingIfNeeded: (UInt64(1) << UInt64(high + 1)) - (UInt64(1) << UInt64(low)))
        }

        /// The days `lower..<upper` of a period, with the month `lower` is in (`monthFirst` is the
        /// day number of that month's first day).
        struct Period {
            var lower: Int
            var upper: Int
            var year: Int
            var month: Int
            var monthFirst: Int
        }

        func period(_ index: Int) -> Period {
            switch frequency {
            case .yearly:
                let year = startYear + index * interval
                let lower = Self.dayNumber(year: year, month: 1)
                return Period(
                    lower: lower, upper: Self.dayNumber(year: year + 1, month: 1), year: year, month: 1,
                    monthFirst: lower)
            case .monthly:
                let monthIndex = startMonthIndex + index * interval
                let year = monthIndex >= 0 ? monthIndex / 12 : (monthIndex - 11) / 12
                let month = monthIndex - year * 12 + 1
                let lower = Self.dayNumber(year: year, month: month)
                return Period(
                    lower: lower, upper: lower + LocalDate.daysIn(month: month, year: year), year: year, month: month,
                    monthFirst: lower)
            case .weekly:
                let weekStart = weekAnchor + 7 * interval * index
                return Self.period(lower: index == 0 ? start : weekStart, upper: weekStart + 7)
            case .daily:
                let day = start + index * interval
                return Self.period(lower: day, upper: day + 1)
            }
        }

        private static func period(lower: Int, upper: Int) -> Period {
            let date = LocalDate(dayNumber: lower)
            return Period(
                lower: lower, upper: upper, year: date.year, month: date.month, monthFirst: lower - date.day + 1)
        }

        /// The first period with a day on or after `day`; the ones before it cannot matter when
        /// there is no `COUNT`.
        func firstPeriod(reaching day: Int) -> Int {
            func ceilingOfPositive(_ numerator: Int, _ denominator: Int) -> Int {
                numerator > 0 ? (numerator + denominator - 1) / denominator : 0
            }
            switch frequency {
            case .yearly:
                return ceilingOfPositive(LocalDate(dayNumber: day).year - startYear, interval)
            case .monthly:
                let date = LocalDate(dayNumber: day)
                return ceilingOfPositive(date.year * 12 + date.month - 1 - startMonthIndex, interval)
            case .weekly:
                // Period k > 0 covers weekAnchor + 7·interval·k ..< that + 7.
                return ceilingOfPositive(day - weekAnchor - 6, 7 * interval)
            case .daily:
                return ceilingOfPositive(day - start, interval)
            }
        }

        /// Calls `body` with the days of the period that the BY parts select, BYSETPOS included, in
        /// order; false when `body` stopped it.
        func forEachSelectedDay(in period: Period, cache: inout MonthBitsCache, _ body: (Int) -> Bool) -> Bool {
            guard !bySetPos.isEmpty else { return forEachDay(in: period, cache: &cache, body) }
            let total = countDays(in: period, cache: &cache)
            let positions = bySetPos
            var index = 0
            return forEachDay(in: period, cache: &cache) { day in
                // dateutil: positive positions count from 1, negative ones index from the end.
                let chosen = positions.contains { ($0 > 0 ? $0 - 1 : total + $0) == index }
                index += 1
                return chosen ? body(day) : true
            }
        }

        func countDays(in period: Period, cache: inout MonthBitsCache) -> Int {
            var total = 0
            forEachMonth(of: period, cache: &cache) { bits, _ in
                total += bits.nonzeroBitCount
                return true
            }
            return total
        }

        /// Calls `body` with the days of the period that pass the BY filters, in order.
        func forEachDay(in period: Period, cache: inout MonthBitsCache, _ body: (Int) -> Bool) -> Bool {
            forEachMonth(of: period, cache: &cache) { bits, monthFirst in
                var bits = bits
                while bits != 0 {
                    let day = bits.trailingZeroBitCount
                    bits &= bits - 1
                    if !body(monthFirst + day - 1) { return false }
                }
                return true
            }
        }

        /// Calls `body` with the matching days of each month the period touches, limited to the
        /// period, and the day number of the month's first day.
        @discardableResult
        func forEachMonth(
            of period: Period, cache: inout MonthBitsCache, _ body: (_ bits: UInt32, _ monthFirst: Int) -> Bool
        ) -> Bool {
            var year = period.year
            var month = period.month
            var monthFirst = period.monthFirst
            while monthFirst < period.upper {
                let length = LocalDate.daysIn(month: month, year: year)
                var bits = matchingDays(year: year, month: month, monthFirst: monthFirst, length: length, cache: &cache)
                if bits != 0 {
                    bits &= Self.days(
                        max(period.lower - monthFirst, 0) + 1, through: min(period.upper - monthFirst, length))
                    if bits != 0 && !body(bits, monthFirst) { return false }
                }
                monthFirst += length
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
            return true
        }

        /// The days of a month that pass BYMONTH, BYMONTHDAY and BYDAY, as bit d for day d.
        func matchingDays(year: Int, month: Int, monthFirst: Int, length: Int, cache: inout MonthBitsCache) -> UInt32 {
            let key = year * 12 + month
            if cache.key == key { return cache.bits }
            var bits: UInt32 = 0
            if months == 0 || months & 1 << UInt16(month) != 0 {
                bits = Self.days(1, through: length)
                let firstWeekday = Self.weekday(monthFirst)
                if hasMonthDays {
                    let negative =
                        switch length {
                        case 28: negativeMonthDays28
                        case 29: negativeMonthDays29
                        case 30: negativeMonthDays30
                        default: negativeMonthDays31
                        }
                    bits &= monthDays | negative
                }
                if weekdayPattern != 0 {
                    bits &= UInt32(truncatingIfNeeded: weekdayPattern >> UInt64(firstWeekday - 1)) << 1
                }
                if !ordinals.isEmpty {
                    bits &= ordinalDays(year: year, monthFirst: monthFirst, length: length, firstWeekday: firstWeekday)
                }
            }
            cache = MonthBitsCache(key: key, bits: bits)
            return bits
        }

        /// The days of a month that are one of the ordinal weekdays (`2TU`, `-1FR`), counted within
        /// the month, or within the year for `YEARLY` without `BYMONTH` (dateutil's `nwdaymask`).
        private func ordinalDays(year: Int, monthFirst: Int, length: Int, firstWeekday: Int) -> UInt32 {
            // The range the ordinals count in, as its first day number, length and end weekdays.
            let rangeFirst = ordinalsWithinYear ? Self.dayNumber(year: year, month: 1) : monthFirst
            let rangeLength = ordinalsWithinYear ? (LocalDate.isLeap(year) ? 366 : 365) : length
            let rangeFirstWeekday = ordinalsWithinYear ? Self.weekday(rangeFirst) : firstWeekday
            let rangeLastWeekday = (rangeFirstWeekday - 1 + rangeLength - 1) % 7 + 1
            var bits: UInt32 = 0
            for entry in ordinals {
                guard let ordinal = entry.ordinal else { continue }
                let weekday = entry.weekday.rawValue
                let offset =
                    ordinal > 0
                    ? (weekday - rangeFirstWeekday + 7) % 7 + (ordinal - 1) * 7
                    : rangeLength - 1 - (rangeLastWeekday - weekday + 7) % 7 + (ordinal + 1) * 7
                guard (0..<rangeLength).contains(offset) else { continue }
                let day = rangeFirst + offset - monthFirst + 1
                if (1...length).contains(day) { bits |= 1 << UInt32(day) }
            }
            return bits
        }

        /// ISO weekday (1 is Monday) of a day number; 1970-01-01 was a Thursday.
        static func weekday(_ dayNumber: Int) -> Int {
            let n = (dayNumber + 3) % 7
            return (n < 0 ? n + 7 : n) + 1
        }

        /// The day number of the first of a month (Howard Hinnant's days_from_civil, as in
        /// `LocalDate.dayNumber`, without building a date that might not exist).
        static func dayNumber(year: Int, month: Int) -> Int {
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yoe = y - era * 400
            let mp = month > 2 ? month - 3 : month + 9
            let doy = (153 * mp + 2) / 5
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            return era * 146_097 + doe - 719_468
        }
    }
}
