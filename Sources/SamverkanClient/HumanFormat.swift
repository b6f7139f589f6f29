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

    /// A colour or weight for a cell (SGR codes).
    public enum Paint: String, Sendable {
        case bold = "1"
        case dim = "2"
        case red = "31"
        case green = "32"
        case yellow = "33"
    }

    /// Colour only on a terminal, never with `NO_COLOR` set (no-color.org) or `TERM=dumb`.
    public static func colourWanted(environment: [String: String], stdoutIsTerminal: Bool) -> Bool {
        guard stdoutIsTerminal else { return false }
        if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// Decided once per run from the process's stdout and environment.
    public static let colour = colourWanted(
        environment: ProcessInfo.processInfo.environment, stdoutIsTerminal: isatty(STDOUT_FILENO) == 1)

    /// `text` in `paint` when colour is on.
    public static func paint(_ text: String, _ paint: Paint?, colour: Bool = HumanFormat.colour) -> String {
        guard colour, let paint else { return text }
        return "\u{1B}[\(paint.rawValue)m\(text)\u{1B}[0m"
    }

    /// Left-aligned columns separated by two spaces; the first row (the header) in bold and each
    /// cell in the paint `style` gives it, when colour is on. Widths count characters, not
    /// escape codes.
    public static func table(
        _ rows: [[String]], header: Bool = false, colour: Bool = HumanFormat.colour,
        style: (_ row: Int, _ column: Int, _ cell: String) -> Paint? = { _, _, _ in nil }
    ) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.enumerated().map { r, row in
            row.enumerated().map { i, cell in
                let padded = i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
                let chosen = header && r == 0 ? .bold : style(r, i, cell)
                guard chosen != nil else { return padded }
                // Paint the text, not the padding, so underlines and backgrounds don't run on.
                return paint(cell, chosen, colour: colour) + String(padded.dropFirst(cell.count))
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
