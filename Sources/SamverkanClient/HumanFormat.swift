public import Foundation
import SamverkanCore

/// How `samverkanctl` shows times to people: `tis 2026-12-01 09:00 (om 6 dagar)`.
public enum HumanFormat {
    static let weekdays = ["mån", "tis", "ons", "tors", "fre", "lör", "sön"]

    /// Formats an RFC 3339 local time from the daemon, relative to `now`.
    public static func when(_ rfc3339: String, now: Date?) -> String {
        guard rfc3339.count >= 16, let date = LocalDate(iso: rfc3339.prefix(10)) else { return rfc3339 }
        let clock = rfc3339.dropFirst(11).prefix(5)
        var text = "\(weekdays[date.weekday - 1]) \(date) \(clock)"
        if let now, let instant = Zone.parseRFC3339(rfc3339) { text += " (\(relative(instant, now: now)))" }
        return text
    }

    /// `om 6 dagar`, `om 3 timmar`, `för 2 dagar sedan`, `nu`.
    public static func relative(_ instant: Date, now: Date) -> String {
        let seconds = instant.timeIntervalSince(now)
        let magnitude = abs(seconds)
        let phrase: String
        switch magnitude {
        case ..<60: return "nu"
        case ..<3600:
            let n = Int(magnitude / 60)
            phrase = "\(n) \(n == 1 ? "minut" : "minuter")"
        case ..<172_800:
            let n = Int(magnitude / 3600)
            phrase = "\(n) \(n == 1 ? "timme" : "timmar")"
        default:
            let n = Int(magnitude / 86_400)
            phrase = "\(n) dagar"
        }
        return seconds >= 0 ? "om \(phrase)" : "för \(phrase) sedan"
    }

    /// Left-aligned columns separated by two spaces.
    public static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
