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
        // Offsets a day either side: equal unless a transition is near.
        let before = table.offset(atUTC: wall - 86_400)
        let after = table.offset(atUTC: wall + 86_400)
        if before == after { return (date(wall - before), nil) }
        let first = wall - before
        let second = wall - after
        let firstValid = table.offset(atUTC: first) == before
        let secondValid = table.offset(atUTC: second) == after
        switch (firstValid, secondValid) {
        case (true, true):
            let earliest = min(first, second)
            return (date(earliest), "\(local) occurs twice in \(identifier) (clocks go back); the first is used")
        case (true, false):
            return (date(first), nil)
        case (false, true):
            return (date(second), nil)
        case (false, false):
            // In the gap: reading the wall time with the old offset lands past the transition,
            // which is the wall time moved forward by the gap.
            let instant = date(first)
            return (
                instant,
                "\(local) does not exist in \(identifier) (clocks go forward); moved forward to \(self.local(instant).time)"
            )
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
        let local = self.local(instant)
        let offset = self.offset(at: instant)
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let time = local.time
        return "\(local.date)T\(two(time.hour)):\(two(time.minute)):\(two(time.second))"
            + "\(sign)\(two(magnitude / 3600)):\(two(magnitude % 3600 / 60))"
    }

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

    func offset(atUTC seconds: Int) -> Int {
        // The last transition at or before `seconds`.
        var low = 0
        var high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= seconds { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? initial : offsets[low - 1]
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
