/// Reads the plain YAML that config files are written in straight into a `YAMLDocument`, and
/// gives up on anything else, which the loader then parses with Yams as before.
///
/// Why: building Yams' node tree (an event object, a tag object and enum copies per node, a
/// dictionary of the keys of every mapping) and freeing it again took more than half the time
/// of loading 10,000 agreement files. This reads a file in one pass over its bytes.
///
/// What it reads, and nothing more:
/// - block mappings whose keys are plain words (`[A-Za-z0-9_][A-Za-z0-9_.-]*`), with the value on
///   the key's line or, for a collection, on the lines below, indented more;
/// - block sequences (`- item`), indented under their key, whose items are on the dash's line;
/// - flow mappings and sequences (`{a: b}`, `[a, b]`), each on one line;
/// - scalars on one line: plain, double-quoted without escapes, single-quoted (`''` for `'`);
/// - comments and blank lines, spaces for indentation, `\n` line ends.
/// Anything else gives up: tabs, `\r`, control characters and Unicode line separators, document
/// markers and directives, anchors, aliases, tags, block scalars, explicit keys, empty values,
/// escapes, a scalar or collection over several lines, duplicate keys, and every error. For what
/// it reads it gives the document Yams would give, node for node, with the same texts, styles
/// and positions (line, and column in Unicode scalars); the tests hold the two side by side.
struct YAMLSubsetParser {
    /// A line that is neither blank nor a comment.
    private struct Line {
        /// 1-based, counting every line of the file.
        var number: Int
        var start: Int
        var end: Int
        /// The leading spaces.
        var indent: Int
    }

    /// Thrown to give up; the caller falls back to Yams.
    private struct Unsupported: Error {}

    private let bytes: UnsafeBufferPointer<UInt8>
    private var lines: [Line] = []
    /// Collections open around the current one; deep nesting is left to Yams.
    private var depth = 0
    private var items: [YAMLDocument.Item] = []
    private var children: [Int] = []

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The document of `text`, or nil when it is not in the subset.
    static func parse(_ text: String, file: String) -> YAMLDocument? {
        var text = text
        return text.withUTF8 { bytes in
            var parser = YAMLSubsetParser(bytes: bytes)
            do {
                try parser.splitLines()
                guard let first = parser.lines.first, first.indent == 0 else { return nil }
                var index = 0
                _ = try parser.block(&index, indent: 0)
                guard index == parser.lines.count else { return nil }
                return YAMLDocument(file: file, items: parser.items, children: parser.children)
            } catch {
                return nil
            }
        }
    }

    // MARK: Lines

