/// How long before a due instant a reminder goes out: `30d`, `5wd` or `2h`.
///
/// `d` and `wd` keep the wall-clock time of the due instant and move off non-working days;
/// `h` is elapsed time (`design.md`).
public enum LeadTime: Sendable, Hashable, CustomStringConvertible {
    case days(Int)
    case workingDays(Int)
    case hours(Int)

    /// Parses `30d`, `5wd` or `2h` (a positive count and a unit).
    public init?(text: some StringProtocol) {
        guard let lead = Self.parse(text) else { return nil }
        self = lead
    }

    /// ``init(text:)`` for a `String`, compiled for it here (see `LocalDate.init(iso:)`).
    public init?(text: String) {
        guard let lead = Self.parse(text) else { return nil }
        self = lead
    }

    /// A count of ASCII digits and `wd`, `d` or `h`, tried in that order; the first unit that
    /// ends the text decides (see `ASCIIText`).
    private static func parse(_ text: some StringProtocol) -> LeadTime? {
        ASCIIText.withBytes(text) { bytes in
            let count = bytes.count
            func number(before unitLength: Int) -> Int? {
                guard let n = ASCIIText.digits(bytes, 0..<(count - unitLength)), n > 0 else { return nil }
                return n
            }
            if count >= 2 && bytes[count - 2] == UInt8(ascii: "w") && bytes[count - 1] == UInt8(ascii: "d") {
                return number(before: 2).map(LeadTime.workingDays)
            }
            if count >= 1 && bytes[count - 1] == UInt8(ascii: "d") { return number(before: 1).map(LeadTime.days) }
            if count >= 1 && bytes[count - 1] == UInt8(ascii: "h") { return number(before: 1).map(LeadTime.hours) }
            return nil
        }
    }

    public var description: String {
        switch self {
        case .days(let n): return "\(n)d"
        case .workingDays(let n): return "\(n)wd"
        case .hours(let n): return "\(n)h"
        }
    }

    /// The notice slot of a reminder with this lead time: `-30d`, `-5wd`, `-2h`.
    public var slot: String { "-\(description)" }

    /// A rough length in seconds, for ordering and for checking against a recurrence interval.
    public var approximateSeconds: Int {
        switch self {
        case .days(let n): return n * 86_400
        case .workingDays(let n): return n * 86_400 * 7 / 5
        case .hours(let n): return n * 3_600
        }
    }
}
