import Foundation

/// JSON arrays of strings, written by hand: the reconcile of a large plan encodes one per
/// notice, and this is many times faster than `JSONEncoder` and always gives the same bytes.
enum JSONText {
    static func array(_ values: [String]) -> String {
        // Room for the usual case, nothing escaped, so that the appends never reallocate.
        var out = "["
        out.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            out += "\""
            // Role ids and most text need no escaping: copy them whole.
            if !needsEscaping(value) {
                out += value
                out += "\""
                continue
            }
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
            out += "\""
        }
        out += "]"
        return out
    }

    /// Whether `value` has a byte JSON escapes: a control character, `"` or `\`.
    private static func needsEscaping(_ value: String) -> Bool {
        func escaped(_ byte: UInt8) -> Bool { byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") }
        // Over the string's own storage when it has one: much quicker than stepping through `utf8`.
        return value.utf8.withContiguousStorageIfAvailable { $0.contains(where: escaped) }
            ?? value.utf8.contains(where: escaped)
    }

    /// The strings of an array `array(_:)` wrote. Listings read one per deadline and notice, so
    /// an array without escapes (nearly all) is split by hand; the rest go to `JSONDecoder`.
    static func strings(_ text: String) -> [String] {
        let bytes = text.utf8
        if !bytes.contains(UInt8(ascii: "\\")), let plain = plainStrings(bytes) { return plain }
        return (try? JSONDecoder().decode([String].self, from: Data(bytes))) ?? []
    }

    /// `["a","b"]` as written by `array(_:)` (no spaces, no escapes), or nil for anything else.
    private static func plainStrings(_ bytes: String.UTF8View) -> [String]? {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        guard bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]") else { return nil }
        var values: [String] = []
        var index = bytes.index(after: bytes.startIndex)
        let end = bytes.index(before: bytes.endIndex)
        while index < end {
            guard bytes[index] == quote else { return nil }
            let start = bytes.index(after: index)
            guard let close = bytes[start..<end].firstIndex(of: quote) else { return nil }
            values.append(String(Substring(bytes[start..<close])))
            index = bytes.index(after: close)
            if index < end {
                guard bytes[index] == comma else { return nil }
                index = bytes.index(after: index)
                guard index < end else { return nil }
            }
        }
        return values
    }
}
