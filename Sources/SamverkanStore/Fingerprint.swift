import Foundation
import SamverkanCore

/// A stable 64-bit FNV-1a hash of everything the planner says about a deadline, so reconcile
/// skips deadlines that did not change without comparing them field by field.
///
/// Stable across runs and builds (unlike `Hasher`, which is seeded per process): it is stored.
struct Fingerprint {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { mix(byte) }
        mix(0x1f)  // unit separator: "ab","c" and "a","bc" differ
    }

    mutating func add(_ number: Double) { add(number.bitPattern) }

    mutating func add(_ count: Int) { add(UInt64(bitPattern: Int64(count))) }

    private mutating func add(_ bits: UInt64) {
        var bits = bits
        for _ in 0..<8 {
            mix(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    private mutating func mix(_ byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* 0x100_0000_01b3
    }

    static func of(_ deadline: Deadline) -> Int64 {
        var hash = Fingerprint()
        for field in [deadline.id, deadline.agreement, deadline.obligation, deadline.kind, deadline.title] {
            hash.add(field)
        }
        hash.add(deadline.nominal.description)
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
        let prefix = deadlineID + "/" + slot + "/"
        guard id.hasPrefix(prefix), id.count > prefix.count else { return nil }
        return String(id.dropFirst(prefix.count))
    }
}
