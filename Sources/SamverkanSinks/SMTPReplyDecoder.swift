/// One SMTP reply (RFC 5321 §4.2): a three-digit code and one or more lines of text.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    /// The text of each line, without the code and separator.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2xx: done.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 3xx: go on (354 after DATA, 334 during AUTH).
    public var isIntermediate: Bool { (300..<400).contains(code) }
    /// 4xx: not now; the same command may succeed later.
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5xx: no; the same command will fail again.
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The code and the text on one line: `550 5.1.1 no such user`.
    public var description: String {
        let text = lines.filter { !$0.isEmpty }.joined(separator: " / ")
        return text.isEmpty ? "\(code)" : "\(code) \(text)"
    }
}

/// What a server sent that is not an SMTP reply.
public struct SMTPReplyFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Turns the bytes a server sends into replies, however TCP or TLS cuts them.
///
/// A reply is lines of `ddd-text` ending with one `ddd text` (or a bare `ddd`), each ending
/// in CRLF; a bare LF is taken too. Lines and replies are bounded (RFC 5321 §4.5.3.1.5 allows
/// 512 octets a line; servers' EHLO lists are the longest seen), so a hostile or broken server
/// cannot make the client buffer without end.
struct SMTPReplyDecoder: Sendable {
    static let maximumLineLength = 4096
    static let maximumLines = 200

    private var buffer: [UInt8] = []
    private var code: Int?
    private var lines: [String] = []

    /// True when no partial line or reply is held: used after STARTTLS's `220`, where any byte
    /// the server already sent in plaintext would be an injection (CVE-2011-0411).
    var isEmpty: Bool { buffer.isEmpty && code == nil }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, nil when more bytes are needed.
    mutating func next() throws(SMTPReplyFormatError) -> SMTPReply? {
        while let newline = buffer.firstIndex(of: 0x0A) {
            var end = newline
            if end > 0 && buffer[end - 1] == 0x0D { end -= 1 }
            let line = Array(buffer[..<end])
            buffer.removeSubrange(...newline)
            if let reply = try take(line) { return reply }
        }
        if buffer.count > Self.maximumLineLength {
            throw SMTPReplyFormatError(
                message: "the server sent a reply line longer than \(Self.maximumLineLength) bytes")
        }
        return nil
    }

    private mutating func take(_ line: [UInt8]) throws(SMTPReplyFormatError) -> SMTPReply? {
        guard line.count <= Self.maximumLineLength else {
            throw SMTPReplyFormatError(
                message: "the server sent a reply line longer than \(Self.maximumLineLength) bytes")
        }
        let digits = line.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            digits.first.map({ $0 >= UInt8(ascii: "2") && $0 <= UInt8(ascii: "5") }) == true
        else {
            throw SMTPReplyFormatError(
                message: "the server sent something that is not an SMTP reply: \(Self.printable(line))")
        }
        let lineCode = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw SMTPReplyFormatError(message: "the server sent a malformed reply line: \(Self.printable(line))")
        }
        if let code, code != lineCode {
            throw SMTPReplyFormatError(
                message: "the server changed the code within one reply (\(code), then \(lineCode))")
        }
        code = lineCode
        lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        guard lines.count <= Self.maximumLines else {
            throw SMTPReplyFormatError(message: "the server sent a reply of more than \(Self.maximumLines) lines")
        }
        guard separator == UInt8(ascii: " ") else { return nil }
        let reply = SMTPReply(code: lineCode, lines: lines)
        code = nil
        lines = []
        return reply
    }

    /// At most 80 characters of a line, with control bytes shown as `?`, for error messages.
    private static func printable(_ line: [UInt8]) -> String {
        let shown = line.prefix(80).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
        return "'" + String(decoding: shown, as: UTF8.self) + (line.count > 80 ? "…'" : "'")
    }
}
