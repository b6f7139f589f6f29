/// Reading the short ASCII texts of a config (dates, times, lead times) as bytes.
///
/// Those parsers accept nothing but ASCII: every part of what they read must be a number, so a
/// text with any other character is refused whichever way it is read, and on ASCII text bytes
/// and `Character`s are the same. Reading `Character`s (grapheme breaks, Unicode properties per
/// character) was a large share of loading thousands of agreement files.
enum ASCIIText {
    /// Calls `body` with the UTF-8 bytes of `text`, or returns nil when one is not ASCII.
    static func withBytes<Result>(
        _ text: some StringProtocol, _ body: (UnsafeBufferPointer<UInt8>) -> Result?
    ) -> Result? {
        let read = { (bytes: UnsafeBufferPointer<UInt8>) -> Result? in
            bytes.allSatisfy { $0 < 0x80 } ? body(bytes) : nil
        }
        if let result = text.utf8.withContiguousStorageIfAvailable(read) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(read)
    }

    /// The byte ranges between `separator`s, empty ones included (`split(separator:
    /// omittingEmptySubsequences: false)`).
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, separator: UInt8) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = 0
        for index in bytes.indices where bytes[index] == separator {
            parts.append(start..<index)
            start = index + 1
        }
        parts.append(start..<bytes.count)
        return parts
    }

    /// `0`…`9` only, as a number; nil for anything else, an empty range or overflow.
    static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        var value = 0
        for index in range {
            let digit = Int(bytes[index]) - 0x30
            guard digit >= 0 && digit <= 9 else { return nil }
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times10.addingReportingOverflow(digit)
            guard !overflow && !overflowSum else { return nil }
            value = sum
        }
        return value
    }

    /// What `Int(_: String)` reads: digits after an optional `+` or `-`.
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard let first = range.first else { return nil }
        switch bytes[first] {
        case UInt8(ascii: "+"):
            return digits(bytes, (first + 1)..<range.upperBound)
        case UInt8(ascii: "-"):
            // Through the negative value, so that Int.min reads as Int does.
            guard !range.dropFirst().isEmpty else { return nil }
            var value = 0
            for index in (first + 1)..<range.upperBound {
                let digit = Int(bytes[index]) - 0x30
                guard digit >= 0 && digit <= 9 else { return nil }
                let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
                let (difference, overflowDifference) = times10.subtractingReportingOverflow(digit)
                guard !overflow && !overflowDifference else { return nil }
                value = difference
            }
            return value
        default:
            return digits(bytes, range)
        }
    }
}