    /// Finds the lines with content, and refuses bytes and line starts outside the subset.
    private mutating func splitLines() throws(Unsupported) {
        var number = 1
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            try checkCharacters(start..<end)
            var indent = 0
            while start + indent < end && bytes[start + indent] == 0x20 { indent += 1 }
            let first = start + indent
            if first < end && bytes[first] != UInt8(ascii: "#") {
                // Directives and document markers, at the start of a line.
                if indent == 0 {
                    if bytes[first] == UInt8(ascii: "%") { throw Unsupported() }
                    if starts(first, with: "---") || starts(first, with: "...") { throw Unsupported() }
                }
                lines.append(Line(number: number, start: start, end: end, indent: indent))
            }
            number += 1
            start = end + 1
        }
    }

    /// Only printable characters on one line: no tab, `\r` or other control character, no NEL
    /// (C2 85), C1 control, U+2028/U+2029 (line breaks to YAML), BOM or U+FFFE/U+FFFF.
    private func checkCharacters(_ range: Range<Int>) throws(Unsupported) {
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            // Printable ASCII, nearly every byte of a config, needs no more looks.
            if byte >= 0x20 && byte < 0x7F {
                index += 1
                continue
            }
            if byte < 0x20 || byte == 0x7F { throw Unsupported() }
            if byte == 0xC2, index + 1 < range.upperBound, (0x80...0x9F).contains(bytes[index + 1]) {
                throw Unsupported()
            }
            if byte == 0xE2, index + 2 < range.upperBound, bytes[index + 1] == 0x80,
                bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9
            {
                throw Unsupported()
            }
            if byte == 0xEF, index + 2 < range.upperBound,
                (bytes[index + 1] == 0xBB && bytes[index + 2] == 0xBF)
                    || (bytes[index + 1] == 0xBF && (bytes[index + 2] == 0xBE || bytes[index + 2] == 0xBF))
            {
                throw Unsupported()
            }
            index += 1
        }
    }

    private func starts(_ index: Int, with text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return text.withUTF8Buffer { prefix in
            prefix.indices.allSatisfy { bytes[index + $0] == prefix[$0] }
        }
    }

    /// The position of byte `index` of `line`: YAML counts columns in Unicode scalars.
    private func position(_ index: Int, on line: Line) -> Position {
        var column = 1
        for offset in line.start..<index where bytes[offset] & 0xC0 != 0x80 { column += 1 }
        return Position(line: line.number, column: column)
    }

    // MARK: Block collections

    /// The block mapping or sequence starting on line `index` at `indent`; moves `index` past it.
    private mutating func block(_ index: inout Int, indent: Int) throws(Unsupported) -> Int {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 64 else { throw Unsupported() }
        let line = lines[index]
        let first = line.start + indent
        if bytes[first] == UInt8(ascii: "-") { return try sequence(&index, indent: indent) }
        return try mapping(&index, at: first)
    }

    /// The length of the block mapping key (`word:` and a space or the line's end) at `at`, if one starts there.
    private func keyLength(at: Int, end: Int) -> Int? {
        func isWord(_ byte: UInt8, first: Bool) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || (!first && (byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")))
        }
        var index = at
        while index < end && isWord(bytes[index], first: index == at) { index += 1 }
        // libyaml refuses a key longer than 1024 characters; long keys are left to it.
        guard index > at, index - at <= 1000, index < end, bytes[index] == UInt8(ascii: ":"),
            index + 1 == end || bytes[index + 1] == 0x20
        else { return nil }
        return index - at
    }

    /// A block mapping whose first key starts at byte `at` of line `index`; its keys are all in
    /// that column.
    private mutating func mapping(_ index: inout Int, at: Int) throws(Unsupported) -> Int {
        let column = at - lines[index].start
        let mapping = items.count
        items.append(YAMLDocument.Item(kind: .mapping, position: position(at, on: lines[index])))
        var pairs: [Int] = []
        var keys: [String] = []
        var keyStart = at
        while true {
            let line = lines[index]
            guard let length = keyLength(at: keyStart, end: line.end) else { throw Unsupported() }
            let key = string(keyStart..<(keyStart + length))
            // Yams refuses a mapping with a key twice; so does the subset, and Yams reports it.
            if keys.contains(key) { throw Unsupported() }
            keys.append(key)
            pairs.append(scalar(key, at: keyStart, on: line, quoted: false))
            let afterColon = skipSpaces(keyStart + length + 1, end: line.end)
            if afterColon == line.end || bytes[afterColon] == UInt8(ascii: "#") {
                // The value is the collection on the lines below, indented more.
                index += 1
                guard index < lines.count, lines[index].indent > column else { throw Unsupported() }
                pairs.append(try block(&index, indent: lines[index].indent))
            } else {
                pairs.append(try lineValue(at: afterColon, on: line))
                index += 1
            }
            guard index < lines.count, lines[index].indent >= column else { break }
            guard lines[index].indent == column, bytes[lines[index].start + column] != UInt8(ascii: "-") else {
                throw Unsupported()
            }
            keyStart = lines[index].start + column
        }
        close(mapping, pairs)
        return mapping
    }

    /// A block sequence whose dashes are in column `indent`.
    private mutating func sequence(_ index: inout Int, indent: Int) throws(Unsupported) -> Int {
        let sequence = items.count
        items.append(
            YAMLDocument.Item(kind: .sequence, position: position(lines[index].start + indent, on: lines[index])))
        var entries: [Int] = []
        while true {
            let line = lines[index]
            let dash = line.start + indent
            guard bytes[dash] == UInt8(ascii: "-"), dash + 1 < line.end, bytes[dash + 1] == 0x20 else {
                throw Unsupported()
            }
            let content = skipSpaces(dash + 1, end: line.end)
            guard content < line.end, bytes[content] != UInt8(ascii: "#"), bytes[content] != UInt8(ascii: "-") else {
                throw Unsupported()
            }
            if keyLength(at: content, end: line.end) != nil {
                entries.append(try mapping(&index, at: content))
            } else {
                entries.append(try lineValue(at: content, on: line))
                index += 1
            }
            guard index < lines.count, lines[index].indent >= indent else { break }
            guard lines[index].indent == indent else { throw Unsupported() }
        }
        close(sequence, entries)
        return sequence
    }

    /// Records a collection's children, now that they are known.
    private mutating func close(_ collection: Int, _ nodes: [Int]) {
        items[collection].first = children.count
        items[collection].count = nodes.count
        children.append(contentsOf: nodes)
    }

    // MARK: Values on one line

    /// The value starting at `at` that runs to the end of the line (a comment may follow it).
    private mutating func lineValue(at: Int, on line: Line) throws(Unsupported) -> Int {
        var index = at
        let value: Int
        switch bytes[at] {
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "'"):
            value = try flowValue(&index, on: line)
        default:
            // A plain scalar in block context: to the end of the line or a comment, and without
            // `: ` (which Yams refuses here) or a character that cannot start one.
            guard canStartPlain(bytes[at]) else { throw Unsupported() }
            var end = at
            while end < line.end {
                if bytes[end] == UInt8(ascii: ":") && (end + 1 == line.end || bytes[end + 1] == 0x20) {
                    throw Unsupported()
                }
                if bytes[end] == 0x20 && end + 1 < line.end && bytes[end + 1] == UInt8(ascii: "#") { break }
                end += 1
            }
            while bytes[end - 1] == 0x20 { end -= 1 }
            index = end
            value = scalar(string(at..<end), at: at, on: line, quoted: false)
        }
        // Then only spaces, and a comment after at least one of them.
        let rest = skipSpaces(index, end: line.end)
        guard rest == line.end || (rest > index && bytes[rest] == UInt8(ascii: "#")) else { throw Unsupported() }
        return value
    }

    /// A value in flow style (also a quoted scalar in block context); moves `index` past it.
    private mutating func flowValue(_ index: inout Int, on line: Line) throws(Unsupported) -> Int {
        guard index < line.end else { throw Unsupported() }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try flowCollection(&index, on: line, mapping: true)
        case UInt8(ascii: "["): return try flowCollection(&index, on: line, mapping: false)
        case UInt8(ascii: "\""):
            let start = index
            var end = index + 1
            while end < line.end && bytes[end] != UInt8(ascii: "\"") {
                // Escapes are left to Yams.
                if bytes[end] == UInt8(ascii: "\\") { throw Unsupported() }
                end += 1
            }
            guard end < line.end else { throw Unsupported() }
            index = end + 1
            return scalar(string((start + 1)..<end), at: start, on: line, quoted: true)
        case UInt8(ascii: "'"):
            let start = index
            var text: [UInt8] = []
            var end = index + 1
            while true {
                guard end < line.end else { throw Unsupported() }
                if bytes[end] == UInt8(ascii: "'") {
                    guard end + 1 < line.end && bytes[end + 1] == UInt8(ascii: "'") else { break }
                    end += 1
                }
                text.append(bytes[end])
                end += 1
            }
            index = end + 1
            return scalar(String(decoding: text, as: UTF8.self), at: start, on: line, quoted: true)
        default:
            // A plain scalar in flow context: up to `,`, a bracket or the end of the line. A `:`
            // (a key's, or one Yams reads by rules of its own) and a comment are left to Yams.
            let start = index
            guard canStartPlain(bytes[start]) else { throw Unsupported() }
            var end = start
            while end < line.end {
                let byte = bytes[end]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") { break }
                if byte == UInt8(ascii: ":") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                    throw Unsupported()
                }
                if byte == UInt8(ascii: "#") && bytes[end - 1] == 0x20 { throw Unsupported() }
                end += 1
            }
            guard end < line.end else { throw Unsupported() }
            index = end
            while bytes[end - 1] == 0x20 { end -= 1 }
            return scalar(string(start..<end), at: start, on: line, quoted: false)
        }
    }

    /// `{key: value, …}` or `[value, …]` on one line, from the bracket at `index`.
    private mutating func flowCollection(_ index: inout Int, on line: Line, mapping: Bool) throws(Unsupported)
        -> Int
    {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 64 else { throw Unsupported() }
        let collection = items.count
        items.append(YAMLDocument.Item(kind: mapping ? .mapping : .sequence, position: position(index, on: line)))
        let closing = mapping ? UInt8(ascii: "}") : UInt8(ascii: "]")
        var nodes: [Int] = []
        var keys: [String] = []
        index = skipSpaces(index + 1, end: line.end)
        guard index < line.end else { throw Unsupported() }
        if bytes[index] != closing {
            while true {
                if mapping {
                    // A key is a plain word followed by `: `.
                    let start = index
                    while index < line.end && bytes[index] != UInt8(ascii: ":") && bytes[index] != 0x20
                        && bytes[index] != UInt8(ascii: ",") && bytes[index] != closing
                    {
                        index += 1
                    }
                    guard let length = keyLength(at: start, end: line.end), start + length == index else {
                        throw Unsupported()
                    }
                    let key = string(start..<index)
                    if keys.contains(key) { throw Unsupported() }
                    keys.append(key)
                    nodes.append(scalar(key, at: start, on: line, quoted: false))
                    index = skipSpaces(index + 1, end: line.end)
                }
                nodes.append(try flowValue(&index, on: line))
                index = skipSpaces(index, end: line.end)
                guard index < line.end else { throw Unsupported() }
                if bytes[index] == closing { break }
                guard bytes[index] == UInt8(ascii: ",") else { throw Unsupported() }
                index = skipSpaces(index + 1, end: line.end)
                // A trailing comma, an empty entry: left to Yams.
                guard index < line.end, bytes[index] != closing, bytes[index] != UInt8(ascii: ",") else {
                    throw Unsupported()
                }
            }
        }
        index += 1
        close(collection, nodes)
        return collection
    }

    // MARK: Scalars

    /// A plain scalar may start with none of YAML's indicators (or a space).
    private func canStartPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"),
            UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"),
            UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"), UInt8(ascii: " "):
            return false
        default:
            return true
        }
    }

    private mutating func scalar(_ text: String, at: Int, on line: Line, quoted: Bool) -> Int {
        var item = YAMLDocument.Item(kind: .scalar, position: position(at, on: line), string: text)
        item.isQuoted = quoted
        item.isStringTagged = true
        if !quoted {
            switch text {
            case "", "~", "null", "Null", "NULL": item.isNull = true
            default: break
            }
        }
        items.append(item)
        return items.count - 1
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func skipSpaces(_ index: Int, end: Int) -> Int {
        var index = index
        while index < end && bytes[index] == 0x20 { index += 1 }
        return index
    }
}
