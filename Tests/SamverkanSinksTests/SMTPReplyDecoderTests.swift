import Testing

@testable import SamverkanSinks

@Suite("SMTP reply decoder and DATA framing")
struct SMTPReplyDecoderTests {
    static let conversation = Array(
        ("220 mx.test ESMTP ready\r\n" + "250-mx.test\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
            + "250\r\n" + "451 4.3.0 try again later\n").utf8)

    static let expected = [
        SMTPReply(code: 220, lines: ["mx.test ESMTP ready"]),
        SMTPReply(code: 250, lines: ["mx.test", "8BITMIME", "STARTTLS", "AUTH PLAIN LOGIN"]),
        SMTPReply(code: 250, lines: [""]),
        SMTPReply(code: 451, lines: ["4.3.0 try again later"]),
    ]

    @Test("Replies come out whole however the bytes are cut", arguments: [1, 2, 3, 7, 64, 4096])
    func chunked(size: Int) throws {
        var decoder = SMTPReplyDecoder()
        var replies: [SMTPReply] = []
        var offset = 0
        while offset < Self.conversation.count {
            decoder.append(Self.conversation[offset..<min(offset + size, Self.conversation.count)])
            offset += size
            while let reply = try decoder.next() { replies.append(reply) }
        }
        #expect(replies == Self.expected)
        #expect(decoder.isEmpty)
    }

    @Test("A partial reply is held, and seen as held")
    func partial() throws {
        var decoder = SMTPReplyDecoder()
        decoder.append("220 ready\r\n250-first\r\n".utf8)
        #expect(try decoder.next() == SMTPReply(code: 220, lines: ["ready"]))
        #expect(try decoder.next() == nil)
        #expect(!decoder.isEmpty)
        decoder.append("250 last\r\n".utf8)
        #expect(try decoder.next() == SMTPReply(code: 250, lines: ["first", "last"]))
        #expect(decoder.isEmpty)
    }

    @Test(
        "What is not a reply is an error",
        arguments: [
            "HTTP/1.1 400 Bad Request\r\n", "25 short\r\n", "250x odd\r\n", "650 no such class\r\n",
            "250-one\r\n354 another code\r\n",
        ])
    func malformed(text: String) {
        var decoder = SMTPReplyDecoder()
        decoder.append(text.utf8)
        #expect(throws: SMTPReplyFormatError.self) {
            while try decoder.next() != nil {}
        }
    }

    @Test("A line or a reply without end is refused, not buffered")
    func bounded() {
        var long = SMTPReplyDecoder()
        long.append([UInt8](repeating: UInt8(ascii: "5"), count: SMTPReplyDecoder.maximumLineLength + 10))
        #expect(throws: SMTPReplyFormatError.self) { try long.next() }

        var many = SMTPReplyDecoder()
        many.append(String(repeating: "250-x\r\n", count: SMTPReplyDecoder.maximumLines + 1).utf8)
        #expect(throws: SMTPReplyFormatError.self) {
            while try many.next() != nil {}
        }
    }

    @Test("Reply classes")
    func classes() {
        #expect(SMTPReply(code: 250, lines: []).isPositive)
        #expect(SMTPReply(code: 354, lines: []).isIntermediate)
        #expect(SMTPReply(code: 451, lines: []).isTransientFailure)
        #expect(SMTPReply(code: 550, lines: []).isPermanentFailure)
        #expect(SMTPReply(code: 550, lines: ["5.1.1", "no such user"]).description == "550 5.1.1 / no such user")
    }

    @Test(
        "DATA doubles a leading dot and ends with a lone dot",
        arguments: [
            ("a\r\n.\r\n..b\r\n", "a\r\n..\r\n...b\r\n.\r\n"),
            (".start\r\nend", "..start\r\nend\r\n.\r\n"),
            ("", ".\r\n"),
            ("no.dot.at.start\r\n", "no.dot.at.start\r\n.\r\n"),
        ])
    func dotStuffing(message: String, expected: String) {
        #expect(SMTPClient.dotStuffed(message) == Array(expected.utf8))
    }

    @Test("Loopback hosts, and the name checked against a certificate")
    func hosts() {
        func config(_ host: String) -> SMTPClient.Configuration {
            SMTPClient.Configuration(host: host, port: 25, security: .none, heloName: "h")
        }
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] {
            #expect(config(host).isLoopback, "\(host)")
        }
        for host in ["128.0.0.1", "127.0.0.1.example", "mail.example", "10.0.0.1"] {
            #expect(!config(host).isLoopback, "\(host)")
        }
        #expect(SMTPClient.sniName("127.0.0.1") == nil)
        #expect(SMTPClient.sniName("[::1]") == nil)
        #expect(SMTPClient.sniName("smtp.kommun.example") == "smtp.kommun.example")
    }
}
