public import Foundation
public import SamverkanCore

/// A mailbox: an address with an optional display name, as in `From:` and `Reply-To:`.
///
/// Only plain ASCII addresses (`local@domain`, a dot-atom on the left) are taken: they pass
/// every relay without SMTPUTF8, and they are what functional mailboxes look like. A display
/// name may be any text; it is RFC 2047-encoded when it is not plain ASCII.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    public var address: String

    /// An address with an optional display name, or nil when the address is not a plain one
    /// or the name holds a line break or angle bracket.
    public init?(displayName: String? = nil, address: String) {
        guard Self.isValid(address),
            displayName?.contains(where: { $0.isNewline || $0 == "<" || $0 == ">" }) != true
        else { return nil }
        self.displayName = displayName?.isEmpty == true ? nil : displayName
        self.address = address
    }

    /// Parses `samverkan@kommun.example` or `Påminnelsetjänsten <samverkan@kommun.example>`.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast())
            }
            self.init(displayName: name, address: address)
        } else {
            self.init(address: trimmed)
        }
    }

    public var description: String {
        guard let displayName else { return address }
        return "\(displayName) <\(address)>"
    }

    /// `local@domain`: a dot-atom of RFC 5322 atext on the left, a host name on the right.
    static func isValid(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty, !domain.isEmpty,
            address.utf8.count <= 254, local.utf8.count <= 64
        else { return false }
        let localOK = local.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { atom in
            !atom.isEmpty && atom.utf8.allSatisfy(Self.isAtext)
        }
        let domainOK = domain.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { Self.isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
        return localOK && domainOK
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// RFC 5322 §3.2.3 atext.
    static func isAtext(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
    }
}

/// The RFC 5322 message for one notice: one message per notice id, with all its recipients.
///
/// - The subject (and any header text that is not plain ASCII) is RFC 2047 B-encoded UTF-8,
///   in encoded words of at most 75 characters that never split a Unicode scalar, folded so no
///   header line passes 76 characters (`platform.md` §5).
/// - The body is UTF-8 in quoted-printable, so it survives a 7-bit relay: lines of at most 76
///   characters with soft breaks, `=` and trailing blanks encoded, and a line that starts with
///   `From ` encoded as `=46rom ` so an mbox hop cannot turn it into `>From `.
/// - `Message-ID` is `<NOTICE_ID@samverkan.HOSTNAME>`: the same on every retry, so a receiver
///   can drop a second copy (`design.md`, notice ids).
/// - `Date` is built from calendar components in the configured zone, not with `DateFormatter`
///   (which crashes without tz data, `platform.md` §6.1).
/// - `Auto-Submitted: auto-generated` (RFC 3834) and `X-Auto-Response-Suppress: All` (Exchange)
///   keep out-of-office replies from looping back.
///
/// Nothing here adds personal data: the notice carries roles, functional addresses and
/// neutral ids only (`domain.md` §8).
public struct EmailMessage: Sendable {
    public enum LineEnding: String, Sendable {
        /// For SMTP (RFC 5321 §2.3.8).
        case crlf = "\r\n"
        /// For a pipe to `sendmail -t -i`, which expects local line endings.
        case lf = "\n"
    }

    /// A header field whose value is text; rendering encodes and folds it.
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var from: EmailAddress
    /// The recipients' addresses, deduplicated (case-insensitively), in the notice's order.
    public var to: [String]
    public var replyTo: EmailAddress?
    public var subject: String
    public var date: Date
    /// The zone the `Date` header is written in.
    public var zone: Zone
    /// Without angle brackets: `avesta-falun/uppfoljning/2026-09-07/-30d@samverkan.host`.
    public var messageID: String
    /// Headers after the fixed ones, in order (`X-Samverkan-*`).
    public var extraHeaders: [Header]
    public var body: String

    public init(
        from: EmailAddress, to: [String], replyTo: EmailAddress?, subject: String, date: Date, zone: Zone,
        messageID: String, extraHeaders: [Header] = [], body: String
    ) {
        self.from = from
        self.to = Self.deduplicated(to)
        self.replyTo = replyTo
        self.subject = subject
        self.date = date
        self.zone = zone
        self.messageID = messageID
        self.extraHeaders = extraHeaders
        self.body = body
    }

    /// The message for a notice. `date` is the time of this attempt; `hostname` names this
    /// machine in the Message-ID.
    ///
    /// Throws a permanent error when no recipient has an address or one is not a plain
    /// address: trying again cannot help until the config changes. The message names roles,
    /// not addresses (`domain.md` §8: logs record the role id).
    public init(
        notice: OutgoingNotice, from: EmailAddress, replyTo: EmailAddress?, date: Date, zone: Zone, hostname: String
    ) throws(SinkError) {
        var addresses: [String] = []
        for recipient in notice.recipients {
            guard let address = recipient.address?.trimmingCharacters(in: .whitespaces), !address.isEmpty else {
                continue
            }
            guard EmailAddress.isValid(address) else {
                throw SinkError(
                    .permanent,
                    "notice \(notice.id): the address of role \(recipient.role) is not a plain address (local@domain)")
            }
            addresses.append(address)
        }
        guard !addresses.isEmpty else {
            let roles = notice.recipients.map(\.role).joined(separator: ", ")
            throw SinkError(
                .permanent,
                "notice \(notice.id): no recipient has an email address (roles: \(roles.isEmpty ? "none" : roles))")
        }
        self.init(
            from: from, to: addresses, replyTo: replyTo, subject: notice.subject, date: date, zone: zone,
            messageID: Self.messageID(noticeID: notice.id, hostname: hostname),
            extraHeaders: [
                Header("X-Samverkan-Agreement", notice.agreement),
                Header("X-Samverkan-Deadline", notice.deadline.id),
                Header("X-Samverkan-Notice", notice.id),
            ],
            body: notice.body)
    }

    /// The whole message, ASCII only, every line ending in `ending`.
    public func rendered(_ ending: LineEnding) -> String {
        var lines: [String] = []
        lines += Self.fold("Date", [Self.rfc5322Date(date, zone: zone)])
        lines += Self.fold("From", Self.mailboxTokens(from))
        lines += Self.fold("To", to.enumerated().map { $0.offset < to.count - 1 ? $0.element + "," : $0.element })
        if let replyTo { lines += Self.fold("Reply-To", Self.mailboxTokens(replyTo)) }
        lines += Self.fold("Subject", Self.textTokens(Self.singleLine(subject)))
        lines += Self.fold("Message-ID", ["<\(messageID)>"])
        lines.append("MIME-Version: 1.0")
        lines.append("Content-Type: text/plain; charset=UTF-8")
        lines.append("Content-Transfer-Encoding: quoted-printable")
        lines.append("Auto-Submitted: auto-generated")
        lines.append("X-Auto-Response-Suppress: All")
        for header in extraHeaders {
            lines += Self.fold(header.name, Self.textTokens(Self.singleLine(header.value)))
        }
        lines.append("")
        lines += Self.quotedPrintableLines(body)
        return lines.joined(separator: ending.rawValue) + ending.rawValue
    }

    // MARK: - Rules

    /// `<id@samverkan.host>` without the brackets. The notice id is used as is (`/`, `-`, `+`
    /// and `%` are atext); anything else, which the id scheme does not produce, is
    /// percent-encoded so the result is always a valid msg-id and still one-to-one.
    static func messageID(noticeID: String, hostname: String) -> String {
        var left = ""
        let bytes = Array(noticeID.utf8)
        for (index, byte) in bytes.enumerated() {
            let dotOK =
                byte == UInt8(ascii: ".") && index > 0 && index < bytes.count - 1 && bytes[index - 1] != byte
            if (EmailAddress.isAtext(byte) && byte != UInt8(ascii: "%")) || dotOK {
                left.append(Character(Unicode.Scalar(byte)))
            } else {
                left += "%" + hex(byte)
            }
        }
        if left.isEmpty { left = "notice" }
        let labels = hostname.split(separator: ".").map { label in
            String(
                decoding: label.utf8.filter { EmailAddress.isAlphanumeric($0) || $0 == UInt8(ascii: "-") },
                as: UTF8.self)
        }.filter { !$0.isEmpty }
        return left + "@samverkan." + (labels.isEmpty ? "localhost" : labels.joined(separator: "."))
    }

    static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 5322 §3.3: `Sat, 28 Mar 2026 09:00:00 +0100`, in the configured zone.
    static func rfc5322Date(_ instant: Date, zone: Zone) -> String {
        let local = zone.local(instant)
        let offset = zone.offset(at: instant)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let magnitude = abs(offset) / 60
        let date = local.date
        let time = local.time
        return "\(dayNames[date.weekday - 1]), \(two(date.day)) \(monthNames[date.month - 1]) \(date.year) "
            + "\(two(time.hour)):\(two(time.minute)):\(two(time.second)) "
            + "\(offset < 0 ? "-" : "+")\(two(magnitude / 60))\(two(magnitude % 60))"
    }

    /// Subjects and header texts are one line: control characters and runs of blanks become
    /// one space, so nothing can start a new header and folding never leaves a blank line.
    static func singleLine(_ text: String) -> String {
        var result = ""
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value == 0x7F {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// The pieces of an unstructured header value, to be joined by single spaces or folds:
    /// its words when it is plain ASCII, else RFC 2047 encoded words (also when the text
    /// holds `=?`, which a reader would otherwise take for the start of one).
    static func textTokens(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && !text.contains("=?") {
            return text.split(separator: " ").map(String.init)
        }
        return encodedWords(text)
    }

    /// RFC 2047 B-encoded words of UTF-8 for `text`. Each word holds at most 39 bytes, so it is
    /// 64 characters (≤ 75) and `Subject: ` plus a word is 73 (≤ 76); a scalar is never split
    /// across two words (`platform.md` §5). Readers join adjacent encoded words without the
    /// blank between them.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk = []
        }
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39 { flush() }
            chunk += bytes
        }
        if !chunk.isEmpty { flush() }
        return words
    }

    /// A display name and an angle address: the name as is when it is atoms, quoted when it
    /// has specials, encoded words when it is not plain ASCII.
    static func mailboxTokens(_ mailbox: EmailAddress) -> [String] {
        let angle = "<\(mailbox.address)>"
        guard let name = mailbox.displayName.map(singleLine), !name.isEmpty else { return [mailbox.address] }
        let isAtomText = name.utf8.allSatisfy { EmailAddress.isAtext($0) || $0 == 0x20 }
        if isAtomText && !name.contains("=?") {
            return name.split(separator: " ").map(String.init) + [angle]
        }
        if name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && !name.contains("=?") {
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return ["\"\(escaped)\"", angle]
        }
        return encodedWords(name) + [angle]
    }

    /// `Name: token token…` folded before a token whenever the line would pass 78 characters
    /// (76 for an encoded word, RFC 2047 §2). The first plain token stays on the name's line
    /// even when longer: a Message-ID folded onto a line of its own reads back with a leading
    /// blank in some parsers (Python's), and receivers compare Message-IDs to drop copies;
    /// RFC 5322's hard limit is 998.
    static func fold(_ name: String, _ tokens: [String]) -> [String] {
        var lines: [String] = []
        var line = name + ":"
        var lineHasToken = false
        for token in tokens {
            let isEncodedWord = token.hasPrefix("=?")
            let tooLong = line.utf8.count + 1 + token.utf8.count > (isEncodedWord ? 76 : 78)
            if tooLong && (lineHasToken || isEncodedWord) {
                lines.append(line)
                line = " " + token
            } else {
                line += " " + token
            }
            lineHasToken = true
        }
        lines.append(line)
        return lines
    }

    /// Quoted-printable (RFC 2045 §6.7) of UTF-8 text with any line endings, as encoded lines
    /// of at most 76 characters. Hard line breaks stay line breaks; a scalar's escapes are
    /// never split over a soft break.
    static func quotedPrintableLines(_ text: String) -> [String] {
        var sourceLines: [[Unicode.Scalar]] = [[]]
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            if scalar == "\n" || scalar == "\r" {
                sourceLines.append([])
            } else {
                sourceLines[sourceLines.count - 1].append(scalar)
            }
        }
        // A final line break ends the last line; it does not start an empty one.
        if sourceLines.count > 1 && sourceLines[sourceLines.count - 1].isEmpty { sourceLines.removeLast() }
        if sourceLines == [[]] { return [] }

        var output: [String] = []
        for scalars in sourceLines {
            var line = ""
            for (index, scalar) in scalars.enumerated() {
                var token = encode(scalar)
                if index == scalars.count - 1 && (scalar == " " || scalar == "\t") {
                    token = "=" + hex(UInt8(scalar.value))
                }
                if line.utf8.count + token.utf8.count > 75 {
                    output.append(line + "=")
                    line = ""
                }
                // `From ` at the start of a physical line becomes `=46rom `.
                if line.isEmpty && scalar == "F" && scalars[index...].starts(with: "From ".unicodeScalars) {
                    token = "=46"
                }
                line += token
            }
            output.append(line)
        }
        return output
    }

    private static func encode(_ scalar: Unicode.Scalar) -> String {
        let value = scalar.value
        if (value >= 33 && value <= 126 && value != 61) || value == 32 || value == 9 {
            return String(Character(scalar))
        }
        return String(scalar).utf8.map { "=" + hex($0) }.joined()
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    /// The same address once, the first spelling kept; compared case-insensitively, as every
    /// relay does in practice.
    static func deduplicated(_ addresses: [String]) -> [String] {
        var seen: Set<String> = []
        return addresses.filter { seen.insert($0.lowercased()).inserted }
    }
}
