public import Foundation

/// Turns local wall times in the configured zone into instants and back, with the DST policy of
/// `design.md`: a time that does not exist (spring forward) moves forward by the gap
/// (02:30 → 03:30); a time that occurs twice (fall back) means the first.
///
/// The zone's UTC offsets are read once from Foundation's tz data into a table of transitions,
/// so resolving a wall time is a binary search and a few integer operations: the planner does
/// it for every notice.
public struct Zone: Sendable {
    public let timeZone: TimeZone
    private let table: OffsetTable

    public init(_ timeZone: TimeZone) {
        self.timeZone = timeZone
        self.table = OffsetTable(timeZone)
    }

    /// The zone named by an IANA identifier (`Europe/Stockholm`), or nil if it is unknown.
    public init?(identifier: String) {
        guard let timeZone = TimeZone(identifier: identifier) else { return nil }
        self.init(timeZone)
    }

    public var identifier: String { timeZone.identifier }

    /// The UTC offset in seconds at an instant.
    public func offset(at instant: Date) -> Int {
        table.offset(atUTC: Int(instant.timeIntervalSince1970.rounded(.down)))
    }

    /// The instant of a local wall time, and a note when DST changed it.
    public func resolve(_ local: LocalDateTime) -> (instant: Date, dstNote: String?) {
        let wall = local.date.dayNumber * 86_400 + local.time.secondsIntoDay
        let (instant, kind) = Self.resolve(wall: wall) { table.offset(atUTC: $0) }
        switch kind {
        case .once:
            return (date(instant), nil)
        case .twice:
            return (date(instant), "\(local) occurs twice in \(identifier) (clocks go back); the first is used")
        case .skipped:
            return (
                date(instant),
                "\(local) does not exist in \(identifier) (clocks go forward); moved forward to \(self.local(date(instant)).time)"
            )
        }
    }

    /// How a wall time maps to instants.
    enum WallTimeKind {
        /// One instant: the usual case.
        case once
        /// Two instants (clocks go back); the first is used.
        case twice
        /// No instant (clocks go forward); the wall time moves forward by the gap.
        case skipped
    }

    /// The instant, in UTC seconds since 1970, of `wall` (local seconds since 1970), by the policy
    /// above; `offset` gives the UTC offset at a UTC instant (the table, or a cursor over it).
    @inline(__always)
    static func resolve(wall: Int, offset: (Int) -> Int) -> (instant: Int, kind: WallTimeKind) {
        // Offsets a day either side: equal unless a transition is near.
        let before = offset(wall - 86_400)
        let after = offset(wall + 86_400)
        if before == after { return (wall - before, .once) }
        let first = wall - before
        let second = wall - after
        let firstValid = offset(first) == before
        let secondValid = offset(second) == after
        switch (firstValid, secondValid) {
        case (true, true): return (min(first, second), .twice)
        case (true, false): return (first, .once)
        case (false, true): return (second, .once)
        // In the gap: reading the wall time with the old offset lands past the transition,
        // which is the wall time moved forward by the gap.
        case (false, false): return (first, .skipped)
        }
    }

    /// The instant of a local wall time, ignoring the explanation.
    public func instant(_ local: LocalDateTime) -> Date { resolve(local).instant }

    /// The local wall time of an instant, to the second.
    public func local(_ instant: Date) -> LocalDateTime {
        let utc = Int(instant.timeIntervalSince1970.rounded(.down))
        let seconds = utc + table.offset(atUTC: utc)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        // Both values are in range by construction.
        let time = LocalTime(hour: rest / 3600, minute: rest % 3600 / 60, second: rest % 60) ?? .nine
        return LocalDateTime(date: LocalDate(dayNumber: days), time: time)
    }

    /// The local date of an instant.
    public func today(_ instant: Date) -> LocalDate { local(instant).date }

    /// RFC 3339 local time with offset, as the socket and `plan --json` print it:
    /// `2026-11-02T09:00:00+01:00`.
    public func rfc3339(_ instant: Date) -> String {
        let utc = Int(instant.timeIntervalSince1970.rounded(.down))
        return String(
            unsafeUninitializedCapacity: RFC3339.maximumLength,
            initializingUTF8With: { buffer in
                guard let base = buffer.baseAddress else { return 0 }
                return RFC3339.write(utc: utc, offset: table.offset(atUTC: utc), to: base)
            })
    }

    /// A cursor for many lookups of instants close to each other.
    func offsetCursor() -> OffsetCursor { OffsetCursor(table: table) }

    private func date(_ seconds: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
}

/// A zone's UTC offsets as a sorted list of transitions, read once from Foundation between 1900
/// and 2200; outside that span the nearest known offset holds.
private struct OffsetTable: Sendable {
    /// UTC seconds at which an offset starts, and that offset.
    let starts: [Int]
    let offsets: [Int]
    let initial: Int

