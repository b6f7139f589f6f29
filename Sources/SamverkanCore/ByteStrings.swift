/// Byte strings stored once each, end to end in one array, and named by number.
///
/// A large plan repeats a handful of titles, obligation ids and notice slots hundreds of
/// thousands of times. Kept as separate Swift strings, the 60,000 obligations of a big config
/// would cost more memory than their bytes, and a `[String: Int32]` index would hold a second
/// copy of every key; here the index is an open-addressing table of string numbers whose keys
/// are the stored bytes themselves.
struct ByteStrings: Sendable {
    /// Every string, end to end.
    private(set) var bytes: [UInt8] = []
    /// String `i` ends at `ends[i]` and starts where string `i - 1` ends (0 for the first).
    private var ends: [Int32] = []
    /// Linear probing: a string number + 1 in each used slot, 0 in a free one. The count is a
    /// power of two and kept at least twice the number of strings, so probes stay short.
    private var slots = [Int32](repeating: 0, count: 64)

    /// Where string `index` lies in ``bytes``.
    @inline(__always)
    func range(_ index: Int32) -> Range<Int> {
        let i = Int(index)
        return (i == 0 ? 0 : Int(ends[i - 1]))..<Int(ends[i])
    }

    /// The number of `piece`, storing it if it is new.
    mutating func intern(_ piece: [UInt8]) -> Int32 {
        let mask = slots.count - 1
        var slot = Self.hash(piece[...]) & mask
        while slots[slot] != 0 {
            let candidate = slots[slot] - 1
            if bytes[range(candidate)].elementsEqual(piece) { return candidate }
            slot = (slot + 1) & mask
        }
        precondition(bytes.count + piece.count <= Int(Int32.max), "more than 2 GB of strings")
        let index = Int32(ends.count)
        bytes.append(contentsOf: piece)
        ends.append(Int32(bytes.count))
        slots[slot] = index + 1
        if ends.count * 2 > slots.count { grow() }
        return index
    }

    /// Doubles the table and places every string again.
    private mutating func grow() {
        var larger = [Int32](repeating: 0, count: slots.count * 2)
        let mask = larger.count - 1
        for index in 0..<Int32(ends.count) {
            var slot = Self.hash(bytes[range(index)]) & mask
            while larger[slot] != 0 { slot = (slot + 1) & mask }
            larger[slot] = index + 1
        }
        slots = larger
    }

    /// 64-bit FNV-1a, as an index.
    private static func hash(_ piece: ArraySlice<UInt8>) -> Int {
        var hash = StableHash()
        for byte in piece { hash.mix(byte) }
        return Int(truncatingIfNeeded: hash.value)
    }
}
