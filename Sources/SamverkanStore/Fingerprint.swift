import Foundation
import SamverkanCore

/// A stable 64-bit FNV-1a hash of everything the planner says about a deadline, so reconcile
/// skips deadlines that did not change without comparing them field by field.
///
/// Stable across runs and builds (unlike `Hasher`, which is seeded per process): it is stored.
struct Fingerprint {
    private var hash = StableHash()
    var value: UInt64 { hash.value }

    mutating func add(_ text: String) { hash.add(text, terminator: 0x1f) }

    mutating func add(_ number: Double) { hash.add(bits: number.bitPattern) }

    mutating func add(_ count: Int) { hash.add(bits: UInt64(bitPattern: Int64(count))) }

    static func of(_ deadline: Deadline) -> Int64 { of(deadline, nominal: deadline.nominal.description) }

    /// ``of(_:)`` given the nominal date as text, as the store has it already.
    static func of(_ deadline: Deadline, nominal: String) -> Int64 {
        var hash = Fingerprint()
        hash.add(deadline.id)
        hash.add(deadline.agreement)
        hash.add(deadline.obligation)
        hash.add(deadline.kind)
        hash.add(deadline.title)
        hash.add(nominal)
        hash.add(deadline.due.timeIntervalSince1970)
        hash.add(deadline.explanation.count)
        for line in deadline.explanation { hash.add(line) }
        for notice in deadline.notices {
            hash.add(notice.id)
            hash.add(notice.slot)
            hash.add(notice.at.timeIntervalSince1970)
            hash.add(notice.recipients.count)
            for recipient in notice.recipients { hash.add(recipient) }
            hash.add(notice.explanation ?? "\u{0}")
        }
        return Int64(bitPattern: hash.value)
    }
}

extension PlannedNotice {
    /// The respondent of a collection round: the segment after the slot in
    /// `DEADLINE/SLOT/ROLE` (`design.md`, "Identity and idempotency"); nil for other notices.
    func role(deadlineID: String) -> String? {
        // Most notices are `DEADLINE/SLOT`, too short to hold a role: no string is built for them.
        // (Ids are slugs, ASCII: their lengths in bytes and in characters are the same.)
        guard id.utf8.count > deadlineID.utf8.count + slot.utf8.count + 2 else { return nil }
        let prefix = deadlineID + "/" + slot + "/"
        guard id.hasPrefix(prefix), id.count > prefix.count else { return nil }
        return String(id.dropFirst(prefix.count))
    }
}