    init(_ zone: TimeZone) {
        let first = Date(timeIntervalSince1970: -2_208_988_800)  // 1900-01-01
        let last = Date(timeIntervalSince1970: 7_258_118_400)  // 2200-01-01
        var starts: [Int] = []
        var offsets: [Int] = []
        var cursor = first
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next < last {
            let at = Int(next.timeIntervalSince1970.rounded(.down))
            let offset = zone.secondsFromGMT(for: next)
            if offsets.last != offset {
                starts.append(at)
                offsets.append(offset)
            }
            cursor = next
        }
        self.starts = starts
        self.offsets = offsets
        self.initial = zone.secondsFromGMT(for: first)
    }

    func offset(atUTC seconds: Int) -> Int { span(atUTC: seconds).offset }

    /// The offset at `seconds` and the span of UTC seconds, `lower..<upper`, over which it holds.
    func span(atUTC seconds: Int) -> (offset: Int, lower: Int, upper: Int) {
        // The last transition at or before `seconds`.
        var low = 0
        var high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= seconds { low = middle + 1 } else { high = middle }
        }
        return (
            low == 0 ? initial : offsets[low - 1], low == 0 ? Int.min : starts[low - 1],
            low == starts.count ? Int.max : starts[low]
        )
    }
}

/// Offset lookups that remember the span of the last answer. A plan asks about instants close
/// to each other, mostly within one span between DST changes, so a lookup is usually two
/// comparisons instead of a binary search (which showed up in profiles of large plans).
struct OffsetCursor: Sendable {
    private let table: OffsetTable
    private var lower = Int.max
    private var upper = Int.min
    private var current = 0

    fileprivate init(table: OffsetTable) { self.table = table }

    /// The UTC offset in seconds at an instant given in UTC seconds since 1970.
    @inline(__always)
    mutating func offset(atUTC seconds: Int) -> Int {
        if seconds >= lower && seconds < upper { return current }
        (current, lower, upper) = table.span(atUTC: seconds)
        return current
    }

    /// The instant, in UTC seconds, of a wall time in local seconds since 1970 (see `Zone.resolve`).
    mutating func instant(wall: Int) -> Int {
        Zone.resolve(wall: wall) { offset(atUTC: $0) }.instant
    }
}

/// RFC 3339 timestamps with offset (`2026-11-02T09:00:00+01:00`) written as bytes, for the JSON
/// of large plans: one function for `Zone.rfc3339` and the streamed plan, so both print alike.
enum RFC3339 {
    /// Room enough for any timestamp: 25 bytes with a four-digit year, a few more for a year that
    /// needs more digits or a sign.
    static let maximumLength = 48

    /// Writes the local time of `utc` (seconds since 1970) at UTC offset `offset` seconds to
    /// `out`, which has room for ``maximumLength`` bytes, and returns how many bytes it wrote.
    static func write(utc: Int, offset: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        write(
            utc: utc, offset: offset, to: out, writeDate: { writeDate(dayNumber: $0, to: $1) },
            writeTime: { writeTime(secondsIntoDay: $0, offset: $1, to: $2) })
    }

    /// ``write(utc:offset:to:)`` with the date and the time written by the functions given (a
    /// cache of them).
    @inline(__always)
    static func write(
        utc: Int, offset: Int, to out: UnsafeMutablePointer<UInt8>,
        writeDate: (_ dayNumber: Int, _ out: UnsafeMutablePointer<UInt8>) -> Int,
        writeTime: (_ secondsIntoDay: Int, _ offset: Int, _ out: UnsafeMutablePointer<UInt8>) -> Int
    ) -> Int {
        let seconds = utc + offset
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let count = writeDate(days, out)
        return count + writeTime(seconds - days * 86_400, offset, out + count)
    }

    /// Bytes in the part after the date: `T09:00:00+01:00`.
    static let timeLength = 15

    /// Writes `T09:00:00+01:00` (``timeLength`` bytes) for a time of day and a UTC offset.
    static func writeTime(secondsIntoDay rest: Int, offset: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = UInt8(ascii: "T")
        twoDigits(rest / 3600, at: out + 1)
        out[3] = UInt8(ascii: ":")
        twoDigits(rest % 3600 / 60, at: out + 4)
        out[6] = UInt8(ascii: ":")
        twoDigits(rest % 60, at: out + 7)
        out[9] = offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
        // An offset is under 24 hours, so its hours have two digits.
        let magnitude = abs(offset)
        twoDigits(magnitude / 3600, at: out + 10)
        out[12] = UInt8(ascii: ":")
        twoDigits(magnitude % 3600 / 60, at: out + 13)
        return timeLength
    }

