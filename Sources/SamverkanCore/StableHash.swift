/// 64-bit FNV-1a: a hash that is the same in every run and build (unlike `Hasher`, which is
/// seeded per process), for fingerprints that are stored or compared across restarts.
public struct StableHash: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// Mixes in the UTF-8 of `text` and then `terminator`, so that "ab","c" and "a","bc" differ.
    public mutating func add(_ text: String, terminator: UInt8) {
        // Over the string's own storage when it has one: a config's fingerprint hashes every
        // file, and stepping through `utf8` a byte at a time cost several times more.
        let mixed: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes { mix(byte) }
        }
        if mixed == nil {
            for byte in text.utf8 { mix(byte) }
        }
        mix(terminator)
    }

    /// Mixes in the eight bytes of `bits`, least significant first.
    public mutating func add(bits: UInt64) {
        var bits = bits
        for _ in 0..<8 {
            mix(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    public mutating func mix(_ byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* 0x100_0000_01b3
    }

    /// Sixteen lower-case hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
