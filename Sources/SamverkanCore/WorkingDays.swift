/// Working-day arithmetic on a ``SwedishCalendar``: the moves of `working_day: next | previous`
/// and the `wd` lead times of `remind:` (`design.md`, "Working days").
///
/// Every function throws ``CalendarError`` when its input, or a day it has to look at, lies
/// outside ``SwedishCalendar/supportedYears``; it never guesses past the range.
extension SwedishCalendar {
    /// `date` itself when it is a working day, else the first working day after it.
    ///
    /// This is the move of a statutory last day: Lag (1930:173), 2 §, carries a deadline that
    /// falls "på en söndag, annan allmän helgdag, lördag, midsommarafton, julafton eller
    /// nyårsafton" forward to the next vardag. Julafton 2025-12-24 gives Monday 2025-12-29.
    public func nextWorkingDay(onOrAfter date: LocalDate) throws(CalendarError) -> LocalDate {
        LocalDate(dayNumber: try nextWorkingDay(onOrAfterDay: date.dayNumber))
    }

    /// `date` itself when it is a working day, else the last working day before it.
    ///
    /// This is the move of a reminder that would land on a non-working day: earlier, so that no
    /// lead time is lost (`domain.md` §6, an [inferred] rule). Julafton 2025-12-24 gives
    /// Tuesday 2025-12-23.
    public func previousWorkingDay(onOrBefore date: LocalDate) throws(CalendarError) -> LocalDate {
        LocalDate(dayNumber: try previousWorkingDay(onOrBeforeDay: date.dayNumber))
    }

    /// The `n`th working day after `date` (`n > 0`) or before it (`n < 0`).
    ///
    /// Only working days are counted, and `date` itself never counts, whether or not it is a
    /// working day: the result is the working day that has exactly `|n| - 1` working days
    /// between it and `date`. So a `-5wd` reminder for Friday 2026-03-06 goes out Friday
    /// 2026-02-27 (`domain.md` §7.2 C); `-1` from a Saturday is the Friday before it and `+1`
    /// from a Saturday is the Monday after (when those are working days). The result is
    /// always a working day, except for `n == 0`, which returns `date` unchanged: moving a date
    /// onto a working day is ``nextWorkingDay(onOrAfter:)`` or
    /// ``previousWorkingDay(onOrBefore:)``, never an implicit side effect.
    ///
    /// Adding `n` and then `-n` returns to `date` when `date` is a working day.
    public func addingWorkingDays(_ n: Int, to date: LocalDate) throws(CalendarError) -> LocalDate {
        LocalDate(dayNumber: try addingWorkingDays(n, toDay: date.dayNumber))
    }

    // The same on day numbers (days since 1970-01-01), for the planner's inner loops, which
    // would otherwise convert to and from `LocalDate` for every deadline. The error names the
    // date as the `LocalDate` versions do.

    /// ``nextWorkingDay(onOrAfter:)`` on a day number.
    func nextWorkingDay(onOrAfterDay start: Int) throws(CalendarError) -> Int {
        var dayNumber = start
        while try !isWorkingDay(
            dayNumber: dayNumber, context: "next working day on or after \(LocalDate(dayNumber: start))")
        {
            dayNumber += 1
        }
        return dayNumber
    }

    /// ``previousWorkingDay(onOrBefore:)`` on a day number.
    func previousWorkingDay(onOrBeforeDay start: Int) throws(CalendarError) -> Int {
        var dayNumber = start
        while try !isWorkingDay(
            dayNumber: dayNumber, context: "previous working day on or before \(LocalDate(dayNumber: start))")
        {
            dayNumber -= 1
        }
        return dayNumber
    }

    /// ``addingWorkingDays(_:to:)`` on a day number.
    func addingWorkingDays(_ n: Int, toDay start: Int) throws(CalendarError) -> Int {
        _ = try isWorkingDay(dayNumber: start, context: "\(n) working days from \(LocalDate(dayNumber: start))")
        let step = n < 0 ? -1 : 1
        var remaining = n.magnitude
        var dayNumber = start
        while remaining > 0 {
            dayNumber += step
            if try isWorkingDay(dayNumber: dayNumber, context: "\(n) working days from \(LocalDate(dayNumber: start))")
            {
                remaining -= 1
            }
        }
        return dayNumber
    }

    /// The number of working days in `year` (2025: 249, 2026: 251, 2027: 253, without closed days).
    public func workingDayCount(in year: Int) throws(CalendarError) -> Int {
        guard Self.supportedYears.contains(year) else { throw .outsideSupportedYears(year: year) }
        let first = Self.fixed(year, 1, 1).dayNumber
        let last = Self.fixed(year, 12, 31).dayNumber
        var count = 0
        for dayNumber in first...last {
            if try isWorkingDay(dayNumber: dayNumber, context: nil) { count += 1 }
        }
        return count
    }
}
