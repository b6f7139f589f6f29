import Foundation
import SamverkanCore
import Testing

@testable import SamverkanSinks

@Suite("RFC 5322 message")
struct EmailMessageTests {
    func message(_ notice: OutgoingNotice, date: Date = Notices.saturdayMorning) throws -> EmailMessage {
        try EmailMessage(
            notice: notice, from: try #require(EmailAddress(parsing: "Påminnelsetjänsten <samverkan@kommun.example>")),
            replyTo: EmailAddress(address: "samordnare@avesta.example"), date: date, zone: Notices.stockholm,
            hostname: "srv1.kommun.example")
    }

    @Test(
        "Date is RFC 5322, from calendar components in the zone",
        arguments: [
            ("Europe/Stockholm", 1_774_684_800, "Sat, 28 Mar 2026 09:00:00 +0100"),
            // The Sunday DST starts: 01:30 UTC is 03:30 summer time.
            ("Europe/Stockholm", 1_774_747_800, "Sun, 29 Mar 2026 03:30:00 +0200"),
            ("Europe/Stockholm", 1_798_757_999, "Thu, 31 Dec 2026 23:59:59 +0100"),
            ("America/New_York", 1_774_684_800, "Sat, 28 Mar 2026 04:00:00 -0400"),
            ("Asia/Kolkata", 1_774_684_800, "Sat, 28 Mar 2026 13:30:00 +0530"),
            ("UTC", 0, "Thu, 01 Jan 1970 00:00:00 +0000"),
        ])
    func dateHeader(zone: String, seconds: Int, expected: String) throws {
        let zone = try #require(Zone(identifier: zone))
        #expect(EmailMessage.rfc5322Date(Date(timeIntervalSince1970: TimeInterval(seconds)), zone: zone) == expected)
    }

