/// A date as precise as its source: a day, a month or only a year.
///
/// "under tiden 2019-2021" (seed 001) gives an end known only to the year; the working date is
/// derived (2021-12-31) and every explanation says so (`design.md`, "Imprecise dates"). A derived
/// date is never presented as if the source had given it.
public struct FuzzyDate: Sendable, Hashable, CustomStringConvertible {
    public enum Precision: String, Sendable, Hashable {
        case day, month, year
    }

    /// Which end of a coarse period the working date is taken from.
    public enum Anchor: Sendable {
        case start, end
    }

    public let precision: Precision
    /// The working date: the day itself, or the first or last day of the month or year.
    public let date: LocalDate
    /// As written in config: `2021`, `2021-12`, `2021-12-31`.
    public let text: String

    public init(precision: Precision, date: LocalDate, text: String) {
        self.precision = precision
        self.date = date
        self.text = text
    }

    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a coarse value takes the anchor's end of the period.
    public init?(parsing text: String, anchor: Anchor) {
        // `YYYY`, `YYYY-MM` or a `LocalDate`; each part read as `Int` reads it (see `ASCIIText`).
        let parsed = ASCIIText.withBytes(text) { bytes -> (Precision, LocalDate)? in
            let parts = ASCIIText.split(bytes, separator: UInt8(ascii: "-"))
            guard parts[0].count == 4, let year = ASCIIText.integer(bytes, parts[0]) else { return nil }
            switch parts.count {
            case 1:
                let date =
                    anchor == .start
                    ? LocalDate(year: year, month: 1, day: 1) : LocalDate(year: year, month: 12, day: 31)
                return date.map { (.year, $0) }
            case 2:
                guard parts[1].count == 2, let month = ASCIIText.integer(bytes, parts[1]), (1...12).contains(month)
                else { return nil }
                let day = anchor == .start ? 1 : LocalDate.daysIn(month: month, year: year)
                return LocalDate(year: year, month: month, day: day).map { (.month, $0) }
            case 3:
                return LocalDate(iso: text).map { (.day, $0) }
            default:
                return nil
            }
        }
        guard let (precision, date) = parsed else { return nil }
        self.init(precision: precision, date: date, text: text)
    }

    public var isDerived: Bool { precision != .day }

    /// `2021-12-31`, or `2021-12-31 (derived from 2021)` when the source gave less.
    public var description: String { isDerived ? "\(date) (derived from \(text))" : "\(date)" }
}
