import Foundation
import SamverkanCore
import SamverkanStore

/// Answers of `GET /v1/deadlines` kept while they cannot have changed: dashboards and scripts
/// poll the same listing over and over, and building it (store rows, views, JSON) is most of a
/// request's cost.
///
/// A listing depends on the store's contents, the config, the query, and the time only through
/// (a) the first and last day of its range, and (b) which of its planned deadlines are overdue.
/// So a kept answer is used only while the store version and the config generation are the
/// same, both days are the same, and no listed planned deadline has fallen due since; anything
/// else reads again. Listings filtered to one side of `planned` (`state=upcoming|overdue`)
/// depend on deadlines they do not show, and are never kept.
struct ListingCache {
    struct Key: Hashable {
        var within: Int
        var agreement: String?
        var kind: String?
        var states: Set<DeadlineState>
        var limit: Int?
    }

    struct Entry {
        var storeVersion: UInt64
        var generation: Int
        var firstDay: LocalDate
        var lastDay: LocalDate
        /// When it was read: a clock set back before it may show a deadline overdue that is not.
        var readAt: Date
        /// The earliest due of a listed planned deadline that was not yet due: after it, that
        /// deadline shows as overdue.
        var stableThrough: Date
        /// The answer's JSON.
        var body: [UInt8]
    }

    /// A handful of distinct listings are polled at a time; more than this and the oldest go.
    static let capacity = 32
    /// A larger answer (a whole year of a large store) is built each time rather than kept: the
    /// query's `within` and `limit` come from clients, so entries must stay small.
    static let largestBody = 256 * 1024

    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []

    /// The kept answer for `key`, if it still holds.
    func body(
        _ key: Key, storeVersion: UInt64, generation: Int, firstDay: LocalDate, lastDay: LocalDate, now: Date
    ) -> [UInt8]? {
        guard let entry = entries[key], entry.storeVersion == storeVersion, entry.generation == generation,
            entry.firstDay == firstDay, entry.lastDay == lastDay, now >= entry.readAt, now <= entry.stableThrough
        else { return nil }
        return entry.body
    }

    mutating func keep(_ entry: Entry, for key: Key) {
        guard entry.body.count <= Self.largestBody else {
            entries[key] = nil
            return
        }
        if entries.updateValue(entry, forKey: key) == nil, !order.contains(key) {
            order.append(key)
            if order.count > Self.capacity { entries[order.removeFirst()] = nil }
        }
    }
}
