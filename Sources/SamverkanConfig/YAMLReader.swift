import Yams

/// A YAML node with the file it came from, read with diagnostics instead of exceptions.
///
/// Every getter reports a problem at the node's own line and column and returns nil, so a
/// whole file is checked in one pass and every error is shown at once.
struct YAMLValue {
    let node: Node
    let file: String

    var position: Position {
        guard let mark = node.mark else { return .start }
        return Position(line: mark.line, column: mark.column)
    }

    /// A single- or double-quoted scalar: its content starts one column after the node.
    var isQuoted: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .singleQuoted || scalar.style == .doubleQuoted
    }

    var isNull: Bool {
        guard case .scalar(let scalar) = node else { return false }
        if scalar.style == .plain {
            switch scalar.string {
            case "", "~", "null", "Null", "NULL": return true
            default: break
            }
        }
        return scalar.tag.description == Tag.Name.null.rawValue
    }

    /// What the node is, for "expected a string, found a list" messages.
    var shape: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            if isNull { return "null" }
            return "'\(node.string ?? "")'"
        }
    }

    // `what` names the value in error messages; it is only built when there is one to report
    // (reading 10,000 agreement files built millions of these strings for nothing).

    func string(_ log: inout DiagnosticLog, what: @autoclosure () -> String) -> String? {
        guard case .scalar(let scalar) = node, !isNull else {
            log.error(file, position, "\(what()) must be a string, found \(shape)")
            return nil
        }
        return scalar.string
    }

    func int(_ log: inout DiagnosticLog, what: @autoclosure () -> String) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            log.error(file, position, "\(what()) must be a whole number, found \(shape)")
            return nil
        }
        return value
    }

    func list(_ log: inout DiagnosticLog, what: @autoclosure () -> String) -> [YAMLValue]? {
        guard case .sequence(let sequence) = node else {
            log.error(file, position, "\(what()) must be a list, found \(shape)")
            return nil
        }
        return sequence.map { YAMLValue(node: $0, file: file) }
    }

    /// A list of strings; a single string is accepted as a list of one.
    func strings(_ log: inout DiagnosticLog, what: @autoclosure () -> String) -> [String]? {
        if case .scalar = node, !isNull, let one = string(&log, what: what()) { return [one] }
        guard let items = list(&log, what: what()) else { return nil }
        return items.compactMap { $0.string(&log, what: "each entry of \(what())") }
    }

    func mapping(_ log: inout DiagnosticLog, what: @autoclosure () -> String, allowed: [String]) -> YAMLMapping? {
        guard case .mapping(let mapping) = node else {
            log.error(file, position, "\(what()) must be a mapping, found \(shape)")
            return nil
        }
        var entries: [(key: String, keyPosition: Position, value: YAMLValue)] = []
        entries.reserveCapacity(mapping.count)
        // Every key seen, allowed or not. A config's mappings are small, and a list scanned is
        // cheaper for them than a dictionary built and hashed.
        var seen: [(key: String, position: Position)] = []
        seen.reserveCapacity(mapping.count)
        for (keyNode, valueNode) in mapping {
            let key = YAMLValue(node: keyNode, file: file)
            guard let name = keyNode.string else {
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
            entries.append((name, key.position, YAMLValue(node: valueNode, file: file)))
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
        entries.first { $0.key == key }?.value
    }

    /// The value of a required key, or an error at the mapping when it is missing.
    func required(_ key: String, _ log: inout DiagnosticLog, what: @autoclosure () -> String) -> YAMLValue? {
        if let value = self[key] { return value }
        log.error(file, position, "\(what()) is missing the required key '\(key)'")
        return nil
    }
}
