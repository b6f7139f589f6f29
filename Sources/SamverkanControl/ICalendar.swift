public import Foundation
public import SamverkanCore

/// Writes upcoming deadlines as an RFC 5545 calendar: one VEVENT per deadline with its id as
/// UID (stable across runs), a VALARM per reminder, the VTIMEZONE of the configured zone, CRLF
/// line ends and lines folded at 75 octets.
public struct ICalendar: Sendable {
    public struct Event: Sendable {
        public var uid: String
        public var summary: String
        public var description: String
        public var start: Date
        public var alarms: [(at: Date, text: String)]

        public init(uid: String, summary: String, description: String, start: Date, alarms: [(at: Date, text: String)])
        {
            self.uid = uid
            self.summary = summary
            self.description = description
            self.start = start
            self.alarms = alarms
        }
    }

    public let zone: Zone

    public init(zone: Zone) {
        self.zone = zone
    }

    public func render(_ events: [Event], now: Date) -> String {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Samverkan//samverkand \(SamverkanVersion.current)//SV",
            "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:Samverkan", "X-WR-TIMEZONE:\(zone.identifier)",
        ]
        let starts = events.map(\.start)
        if let first = starts.min(), let last = starts.max() {
            lines += timezone(from: first.addingTimeInterval(-366 * 86_400), to: last.addingTimeInterval(86_400))
        }
        let stamp = utc(now)
        for event in events {
            lines += [
                "BEGIN:VEVENT", "UID:\(escape(event.uid))@samverkan", "DTSTAMP:\(stamp)",
                "DTSTART;TZID=\(zone.identifier):\(local(event.start))", "DURATION:PT15M",
                "SUMMARY:\(escape(event.summary))", "DESCRIPTION:\(escape(event.description))", "TRANSP:TRANSPARENT",
            ]
            for alarm in event.alarms {
                lines += [
                    "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;VALUE=DATE-TIME:\(utc(alarm.at))",
                    "DESCRIPTION:\(escape(alarm.text))", "END:VALARM",
                ]
            }
            lines.append("END:VEVENT")
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// One STANDARD or DAYLIGHT block per offset change in the span, so any zone is described
    /// exactly without deriving rules.
    func timezone(from: Date, to: Date) -> [String] {
        var lines = ["BEGIN:VTIMEZONE", "TZID:\(zone.identifier)"]
        var cursor = from
        var previous = zone.offset(at: from)
        var blocks = 0
        while let next = zone.timeZone.nextDaylightSavingTimeTransition(after: cursor), next <= to {
            let offset = zone.offset(at: next)
            let isDaylight = zone.timeZone.isDaylightSavingTime(for: next)
            let name = zone.timeZone.abbreviation(for: next) ?? (isDaylight ? "DST" : "STD")
            // DTSTART is the local time just before the change, in the old offset.
            let localStart = Date(timeIntervalSince1970: next.timeIntervalSince1970 + Double(previous))
            lines += [
                isDaylight ? "BEGIN:DAYLIGHT" : "BEGIN:STANDARD", "DTSTART:\(floating(localStart))",
                "TZOFFSETFROM:\(offsetText(previous))", "TZOFFSETTO:\(offsetText(offset))", "TZNAME:\(name)",
                isDaylight ? "END:DAYLIGHT" : "END:STANDARD",
            ]
            previous = offset
            cursor = next
            blocks += 1
        }
        if blocks == 0 {
            let offset = zone.offset(at: from)
            lines += [
                "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:\(offsetText(offset))",
                "TZOFFSETTO:\(offsetText(offset))", "END:STANDARD",
            ]
        }
        lines.append("END:VTIMEZONE")
        return lines
    }

    private func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    private func stamp(_ local: LocalDateTime) -> String {
        let d = local.date
        let t = local.time
        let year = String(d.year)
        return "\(year)\(two(d.month))\(two(d.day))T\(two(t.hour))\(two(t.minute))\(two(t.second))"
    }

    func local(_ instant: Date) -> String { stamp(zone.local(instant)) }

    func utc(_ instant: Date) -> String { stamp(Zone.utc.local(instant)) + "Z" }

    /// A wall time given as seconds since 1970 read as UTC: no zone applied.
    private func floating(_ wall: Date) -> String { stamp(Zone.utc.local(wall)) }

    private func offsetText(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = abs(seconds)
        return "\(sign)\(two(magnitude / 3600))\(two(magnitude % 3600 / 60))"
    }

    /// TEXT escaping of RFC 5545 3.3.11.
    func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\n": out += "\\n"
            case "\r": break
            default: out.append(character)
            }
        }
        return out
    }

    /// Folds a content line at 75 octets without splitting a UTF-8 sequence (RFC 5545 3.1).
    func fold(_ line: String) -> String {
        var result: [String] = []
        var current = ""
        var octets = 0
        for scalar in line.unicodeScalars {
            let size = String(scalar).utf8.count
            let limit = result.isEmpty ? 75 : 74  // continuation lines start with a space
            if octets + size > limit {
                result.append(current)
                current = ""
                octets = 0
            }
            current.unicodeScalars.append(scalar)
            octets += size
        }
        result.append(current)
        return result.enumerated().map { $0.offset == 0 ? $0.element : " " + $0.element }.joined(separator: "\r\n")
    }
}
