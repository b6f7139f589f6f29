/// One problem found in config, reported compiler style: `FILE:LINE:COLUMN: error: MESSAGE`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public var file: String
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String

    public init(file: String, line: Int, column: Int, severity: Severity, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }
}

/// The config could not be loaded: every problem found, errors and warnings, in file order.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String {
        let count = errors.count
        let lines = diagnostics.map(\.description)
        return (lines + ["\(count) error\(count == 1 ? "" : "s") in config"]).joined(separator: "\n")
    }
}

/// Collects diagnostics while a config is read, so every problem is reported at once.
struct DiagnosticLog: Sendable {
    private var collected: [Diagnostic] = []

    /// In file order (as the files were read), and by line and column within a file.
    var items: [Diagnostic] {
        var fileOrder: [String: Int] = [:]
        for item in collected where fileOrder[item.file] == nil { fileOrder[item.file] = fileOrder.count }
        return collected.enumerated().sorted { a, b in
            let left = (fileOrder[a.element.file] ?? 0, a.element.line, a.element.column, a.offset)
            let right = (fileOrder[b.element.file] ?? 0, b.element.line, b.element.column, b.offset)
            return left < right
        }.map(\.element)
    }

    mutating func error(_ file: String, _ at: Position, _ message: String) {
        collected.append(Diagnostic(file: file, line: at.line, column: at.column, severity: .error, message: message))
    }

    mutating func warning(_ file: String, _ at: Position, _ message: String) {
        collected.append(Diagnostic(file: file, line: at.line, column: at.column, severity: .warning, message: message))
    }

    var hasErrors: Bool { collected.contains { $0.severity == .error } }

    /// Takes over another log's diagnostics, after this one's.
    mutating func append(_ other: DiagnosticLog) { collected.append(contentsOf: other.collected) }
}

/// A line and column in a config file, 1-based.
struct Position: Sendable, Hashable {
    var line: Int
    var column: Int

    static let start = Position(line: 1, column: 1)
}

/// "did you mean …" for a misspelt key: the closest candidate within a small edit distance.
func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
    let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= max(2, word.count / 3) }
    return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars)
    let b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
