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
        let units: [(String, (Int) -> LeadTime)] = [
            ("wd", LeadTime.workingDays), ("d", LeadTime.days), ("h", LeadTime.hours),
        ]
        for (suffix, make) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(number), n > 0 else {
                return nil
            }
            self = make(n)
            return
        }
        return nil
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
