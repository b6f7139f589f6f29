import Foundation
import Testing

@testable import SamverkanConfig

/// `YAMLSubsetParser` must give, for every text it reads, the document Yams gives (node for
/// node: kind, text, style, null, tags and position), and must give up on every text Yams
/// refuses. Texts: the bundled config, the fixtures, generated agreement files, hand-picked
/// corners of YAML, and thousands of one-edit mutations of them (a fixed seed, so every run
/// checks the same texts).
@Suite("YAML subset parser against Yams")
struct YAMLSubsetParserTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every YAML file of the bundled config and of the fixtures.
    static let files: [String] = {
        var texts: [String] = []
        for directory in ["Config", "Tests/SamverkanConfigTests/Fixtures"] {
            let root = repository.appendingPathComponent(directory)
            guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let path as String in enumerator where path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
                if let text = try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) {
                    texts.append(text)
                }
            }
        }
        return texts.sorted()
    }()

    /// Agreement files like scripts/bench/gen_workload.py writes, with titles that need care.
    static let generated: [String] = {
        // Plain titles, and titles that YAML would read otherwise, only ever quoted.
        let plainTitles = [
            "Årlig rapport", "Månadens lägesbild", "Veckomöte (13:00)", "50% klar", "x:y", "a#b", "é – 𝄞",
        ]
        let quotedTitles =
            plainTitles + ["it's", "a # b", "[inte en lista]", "{inte heller}", "- streck", "~", "null", "a: b"]
        var random = Random(seed: 5)
        return (1...60).map { i in
            var lines = [
                "# Generated for a test", "id: avtal-\(i)", "title: Samverkansöverenskommelse \(i) (genererad)",
                "valid: {from: 2020-01-01, until: \(random.pick(["2035-12-31", "null", "2035"]))}", "roles:",
                "  samordnare: {email: samordnare@avtal-\(i).example, deputy: chef}", "  chef: {email: chef@x.example}",
                "obligations:",
            ]
            for j in 0..<(1 + random.next(3)) {
                let style = random.next(3)
                let titleText =
                    style == 0
                    ? "\"\(random.pick(quotedTitles))\""
                    : style == 1
                        ? "'\(random.pick(quotedTitles).replacingOccurrences(of: "'", with: "''"))'"
                        : random.pick(plainTitles)
                lines += [
                    "  - id: o\(j)", "    kind: \(random.pick(["report", "review", "meeting"]))",
                    "    title: \(titleText)",
                    "    schedule: {rrule: \"FREQ=MONTHLY;BYMONTHDAY=\(1 + random.next(28))\", time: \"13:00\"}",
                    "    remind: [\(random.pick(["", "1d", "2wd, 1d", "5h"]))]  # lead times",
                    "    notify: [samordnare]",
                ]
            }
            return lines.joined(separator: "\n") + (random.next(2) == 0 ? "\n" : "")
        }
    }()

    static let handPicked = [
        "a: 1", "a: 1\n", "a: 1\nb: 2\na: 3", "a:\n  b: 1\n  c: 2", "a:\n- 1\n- 2", "a:\n  - 1\n  - 2",
        "a:\n    - 1\n    - 2",
        "- 1\n- 2", "- a: 1\n  b: 2\n- c: 3", "-   a: 1\n    b: 2", "- - 1", "- [1, 2]\n- {a: b}",
        "a: [1, [2, 3], {b: c}]",
        "a: {b: {c: d}}", "a: {}", "a: []", "a: [ ]", "a: { }", "a: [1,2]", "a: [1 ,2 ]", "a: {b: 1,}", "a: [1,,2]",
        "a: {b: 1, b: 2}", "a: {b:1}", "a: {b: }", "a: {\"b\": 1}", "a: 'it''s'", "a: ''", "a: \"\"", "a: \"x\\ny\"",
        "a: \"x\" # c", "a: \"x\"# c", "a: x # c", "a: x#c", "a: x: y", "a: x:", "a: x:y", "a: http://x.example/a?b=c",
        "a: x  ", "a:   x", "a:  # c\n  b: 1", "a: # c\n  b: 1", "a:\n", "a:", "a: ~", "a: null", "a: Null", "a: NULL",
        "a: nul", "a: -1", "a: - 1", "a: ?x", "a: !x", "a: &x 1", "a: *x", "a: |\n  x", "a: >\n  x", "a: %x", "a: @x",
        "a: `x`", "a: x\n  y", "a: x\n b: 1", "  a: 1", "a: 1\n  # c\nb: 2", "# c\n\na: 1\n\n# d\n", "---\na: 1",
        "a: 1\n...",
        "%YAML 1.1\n---\na: 1", "a: 1\r\nb: 2\r\n", "a:\t1", "\ta: 1", "a: é", "é: 1", "a: Ö-x", "a: {b: Åre, c: x}",
        "a: [Åre, x]", "a.b: 1", "a-b: 1", "_a: 1", "-a: 1", "1: x", "null: x", "a b: 1", "'a': 1", "\"a\": 1",
        "? a\n: 1",
        "a: [1, 2] x", "a: {b: c}}", "a: [1, 2", "a: {b: [1, 2}", "a: \"unclosed", "a: 'unclosed", "a: x\u{2028}y",
        "a: x\u{85}y", "a: x\u{FEFF}", "a: x\u{7F}", "a: \u{1}", "", "\n", "# only a comment", "a", "[1, 2]", "{a: 1}",
        "a: 1\n- 2", "a:\n  - 1\n  b: 2", "a:\n  b: 1\n    c: 2", "a:\n  b: 1\n c: 2", "a:\n - x\n  - y",
        String(repeating: "k", count: 1_100) + ": 1",
        "a: " + String(repeating: "[", count: 80) + String(repeating: "]", count: 80),
    ]

    /// One-edit mutations of `texts`: an insertion of a tricky piece, a deletion, a line doubled
    /// or moved sideways.
    static func mutations(of texts: [String], count: Int, seed: UInt64) -> [String] {
        let pieces = [
            ":", ": ", " #", "#", "'", "\"", "''", "\\", "[", "]", "{", "}", ",", ", ", "-", "- ", "  ", " ", "\t",
            "\r",
            "&a ", "*a", "!t ", "|", ">", "?", "%", "@", "`", "---\n", "null", "~", "é", "𝄞", "\u{2028}", "\u{85}",
            "\u{FEFF}", "\n", "\n  ", "\n- ", "\n\n", "x", "0",
        ]
        var random = Random(seed: seed)
        return (0..<count).map { _ in
            var characters = Array(random.pick(texts))
            guard !characters.isEmpty else { return "" }
            let at = random.next(characters.count)
            switch random.next(5) {
            case 0, 1: characters.insert(contentsOf: random.pick(pieces), at: at)
            case 2: characters.remove(at: at)
            case 3:
                var lines = String(characters).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let line = random.next(lines.count)
                lines.insert(lines[line], at: line)
                return lines.joined(separator: "\n")
            default:
                var lines = String(characters).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let line = random.next(lines.count)
                lines[line] = random.next(2) == 0 ? " " + lines[line] : String(lines[line].drop(while: { $0 == " " }))
                return lines.joined(separator: "\n")
            }
            return String(characters)
        }
    }

    /// A node and everything under it, as one line of text to compare.
    static func describe(_ document: YAMLDocument, _ index: Int = 0) -> String {
        let item = document.items[index]
        var text =
            "\(item.kind)@\(item.position.line):\(item.position.column) \(item.string.debugDescription)"
            + " q\(item.isQuoted) n\(item.isNull) s\(item.isStringTagged) v\(item.isValueTagged)"
        if item.kind != .scalar {
            let nodes = document.children[item.first..<(item.first + item.count)]
            text += " [" + nodes.map { describe(document, $0) }.joined(separator: ", ") + "]"
        }
        return text
    }

    /// Checks every text; returns how many the subset parser read.
    @discardableResult
    static func check(_ texts: [String]) -> Int {
        var read = 0
        for text in texts {
            guard let fast = YAMLSubsetParser.parse(text, file: "t.yaml") else { continue }
            read += 1
            var log = DiagnosticLog()
            let slow = ConfigLoader.parseWithYams(text, file: "t.yaml", &log)
            #expect(slow != nil, "Yams refuses what the subset read: \(text.debugDescription)")
            if let slow {
                #expect(describe(fast) == describe(slow.document), "\(text.debugDescription)")
            }
        }
        return read
    }

    @Test("the bundled config and the fixtures: the same document as Yams, and most files read")
    func configFiles() {
        #expect(Self.files.count >= 20)
        let read = Self.check(Self.files)
        // Every file of the bundled config and most fixtures are plain enough (the rest go to Yams).
        #expect(read * 4 >= Self.files.count * 3, "read \(read) of \(Self.files.count)")
    }

    @Test("generated agreement files: the same document as Yams, and every one read")
    func generatedFiles() {
        #expect(Self.check(Self.generated) == Self.generated.count)
    }

    @Test("corners of YAML: the same document as Yams, or left to it")
    func corners() {
        let read = Self.check(Self.handPicked)
        #expect(read > 30 && read < Self.handPicked.count, "read \(read) of \(Self.handPicked.count)")
    }

    @Test("one-edit mutations: the same document as Yams, or left to it")
    func mutations() {
        let texts = Self.mutations(of: Self.files + Self.generated + Self.handPicked, count: 20_000, seed: 5)
        let read = Self.check(texts)
        // Enough of them read for the comparison to mean something (about a fifth; most edits
        // make a text that is outside the subset or invalid).
        #expect(read * 6 >= texts.count, "read \(read) of \(texts.count)")
    }
}

/// A small seeded generator (a linear congruential one), so the texts are the same every run.
private struct Random {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(max(bound, 1)))
    }

    mutating func pick<T>(_ values: [T]) -> T { values[next(values.count)] }
}
