public import Foundation

/// Turns local wall times in the configured zone into instants and back, with the DST policy of
/// `design.md`: a time that does not exist (spring forward) moves forward by the gap
/// (02:30 → 03:30); a time that occurs twice (fall back) means the first.
public struct Zone: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar

    public init(_ timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.locale = Locale(identifier: "sv_SE")
        self.calendar = calendar
    }

    /// The zone named by an IANA identifier (`Europe/Stockholm`), or nil if it is unknown.
    public init?(identifier: String) {
        guard let timeZone = TimeZone(identifier: identifier) else { return nil }
        self.init(timeZone)
    }

    public var identifier: String { timeZone.identifier }

    /// The instant of a local wall time, and a note when DST changed it.
    public func resolve(_ local: LocalDateTime) -> (instant: Date, dstNote: String?) {
        var components = DateComponents()
        components.year = local.date.year
        components.month = local.date.month
        components.day = local.date.day
        components.hour = local.time.hour
        components.minute = local.time.minute
        components.second = local.time.second
        // Foundation resolves a skipped time forward by the gap and a repeated time to the first
        // occurrence (verified in platform.md 6.2); we still check and explain what happened.
        guard let instant = calendar.date(from: components) else {
            return (Date(timeIntervalSince1970: 0), "could not resolve \(local) in \(identifier)")
        }
        let back = self.local(instant)
        if back != local {
            return (
                instant, "\(local) does not exist in \(identifier) (clocks go forward); moved forward to \(back.time)"
            )
        }
        let earlier = instant.addingTimeInterval(-3600)
        if self.local(earlier) == local {
            return (earlier, "\(local) occurs twice in \(identifier) (clocks go back); the first is used")
        }
        if self.local(instant.addingTimeInterval(3600)) == local {
            return (instant, "\(local) occurs twice in \(identifier) (clocks go back); the first is used")
        }
        return (instant, nil)
    }

    /// The instant of a local wall time, ignoring the explanation.
    public func instant(_ local: LocalDateTime) -> Date { resolve(local).instant }

    /// The local wall time of an instant, to the second.
    public func local(_ instant: Date) -> LocalDateTime {
        let offset = timeZone.secondsFromGMT(for: instant)
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down)) + offset
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
        let offset = timeZone.secondsFromGMT(for: instant)
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let time = local.time
        return "\(local.date)T\(two(time.hour)):\(two(time.minute)):\(two(time.second))"
            + "\(sign)\(two(magnitude / 3600)):\(two(magnitude % 3600 / 60))"
    }
}

extension Zone {
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