    /// Writes the date of a day number as `LocalDate` prints it (`2026-11-02`) to `out`, which has
    /// room for ``maximumLength`` bytes, and returns how many bytes it wrote.
    static func writeDate(dayNumber: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let date = LocalDate(dayNumber: dayNumber)
        guard LocalDate.fourDigitYears.contains(date.year) else {
            // Years that need more than four digits or a sign: rare enough for the slow way.
            var count = 0
            for byte in date.description.utf8 {
                out[count] = byte
                count += 1
            }
            return count
        }
        return date.write(to: out)
    }

    /// Dates and times of day already printed: a plan has a few hundred distinct days and a
    /// handful of times of day, and writes millions of timestamps; converting a day number to a
    /// date and printing the digits was most of a timestamp's work.
    struct Cache {
        /// Both direct-mapped by low bits; a slot remembers what it holds.
        private static var dateSlots: Int { 64 }
        private static var timeSlots: Int { 16 }
        private var days = [Int](repeating: .min, count: dateSlots)
        private var dates = [UInt8](repeating: 0, count: dateSlots * 10)
        private var times = [(secondsIntoDay: Int, offset: Int)](repeating: (.min, .min), count: timeSlots)
        private var timeBytes = [UInt8](repeating: 0, count: timeSlots * RFC3339.timeLength)

        /// ``RFC3339/write(utc:offset:to:)``, from the cache where it can.
        mutating func write(utc: Int, offset: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
            RFC3339.write(
                utc: utc, offset: offset, to: out, writeDate: { writeDate(dayNumber: $0, to: $1) },
                writeTime: { writeTime(secondsIntoDay: $0, offset: $1, to: $2) })
        }

        /// ``RFC3339/writeDate(dayNumber:to:)``, from the cache when the date is there.
        mutating func writeDate(dayNumber: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
            let slot = dayNumber & (Self.dateSlots - 1)
            if days[slot] == dayNumber {
                dates.withUnsafeBufferPointer { cached in
                    guard let base = cached.baseAddress else { return }
                    out.update(from: base + slot * 10, count: 10)
                }
                return 10
            }
            let count = RFC3339.writeDate(dayNumber: dayNumber, to: out)
            // Only four-digit years, which all have ten bytes, are kept.
            if count == 10 {
                days[slot] = dayNumber
                dates.withUnsafeMutableBufferPointer { cached in
                    guard let base = cached.baseAddress else { return }
                    (base + slot * 10).update(from: out, count: 10)
                }
            }
            return count
        }

        private mutating func writeTime(secondsIntoDay: Int, offset: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
            let length = RFC3339.timeLength
            let slot = (secondsIntoDay ^ offset) & (Self.timeSlots - 1)
            if times[slot] == (secondsIntoDay, offset) {
                timeBytes.withUnsafeBufferPointer { cached in
                    guard let base = cached.baseAddress else { return }
                    out.update(from: base + slot * length, count: length)
                }
                return length
            }
            let count = RFC3339.writeTime(secondsIntoDay: secondsIntoDay, offset: offset, to: out)
            times[slot] = (secondsIntoDay, offset)
            timeBytes.withUnsafeMutableBufferPointer { cached in
                guard let base = cached.baseAddress else { return }
                (base + slot * length).update(from: out, count: length)
            }
            return count
        }
    }

    /// `value` (0–99) as two decimal digits.
    @inline(__always)
    static func twoDigits(_ value: Int, at out: UnsafeMutablePointer<UInt8>) {
        out[0] = UInt8(truncatingIfNeeded: 0x30 + value / 10)
        out[1] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
    }
}

extension Zone {
    /// UTC, for timestamps that carry `Z`.
    public static let utc = Zone(TimeZone(secondsFromGMT: 0) ?? TimeZone(identifier: "UTC") ?? .current)

    /// Parses RFC 3339 (`2026-11-02T09:00:00+01:00`, `…Z`, fractional seconds ignored).
    public static func parseRFC3339(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        guard chars.count >= 20, let date = LocalDate(iso: String(decoding: chars[0..<10], as: UTF8.self)),
            chars[10] == UInt8(ascii: "T") || chars[10] == UInt8(ascii: " "),
            let time = LocalTime(text: String(decoding: chars[11..<19], as: UTF8.self))
        else { return nil }
        var rest = chars[19...]
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst().drop(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        }
        let offset: Int
        if rest.elementsEqual("Z".utf8) || rest.elementsEqual("z".utf8) {
            offset = 0
        } else {
            let tail = String(decoding: rest, as: UTF8.self)
            guard tail.count == 6, let sign = tail.first, sign == "+" || sign == "-",
                let hm = LocalTime(text: tail.dropFirst())
            else { return nil }
            offset = (sign == "-" ? -1 : 1) * (hm.hour * 3600 + hm.minute * 60)
        }
        let seconds = date.dayNumber * 86_400 + time.secondsIntoDay - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
