import Yams

/// A parsed YAML document as plain values, converted once from Yams' node tree or read
/// directly by `YAMLSubsetParser`.
///
/// Yams' nodes are enums around strings, tag objects and weak anchor references, and each
/// look-up copied one (several retains and a weak reference): reading 10,000 agreement files
/// spent more time in those copies than in building the tree. The readers only need each
/// node's kind, position, text and a few flags, kept here in arrays.
final class YAMLDocument: Sendable {
    enum Kind: UInt8, Sendable {
        case scalar, sequence, mapping, alias
    }

    struct Item: Sendable {
        var kind: Kind
        var position: Position
        /// Yams' `Node.string`: a scalar's text (mappings rarely have one, sequences never).
        var string: String?
        /// A single- or double-quoted scalar.
        var isQuoted: Bool
        /// A null scalar: `~`, `null` or empty in plain style, or tagged `!!null`.
        var isNull: Bool
        /// A scalar whose tag resolves to a string (`!!str`, none or `!`), as a mapping key
        /// must be for Yams' `node["key"]` to find it.
        var isStringTagged: Bool
        /// A scalar tagged `!!value`, which gives the mapping it is a key of a text.
        var isValueTagged: Bool
        /// The children in `children`: a sequence's items, or a mapping's keys and values
        /// alternating.
        var first: Int
        var count: Int
    }

    let file: String
    let items: [Item]
    let children: [Int]

    /// A document from its items in the order above, the root first.
    init(file: String, items: [Item], children: [Int]) {
        self.file = file
        self.items = items
        self.children = children
    }

    init(_ root: Node, file: String) {
        self.file = file
        var items: [Item] = []
        var children: [Int] = []
        _ = Self.add(root, to: &items, &children)
        self.items = items
        self.children = children
    }

    /// Adds `node` and everything under it; returns its index.
    private static func add(_ node: Node, to items: inout [Item], _ children: inout [Int]) -> Int {
        let index = items.count
        func position(_ mark: Mark?) -> Position { mark.map { Position(line: $0.line, column: $0.column) } ?? .start }
        switch node {
        case .scalar(let scalar):
            items.append(scalarItem(scalar, position: position(scalar.mark)))
        case .sequence(let sequence):
            items.append(
                Item(kind: .sequence, position: position(sequence.mark), first: children.count, count: sequence.count))
            // The children's slots first, then the children, which append their own.
            let first = children.count
            children.append(contentsOf: repeatElement(0, count: sequence.count))
            for (offset, child) in sequence.enumerated() {
                children[first + offset] = add(child, to: &items, &children)
            }
        case .mapping(let mapping):
            items.append(
                Item(kind: .mapping, position: position(mapping.mark), first: children.count, count: 2 * mapping.count))
            let first = children.count
            children.append(contentsOf: repeatElement(0, count: 2 * mapping.count))
            // By index: iterating a mapping builds an array of its pairs first.
            var hasValueKey = false
            for (offset, pairIndex) in mapping.indices.enumerated() {
                let pair = mapping[pairIndex]
                let key = add(pair.key, to: &items, &children)
                children[first + 2 * offset] = key
                children[first + 2 * offset + 1] = add(pair.value, to: &items, &children)
                hasValueKey = hasValueKey || items[key].isValueTagged
            }
            // A mapping has a text only through a key tagged `!!value`; Yams' own look-up is costly.
            if hasValueKey { items[index].string = String.construct(from: node) }
        case .alias(let alias):
            items.append(Item(kind: .alias, position: position(alias.mark)))
        }
        return index
    }

    private static func scalarItem(_ scalar: Node.Scalar, position: Position) -> Item {
        var item = Item(kind: .scalar, position: position, string: scalar.string)
        item.isQuoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        if scalar.style == .plain {
            switch scalar.string {
            case "", "~", "null", "Null", "NULL": item.isNull = true
            default: break
            }
        }
        // Most scalars have no tag: no comparisons of long tag names for them.
        let tag = scalar.tag.description
        if tag.isEmpty {
            item.isStringTagged = true
        } else {
            item.isNull = item.isNull || tag == Tag.Name.null.rawValue
            item.isStringTagged = tag == "!" || tag == Tag.Name.str.rawValue
            item.isValueTagged = tag == Tag.Name.value.rawValue
        }
        return item
    }
}

extension YAMLDocument.Item {
    init(kind: YAMLDocument.Kind, position: Position, string: String? = nil, first: Int = 0, count: Int = 0) {
        self.init(
            kind: kind, position: position, string: string, isQuoted: false, isNull: false, isStringTagged: false,
            isValueTagged: false, first: first, count: count)
    }
}

/// A node of a YAML document with the file it came from, read with diagnostics instead of
/// exceptions.
///
/// Every getter reports a problem at the node's own line and column and returns nil, so a
/// whole file is checked in one pass and every error is shown at once.
struct YAMLValue {
    let document: YAMLDocument
    let index: Int

    /// The document's root.
    init(root document: YAMLDocument) { self.init(document: document, index: 0) }

    private init(document: YAMLDocument, index: Int) {
        self.document = document
        self.index = index
    }

    var file: String { document.file }

    var position: Position { document.items[index].position }