    @Test("Message-ID is the notice id at samverkan.HOSTNAME, the same on every attempt")
    func messageID() throws {
        let notice = Notices.make(recipients: [("samordnare", "samordnare@avesta.example")])
        let first = try message(notice).rendered(.crlf)
        let retry = try message(notice, date: Notices.saturdayMorning.addingTimeInterval(3600)).rendered(.crlf)
        let expected = "Message-ID: <avesta-falun/uppfoljning/2026-09-07/-30d@samverkan.srv1.kommun.example>"
        #expect(first.contains(expected + "\r\n"))
        #expect(retry.contains(expected + "\r\n"))
        // Characters the id scheme never makes are percent-encoded, one-to-one.
        #expect(
            EmailMessage.messageID(noticeID: "a b@c%d..e.", hostname: "h_ost") == "a%20b%40c%25d.%2Ee%2E@samverkan.host"
        )
        #expect(EmailMessage.messageID(noticeID: "x/+18h", hostname: "") == "x/+18h@samverkan.localhost")
    }

    @Test("A plain ASCII subject stays readable and is folded at blanks")
    func asciiSubject() throws {
        let subject = "[Samverkan] Annual follow-up " + String(repeating: "word ", count: 12) + "2026-09-07"
        let notice = Notices.make(recipients: [("r", "r@x.example")], subject: subject)
        let lines = try message(notice).rendered(.lf).split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject: ") })
        var header = [String(lines[start])]
        for line in lines[(start + 1)...] {
            guard line.hasPrefix(" ") else { break }
            header.append(String(line))
        }
        #expect(header.count == 2)
        #expect(header.allSatisfy { $0.count <= 78 })
        #expect(header.joined(separator: "").dropFirst("Subject: ".count) == subject)
    }

    @Test(
        "A Swedish subject is RFC 2047 encoded words of UTF-8, never splitting a scalar",
        arguments: [
            Notices.subject,
            String(repeating: "åäö", count: 40),
            "[Samverkan] Ärende 2026-0042 – inget kontaktförsök registrerat 👮🏽‍♀️ e\u{301}",
            "plain ascii with =? inside",
        ])
    func encodedSubject(subject: String) throws {
        let notice = Notices.make(recipients: [("r", "r@x.example")], subject: subject)
        let rendered = try message(notice).rendered(.crlf)
        #expect(rendered.utf8.allSatisfy { $0 < 0x80 })
        let lines = rendered.components(separatedBy: "\r\n")
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject: ") })
        var words: [String] = []
        for (offset, line) in lines[start...].enumerated() {
            if offset > 0 && !line.hasPrefix(" ") { break }
            #expect(line.count <= 76, "line \(line)")
            let word = offset == 0 ? String(line.dropFirst("Subject: ".count)) : String(line.dropFirst())
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            words.append(word)
        }
        var decoded = ""
        for word in words {
            let base64 = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            let bytes = try #require(Data(base64Encoded: String(base64)))
            // Each word is whole UTF-8 on its own: no scalar is split.
            let text = try #require(String(data: bytes, encoding: .utf8))
            decoded += text
        }
        #expect(decoded == subject)
    }

    @Test("Line breaks in a subject cannot start a header")
    func headerInjection() throws {
        let notice = Notices.make(
            recipients: [("r", "r@x.example")], subject: "Hej\r\nBcc: someone@evil.example\nX-Evil: 1")
        let rendered = try message(notice).rendered(.crlf)
        let lines = rendered.components(separatedBy: "\r\n")
        #expect(!lines.contains { $0.hasPrefix("Bcc:") || $0.hasPrefix("X-Evil:") })
        #expect(lines.contains("Subject: Hej Bcc: someone@evil.example X-Evil: 1"))
    }

    @Test(
        "Quoted-printable body: lines of at most 76, soft breaks, = and trailing blanks encoded, decodes back",
        arguments: [
            Notices.body,
            String(repeating: "å", count: 200) + "\n",
            "ends without a line break",
            String(repeating: "x", count: 75) + "=" + String(repeating: "y", count: 80) + " \n\n\n",
            "From the start\nFrom\nFrom  two\n" + String(repeating: "a", count: 75) + "From here\n",
            "crlf\r\nand cr\rand\ttab\t\n",
        ])
    func quotedPrintable(body: String) throws {
        let lines = EmailMessage.quotedPrintableLines(body)
        for line in lines {
            #expect(line.utf8.count <= 76, "\(line)")
            #expect(line.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 })
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
            #expect(!line.hasPrefix("From "))
        }
        let normalized = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let expected = normalized.hasSuffix("\n") ? normalized : normalized + "\n"
        #expect(Self.decodeQuotedPrintable(lines) == expected)
    }

    @Test("All of a notice's recipients in one To, each address once; roles without an address are skipped")
    func recipients() throws {
        let notice = Notices.make(recipients: [
            ("samordnare", "samordnare@avesta.example"), ("kommunpolis", "kommunpolis@polisen.example"),
            ("deputy", "Samordnare@Avesta.example"), ("skola", nil),
        ])
        let message = try message(notice)
        #expect(message.to == ["samordnare@avesta.example", "kommunpolis@polisen.example"])
        #expect(message.rendered(.lf).contains("\nTo: samordnare@avesta.example, kommunpolis@polisen.example\n"))
    }

    @Test("A notice with no usable address is a permanent error that names roles, not addresses")
    func noAddress() throws {
        let none = Notices.make(recipients: [("skola", nil), ("fritid", "")])
        let error = try #require(throws: SinkError.self) { try message(none) }
        #expect(error.code == .permanent)
        #expect(error.message.contains("roles: skola, fritid"))

        let bad = Notices.make(recipients: [("skola", "elevhalsa@avesta.example>\r\nBcc: x@y")])
        let badError = try #require(throws: SinkError.self) { try message(bad) }
        #expect(badError.code == .permanent)
        #expect(badError.message.contains("role skola"))
        #expect(!badError.message.contains("elevhalsa"))
    }

    @Test("Addresses: plain, with a display name, and what is refused")
    func addresses() {
        #expect(EmailAddress(parsing: "samverkan@kommun.example") == EmailAddress(address: "samverkan@kommun.example"))
        let named = EmailAddress(parsing: " \"Påminnelser\" <samverkan@kommun.example> ")
        #expect(named?.displayName == "Påminnelser")
        #expect(named?.address == "samverkan@kommun.example")
        for bad in [
            "", "samverkan", "@kommun.example", "a@", "a b@x.example", "a@x..example", "å@x.example", "a@-x.example",
            "<a@x.example", "a@x.example>", ".a@x.example", "Name\n<a@x.example>",
        ] {
            #expect(EmailAddress(parsing: bad) == nil, "\(bad)")
        }
        #expect(
            EmailMessage.mailboxTokens(EmailAddress(displayName: "Samverkan, Avesta", address: "a@x.example")!)
                == ["\"Samverkan, Avesta\"", "<a@x.example>"])
        #expect(
            EmailMessage.mailboxTokens(EmailAddress(displayName: "Samverkan Avesta", address: "a@x.example")!)
                == ["Samverkan", "Avesta", "<a@x.example>"])
    }

    @Test(
        "Python's email package reads the message as sent, with LF for sendmail and CRLF for SMTP",
        .enabled(if: FileManager.default.isExecutableFile(atPath: MailTest.python)),
        arguments: [EmailMessage.LineEnding.lf, .crlf])
    func pythonReadsIt(ending: EmailMessage.LineEnding) async throws {
        let directory = try MailTest.scratch("render")
        let notice = Notices.make(recipients: [
            ("samordnare", "samordnare@avesta.example"), ("kommunpolis", "kommunpolis@polisen.example"),
        ])
        let rendered = try message(notice).rendered(ending)
        let parsed = try await MailTest.parse(rendered, in: directory)
        #expect(parsed.defects.isEmpty)
        #expect(parsed.is_ascii)
        #expect(parsed.line_endings == (ending == .lf ? "lf" : "crlf"))
        // RFC 5322 §2.1.1: at most 78, but a Message-ID stays on its header's line.
        let messageIDLine = "Message-ID: <\(try message(notice).messageID)>"
        #expect(parsed.longest_line == messageIDLine.count)
        #expect(parsed.raw_headers.allSatisfy { $0.count <= 78 || $0 == messageIDLine })
        #expect(parsed.header("Subject") == Notices.subject)
        #expect(parsed.body.replacingOccurrences(of: "\r\n", with: "\n") == Notices.body)
        #expect(parsed.header("From") == "Påminnelsetjänsten <samverkan@kommun.example>")
        #expect(parsed.header("To") == "samordnare@avesta.example, kommunpolis@polisen.example")
        #expect(parsed.header("Reply-To") == "samordnare@avesta.example")
        #expect(
            parsed.header("Message-ID") == "<avesta-falun/uppfoljning/2026-09-07/-30d@samverkan.srv1.kommun.example>")
        #expect(parsed.date == "2026-03-28T09:00:00+01:00")
        #expect(parsed.header("MIME-Version") == "1.0")
        #expect(parsed.header("Content-Type")?.replacingOccurrences(of: "\"", with: "") == "text/plain; charset=UTF-8")
        #expect(parsed.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(parsed.header("Auto-Submitted") == "auto-generated")
        #expect(parsed.header("X-Samverkan-Agreement") == "avesta-falun")
        #expect(parsed.header("X-Samverkan-Deadline") == "avesta-falun/uppfoljning/2026-09-07")
        #expect(parsed.header("X-Samverkan-Notice") == "avesta-falun/uppfoljning/2026-09-07/-30d")
        #expect(parsed.headers.values.allSatisfy { $0.count == 1 })
    }

    /// RFC 2045 §6.7 decoding, independent of the encoder.
    static func decodeQuotedPrintable(_ lines: [String]) -> String {
        var bytes: [UInt8] = []
        for line in lines {
            var chars = Array(line.utf8)
            let soft = chars.last == UInt8(ascii: "=")
            if soft { chars.removeLast() }
            var index = 0
            while index < chars.count {
                if chars[index] == UInt8(ascii: "="), index + 2 < chars.count + 0,
                    let value = UInt8(String(decoding: chars[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
                {
                    bytes.append(value)
                    index += 3
                } else {
                    bytes.append(chars[index])
                    index += 1
                }
            }
            if !soft { bytes.append(0x0A) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
