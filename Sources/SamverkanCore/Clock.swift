public import Foundation

/// The source of "now". Only the daemon's outer shell uses the system clock; everything else
/// takes one of these, so tests run years of schedule in milliseconds.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The real wall clock, optionally shifted: tests of long downtime move the daemon's view of
/// time forward instead of waiting days (honoured by debug builds only).
public struct SystemWallClock: WallClock {
    public let offsetSeconds: Double

    public init(offsetSeconds: Double = 0) {
        self.offsetSeconds = offsetSeconds
    }

    public func now() -> Date { Date().addingTimeInterval(offsetSeconds) }
}
