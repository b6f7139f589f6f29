public import Foundation

/// The source of "now". Only the daemon's outer shell uses the system clock; everything else
/// takes one of these, so tests run years of schedule in milliseconds.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The real wall clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
