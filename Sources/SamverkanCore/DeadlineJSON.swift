/// Writes deadlines as JSON by hand, one deadline per line inside the array: fast enough for a
/// plan of a million deadlines (Foundation's JSONEncoder took most of `plan --json`'s time), and
/// one line per deadline keeps the golden file's diffs readable. Keys follow `design.md`'s order.
public struct DeadlineJSON {
    public private(set) var bytes: [UInt8] = []
    private var count = 0
    let zone: Zone

    public init(zone: Zone, reservingCapacity capacity: Int = 1 << 20) {
        self.zone = zone
        bytes.reserveCapacity(capacity)
    }

    /// Opens the array.
    public mutating func begin() { bytes.append(UInt8(ascii: "[")) }

    /// Closes the array.
    public mutating func end() { bytes.append(contentsOf: count == 0 ? Array("]\n".utf8) : Array("\n]\n".utf8)) }

    /// Takes the bytes written so far (for streaming them out in pieces).
    public mutating func drain() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    public mutating func append(_ deadline: Deadline, state: String, noticeState: String, explain: Bool) {
        bytes.append(contentsOf: count == 0 ? [0x0A] : [0x2C, 0x0A])
        count += 1
        field("id", deadline.id, first: true)
        field("agreement", deadline.agreement)
        field("obligation", deadline.obligation)
        field("kind", deadline.kind)
        field("title", deadline.title)
        field("due", zone.rfc3339(deadline.due))
        field("state", state)
        bytes.append(contentsOf: Array(#","notices":["#.utf8))
        for (index, notice) in deadline.notices.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            field("id", notice.id, first: true)
            field("slot", notice.slot)
            field("at", zone.rfc3339(notice.at))
            field("state", noticeState)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
        if explain {
            bytes.append(contentsOf: Array(#","explanation":["#.utf8))
            for (index, line) in deadline.explanation.enumerated() {
                if index > 0 { bytes.append(0x2C) }
                string(line)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func field(_ key: String, _ value: String, first: Bool = false) {
        bytes.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
        string(key)
        bytes.append(UInt8(ascii: ":"))
        string(value)
    }

    /// A JSON string: quotes, backslashes and control characters escaped; UTF-8 as is.
    private mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        Self.appendEscaped(text, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// The inside of a JSON string: quotes, backslashes and control characters escaped, other
    /// bytes (UTF-8 included) as they are. Escaping goes byte by byte, so the escape of a
    /// concatenation is the concatenation of the escapes, which lets `DeadlineStream` escape the
    /// pieces of a deadline once and join them many times.
    static func appendEscaped(_ text: String, to bytes: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                ])
            default: bytes.append(byte)
            }
        }
    }
}
