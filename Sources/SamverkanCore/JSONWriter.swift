/// JSON written straight into bytes, for the answers the socket serves most (`GET
/// /v1/deadlines`): `JSONEncoder` spends most of such a request building and sorting
/// dictionaries. The output is byte for byte what `JSONEncoder` writes with `.sortedKeys` and
/// `.withoutEscapingSlashes`, so clients see no difference; callers write keys in sorted order
/// (a test compares the two).
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Per open object or array: whether it has a member yet.
    private var hasMember: [Bool] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        hasMember.append(false)
    }

    mutating func endObject() {
        hasMember.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        hasMember.append(false)
    }

    mutating func endArray() {
        hasMember.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    /// A member's name; its value follows.
    mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        valueFollowsKey = true
    }

    /// A member whose value is a string.
    mutating func member(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    /// A member whose value is an integer.
    mutating func member(_ name: String, _ value: Int) {
        key(name)
        int(value)
    }

    mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    mutating func int(_ value: Int) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Set by `key(_:)`: the next value is that member's, with no comma before it.
    private var valueFollowsKey = false

    private mutating func separate() {
        if valueFollowsKey {
            valueFollowsKey = false
            return
        }
        guard let last = hasMember.indices.last else { return }
        if hasMember[last] { bytes.append(UInt8(ascii: ",")) }
        hasMember[last] = true
    }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Ids, times and titles need no escape: copied whole.
        var text = text
        let copied = text.withUTF8 { utf8 in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension DeadlineView {
    /// A listing as `JSONEncoder` would write it, or nil when a view carries deliveries or
    /// completions (only `GET /v1/deadlines/{id}` has those; it is encoded the usual way).
    public static func listingJSON(_ views: [DeadlineView]) -> [UInt8]? {
        guard views.allSatisfy({ $0.deliveries == nil && $0.completions == nil }) else { return nil }
        var writer = JSONWriter(capacity: 64 + views.count * 512)
        writer.beginArray()
        for view in views { view.write(to: &writer) }
        writer.endArray()
        return writer.bytes
    }

    /// Keys in sorted order, as `.sortedKeys` writes them.
    func write(to writer: inout JSONWriter) {
        precondition(deliveries == nil && completions == nil, "a detailed view is encoded with JSONEncoder")
        writer.beginObject()
        writer.member("agreement", agreement)
        writer.member("due", due)
        if let explanation {
            writer.key("explanation")
            writer.strings(explanation)
        }
        writer.member("id", id)
        writer.member("kind", kind)
        writer.key("notices")
        writer.beginArray()
        for notice in notices { notice.write(to: &writer) }
        writer.endArray()
        writer.member("obligation", obligation)
        writer.member("state", state)
        writer.member("title", title)
        writer.endObject()
    }
}

extension NoticeView {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("at", at)
        writer.member("id", id)
        writer.member("slot", slot)
        writer.member("state", state)
        writer.endObject()
    }
}

extension StatusView {
    /// `GET /v1/status` as `JSONEncoder` would write it: asked thousands of times a second by
    /// monitoring, where the encoder was a third of the cost.
    public func json() -> [UInt8]? {
        if let nextDue, nextDue.deliveries != nil || nextDue.completions != nil { return nil }
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.key("config")
        writer.beginObject()
        writer.member("agreements", config.agreements)
        writer.member("directory", config.directory)
        writer.member("fingerprint", config.fingerprint)
        writer.member("generation", config.generation)
        writer.member("loaded_at", config.loadedAt)
        writer.member("timezone", config.timezone)
        writer.member("warnings", config.warnings)
        writer.endObject()
        writer.key("deadlines")
        writer.beginObject()
        writer.member("dead_letters", deadlines.deadLetters)
        writer.member("done", deadlines.done)
        writer.member("failed_notices", deadlines.failedNotices)
        writer.member("pending_notices", deadlines.pendingNotices)
        writer.member("planned", deadlines.planned)
        writer.member("sent_notices", deadlines.sentNotices)
        writer.endObject()
        if let lastReloadError {
            writer.member("last_reload_error", lastReloadError)
        }
        if let nextDue {
            writer.key("next_due")
            nextDue.write(to: &writer)
        }
        if let nextNotice {
            writer.key("next_notice")
            nextNotice.write(to: &writer)
        }
        writer.member("pid", Int(pid))
        writer.member("started_at", startedAt)
        writer.member("status", status)
        writer.member("uptime_seconds", uptimeSeconds)
        writer.member("version", version)
        writer.endObject()
        return writer.bytes
    }
}
