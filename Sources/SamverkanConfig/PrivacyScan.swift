/// The privacy rule for config: no personnummer-like string anywhere in a file, comments
/// included (`domain.md` §8). Config describes roles and functional mailboxes, never people.
enum PrivacyScan {
    /// Reports each run of digits that reads as a Swedish personal identity number:
    /// `YYMMDD-NNNN`, `YYMMDD+NNNN`, `YYYYMMDD-NNNN` or the same without separator, with a real
    /// month and a day 1–31 (or 61–91, a samordningsnummer).
    static func check(_ text: String, file: String, _ log: inout DiagnosticLog) {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let scalars = Array(line.unicodeScalars)
            var i = 0
            while i < scalars.count {
                guard scalars[i].properties.numericType != nil, scalars[i].isASCII else {
                    i += 1
                    continue
                }
                if i > 0, scalars[i - 1].isASCII, scalars[i - 1].properties.numericType != nil {
                    i += 1
                    continue
                }
                if let length = match(scalars, at: i) {
                    log.error(
                        file, Position(line: index + 1, column: i + 1),
                        "this looks like a personnummer; config must not hold personal data (use roles and functional mailboxes)"
                    )
                    i += length
                } else {
                    i += 1
                }
            }
        }
    }

    private static func match(_ s: [Unicode.Scalar], at start: Int) -> Int? {
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= s.count else { return nil }
            var value = 0
            for k in from..<(from + count) {
                guard s[k].isASCII, let d = Int(String(s[k])) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        func isDigit(_ k: Int) -> Bool { k < s.count && s[k].isASCII && ("0"..."9").contains(s[k]) }
        for yearDigits in [2, 4] {
            let monthAt = start + yearDigits
            guard let month = digits(monthAt, 2), let day = digits(monthAt + 2, 2) else { continue }
            if yearDigits == 4, let year = digits(start, 4), !(1880...2099).contains(year) { continue }
            guard (1...12).contains(month), (1...31).contains(day) || (61...91).contains(day) else { continue }
            var at = monthAt + 4
            if at < s.count, s[at] == "-" || s[at] == "+" { at += 1 }
            guard digits(at, 4) != nil, !isDigit(at + 4) else { continue }
            // Plain 10/12-digit runs without a separator are ambiguous with other numbers only
            // when they are not a date followed by four digits, which is what we just checked.
            return at + 4 - start
        }
        return nil
    }
}