    /// A single- or double-quoted scalar: its content starts one column after the node.
    var isQuoted: Bool { document.items[index].isQuoted }

    var isNull: Bool { document.items[index].isNull }

    private var kind: YAMLDocument.Kind { document.items[index].kind }

    /// The children as values.
    private var children: [YAMLValue] {
        let item = document.items[index]
        return document.children[item.first..<(item.first + item.count)].map {
            YAMLValue(document: document, index: $0)
        }
    }

    /// What the node is, for "expected a string, found a list" messages.
    var shape: String {
        switch kind {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            if isNull { return "null" }
            return "'\(document.items[index].string ?? "")'"
        }
    }

    /// The items of a list; none for anything else (Yams' `Node.array()`).
    var items: [YAMLValue] { kind == .sequence ? children : [] }

    /// The value of `key` in a mapping, for a key written as a plain string; nil for anything
    /// else (Yams' `node["key"]`, which takes the last such key).
    subscript(key: String) -> YAMLValue? {
        guard kind == .mapping else { return nil }
        let item = document.items[index]
        for pair in stride(from: item.first + item.count - 2, through: item.first, by: -2) {
            let keyItem = document.items[document.children[pair]]
            if keyItem.kind == .scalar && keyItem.isStringTagged && keyItem.string == key {
                return YAMLValue(document: document, index: document.children[pair + 1])
            }
        }
        return nil
    }

    /// Yams' `Node.string`: a scalar's text.
    var text: String? { document.items[index].string }

    // `what` names the value in error messages; it is only built when there is one to report
    // (reading 10,000 agreement files built millions of these strings for nothing).

    func string(_ log: inout DiagnosticLog, what: @autoclosure () -> String) -> String? {
        guard kind == .scalar, !isNull else {
            log.error(file, position, "\(what()) must be a string, found \(shape)")
            return nil
        }
        return document.items[index].string
    }

    func int(_ log: inout DiagnosticLog, what: @autoclosure () -> String) -> Int? {
        guard kind == .scalar, let value = document.items[index].string.flatMap({ Int($0) }) else {
            log.error(file, position, "\(what()) must be a whole number, found \(shape)")
            return nil
        }
        return value
    }

    func list(_ log: inout DiagnosticLog, what: @autoclosure () -> String) -> [YAMLValue]? {
        guard kind == .sequence else {
            log.error(file, position, "\(what()) must be a list, found \(shape)")
            return nil
        }
        return children
    }

    /// A list of strings; a single string is accepted as a list of one.
    func strings(_ log: inout DiagnosticLog, what: @autoclosure () -> String) -> [String]? {
        if kind == .scalar, !isNull, let one = string(&log, what: what()) { return [one] }
        guard let items = list(&log, what: what()) else { return nil }
        return items.compactMap { $0.string(&log, what: "each entry of \(what())") }
    }

    func mapping(_ log: inout DiagnosticLog, what: @autoclosure () -> String, allowed: [String]) -> YAMLMapping? {
        guard kind == .mapping else {
            log.error(file, position, "\(what()) must be a mapping, found \(shape)")
            return nil
        }
        let item = document.items[index]
        var entries: [(key: String, keyPosition: Position, value: YAMLValue)] = []
        entries.reserveCapacity(item.count / 2)
        // Every key seen, allowed or not. A config's mappings are small, and a list scanned is
        // cheaper for them than a dictionary built and hashed.
        var seen: [(key: String, position: Position)] = []
        seen.reserveCapacity(item.count / 2)
        for pair in stride(from: item.first, to: item.first + item.count, by: 2) {
            let key = document.items[document.children[pair]]
            guard let name = key.string else {
                log.error(file, key.position, "keys in \(what()) must be strings")
                continue
            }
            if let first = seen.first(where: { $0.key == name })?.position {
                log.error(file, key.position, "duplicate key '\(name)' in \(what()) (first at line \(first.line))")
                continue
            }
            seen.append((name, key.position))
            if !allowed.isEmpty && !allowed.contains(name) {
                var message = "unknown key '\(name)' in \(what())"
                if let close = suggestion(for: name, among: allowed) {
                    message += "; did you mean '\(close)'?"
                } else {
                    message += "; expected one of: \(allowed.joined(separator: ", "))"
                }
                log.error(file, key.position, message)
                continue
            }
            entries.append((name, key.position, YAMLValue(document: document, index: document.children[pair + 1])))
        }
        return YAMLMapping(entries: entries, position: position, file: file)
    }
}

/// A YAML mapping whose keys were checked against the allowed set.
struct YAMLMapping {
    var entries: [(key: String, keyPosition: Position, value: YAMLValue)]
    var position: Position
    var file: String

    subscript(key: String) -> YAMLValue? {
        // By index: `first(where:)` would copy every entry it looks at.
        for index in entries.indices where entries[index].key == key { return entries[index].value }
        return nil
    }

    /// The value of a required key, or an error at the mapping when it is missing.
    func required(_ key: String, _ log: inout DiagnosticLog, what: @autoclosure () -> String) -> YAMLValue? {
        if let value = self[key] { return value }
        log.error(file, position, "\(what()) is missing the required key '\(key)'")
        return nil
    }
}
