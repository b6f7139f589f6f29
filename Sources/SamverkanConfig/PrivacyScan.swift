/// The privacy rule for config: no personnummer-like string anywhere in a file, comments
/// included (`domain.md` §8). Config describes roles and functional mailboxes, never people.
enum PrivacyScan {
    /// Reports each run of digits that reads as a Swedish personal identity number:
    /// `YYMMDD-NNNN`, `YYMMDD+NNNN`, `YYYYMMDD-NNNN` or the same without separator, with a real
    /// month and a day 1–31 (or 61–91, a samordningsnummer). Works on bytes: only ASCII digits
    /// and separators matter, and a config is read at every start and reload.
    static func check(_ bytes: [UInt8], file: String, _ log: inout DiagnosticLog) {
        var line = 1
        var lineStart = 0
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0A {
                line += 1
                lineStart = i + 1
                i += 1
                continue
            }
            guard isDigit(byte), i == 0 || !isDigit(bytes[i - 1]) else {
                i += 1
                continue
            }
            if let length = match(bytes, at: i) {
                // Columns count characters, as the YAML parser's do.
                let column = String(decoding: bytes[lineStart..<i], as: UTF8.self).count + 1
                log.error(
                    file, Position(line: line, column: column),
                    "this looks like a personnummer; config must not hold personal data (use roles and functional mailboxes)"
                )
                i += length
            } else {
                i += 1
            }
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func match(_ s: [UInt8], at start: Int) -> Int? {
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= s.count else { return nil }
            var value = 0
            for k in from..<(from + count) {
                guard isDigit(s[k]) else { return nil }
                value = value * 10 + Int(s[k] - 0x30)
            }
            return value
        }
        func digitAt(_ k: Int) -> Bool { k < s.count && isDigit(s[k]) }
        for yearDigits in [2, 4] {
            let monthAt = start + yearDigits
            guard let month = digits(monthAt, 2), let day = digits(monthAt + 2, 2) else { continue }
            if yearDigits == 4, let year = digits(start, 4), !(1880...2099).contains(year) { continue }
            guard (1...12).contains(month), (1...31).contains(day) || (61...91).contains(day) else { continue }
            var at = monthAt + 4
            if at < s.count, s[at] == UInt8(ascii: "-") || s[at] == UInt8(ascii: "+") { at += 1 }
            guard digits(at, 4) != nil, !digitAt(at + 4) else { continue }
            return at + 4 - start
        }
        return nil
    }
}
