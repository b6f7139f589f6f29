public import Foundation
public import SamverkanCore

/// The stretch of time a plan covers, as instants: `start` inclusive, `end` exclusive.
///
/// Reconcile cancels a stored deadline the plan no longer has only when its due instant lies
/// in the window; everything outside it (history, the far future) is left alone.
public struct PlanWindow: Sendable, Hashable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = max(start, end)
    }

    /// The instants of the local dates `from...through` in `zone`, which is what
    /// `Planner.plan(_:from:through:)` selects by: from `from` 00:00 up to `through + 1` 00:00.
    public init(from: LocalDate, through: LocalDate, zone: Zone) {
        let midnight = LocalTime(hour: 0, minute: 0) ?? .nine
        self.init(
            start: zone.instant(LocalDateTime(date: from, time: midnight)),
            end: zone.instant(LocalDateTime(date: through.adding(days: 1), time: midnight)))
    }

    public func contains(_ instant: Date) -> Bool { instant >= start && instant < end }
}
