import Foundation
import SamverkanCore
import Testing

@testable import SamverkanSinks

#if canImport(Glibc)
    import Glibc
#endif

/// The email sink's SMTP transport against a real SMTP server on 127.0.0.1
/// (`Servers/smtp_server.py`, aiosmtpd), started by each test.
@Suite(
    "Email over SMTP to a real server", .enabled(if: MailTest.hasAiosmtpd || MailTest.isCI, "needs python3-aiosmtpd"),
    .timeLimit(.minutes(1)))
struct EmailSinkSMTPTests {
    static let from = "Påminnelsetjänsten <samverkan@kommun.example>"
    static let user = "samverkan"
    /// Distinctive, so a grep cannot miss it; not ASCII, so its encodings differ from it.
    static let password = "hemligt-Lösen-7391"

    func sink(
        _ server: TestSMTPServer, _ extra: [String: String] = [:], trace: TraceLog, host: String = "127.0.0.1"
    ) throws -> EmailSink {
        var options = [
            "host": host, "port": "\(server.port)", "from": Self.from, "reply_to": "samordnare@avesta.example",
        ]
        options.merge(extra) { $1 }
        return try EmailSink(
            name: "mail", options: options, zone: Notices.stockholm, hostname: "srv1.kommun.example",
            clock: FixedClock(date: Notices.saturdayMorning), environment: [:], trace: trace.handler)
    }

    func attempt(_ sink: EmailSink, _ notice: OutgoingNotice) async -> Result<DeliveryReceipt, SinkError> {
        do {
            return .success(try await sink.deliver(notice))
        } catch {
            return .failure(error)
        }
    }

    @Test("One message per notice, to all its recipients; subject, body and Message-ID arrive intact")
    func accepted() async throws {
        let server = try await TestSMTPServer.start("accept")
        let trace = TraceLog()
        let notice = Notices.make(recipients: [
            ("samordnare", "samordnare@avesta.example"), ("kommunpolis", "kommunpolis@polisen.example"),
            ("ersättare", "SAMORDNARE@avesta.example"),
        ])
        let receipt = try await sink(server, trace: trace).deliver(notice)
        #expect(receipt.detail.contains("accepted for samordnare+ersättare, kommunpolis"))
        #expect(receipt.detail.contains("250 2.0.0 Ok: queued as 0001"))
        #expect(!receipt.detail.contains("@"))

        let messages = try server.events().filter { $0.event == "message" }
        #expect(messages.count == 1)
        #expect(messages.first?.rcpt_tos == ["samordnare@avesta.example", "kommunpolis@polisen.example"])
        #expect(messages.first?.mail_from == "samverkan@kommun.example")
        #expect(messages.first?.tls == false)

        let mail = try #require(try await server.messages().first)
        #expect(mail.defects.isEmpty)
        #expect(mail.line_endings == "crlf")
        #expect(mail.header("Subject") == Notices.subject)
        // Python keeps the CRLF of SMTP's canonical form in the decoded text.
        #expect(mail.body.replacingOccurrences(of: "\r\n", with: "\n") == Notices.body)
        #expect(mail.header("Message-ID") == "<avesta-falun/uppfoljning/2026-09-07/-30d@samverkan.srv1.kommun.example>")
        #expect(mail.header("To") == "samordnare@avesta.example, kommunpolis@polisen.example")
        #expect(mail.header("From") == "Påminnelsetjänsten <samverkan@kommun.example>")
        #expect(mail.header("Reply-To") == "samordnare@avesta.example")
        #expect(mail.header("Auto-Submitted") == "auto-generated")
        #expect(mail.header("X-Samverkan-Notice") == notice.id)
        #expect(mail.date == "2026-03-28T09:00:00+01:00")

        let log = trace.all
        #expect(log.contains("C: EHLO srv1.kommun.example"))
        #expect(log.contains("C: MAIL FROM:<samverkan@kommun.example>"))
        // Recipients appear in the trace by role only.
        #expect(log.contains("C: RCPT TO:<[kommunpolis]>"))
        #expect(!log.joined().contains("@avesta.example") && !log.joined().contains("@polisen.example"))
        #expect(log.contains { $0.hasPrefix("C: <message, ") })
        #expect(log.last == "S: 221 Bye")
        #expect(await server.stop() == 0)
    }

    @Test("451 twice to RCPT, then accepted: transient, transient, sent, and the message arrives once")
    func temporaryThenAccepted() async throws {
        let server = try await TestSMTPServer.start("flaky")
        let sink = try sink(server, trace: TraceLog())
        let notice = Notices.make(recipients: [("samordnare", "flaky@avesta.example")])
        for _ in 0..<2 {
            let result = await attempt(sink, notice)
            guard case .failure(let error) = result else {
                Issue.record("expected a transient failure, got \(result)")
                return
            }
            #expect(error.code == .transient)
            #expect(error.message.contains("not accepted for now for samordnare (451 4.7.1 greylisted"))
        }
        #expect(try server.events().filter { $0.event == "message" }.isEmpty)
        let receipt = try await sink.deliver(notice)
        #expect(receipt.detail.contains("accepted for samordnare"))
        let events = try server.events()
        #expect(events.filter { $0.event == "rcpt" }.map(\.code) == [451, 451, 250])
        #expect(events.filter { $0.event == "message" }.count == 1)
        #expect(try await server.messages().first?.header("Subject") == Notices.subject)
        await server.stop()
    }

    @Test("One recipient not now, one accepted: the accepted one is not sent a second copy on retry")
    func partlyTemporary() async throws {
        let server = try await TestSMTPServer.start("partial")
        let sink = try sink(server, trace: TraceLog())
        let notice = Notices.make(recipients: [
            ("kommunpolis", "flaky@polisen.example"), ("samordnare", "samordnare@avesta.example"),
        ])
        for _ in 0..<2 {
            guard case .failure(let error) = await attempt(sink, notice) else {
                Issue.record("expected a transient failure")
                return
            }
            #expect(error.code == .transient)
            #expect(!error.message.contains("@"))
        }
        _ = try await sink.deliver(notice)
        let messages = try server.events().filter { $0.event == "message" }
        #expect(messages.map(\.rcpt_tos) == [["samordnare@avesta.example"], ["flaky@polisen.example"]])
        let mails = try await server.messages()
        // Both copies are the same message: same Message-ID, all recipients in To.
        #expect(Set(mails.compactMap { $0.header("Message-ID") }).count == 1)
        #expect(mails.allSatisfy { $0.header("To") == "flaky@polisen.example, samordnare@avesta.example" })
        await server.stop()
    }

    @Test("550 to RCPT: permanent, named by role, with the address scrubbed from the server's reply")
    func refused() async throws {
        let server = try await TestSMTPServer.start("reject")
        let sink = try sink(server, trace: TraceLog())
        let result = await attempt(sink, Notices.make(recipients: [("skola", "reject@avesta.example")]))
        guard case .failure(let error) = result else {
            Issue.record("expected a permanent failure, got \(result)")
            return
        }
        #expect(error.code == .permanent)
        #expect(error.message.contains("refused for skola (550 5.1.1 <[skola]>: Recipient address rejected"))
        #expect(!error.message.contains("reject@"))
        #expect(try server.events().filter { $0.event == "message" }.isEmpty)

        // With another recipient that is accepted: delivered to it, permanent for the refused one.
        let mixed = Notices.make(
            id: "avesta-falun/uppfoljning/2026-09-07/due",
            recipients: [("skola", "reject@avesta.example"), ("samordnare", "samordnare@avesta.example")])
        guard case .failure(let mixedError) = await attempt(sink, mixed) else {
            Issue.record("expected a permanent failure")
            return
        }
        #expect(mixedError.code == .permanent)
        #expect(mixedError.message.contains("delivered to samordnare"))
        #expect(try server.events().filter { $0.event == "message" }.map(\.rcpt_tos) == [["samordnare@avesta.example"]])

        // A 4xx beside a 5xx: transient, so the 4xx one gets another chance.
        let both = Notices.make(
            id: "avesta-falun/uppfoljning/2026-09-07/overdue",
            recipients: [("skola", "reject@avesta.example"), ("fritid", "tempfail@avesta.example")])
        guard case .failure(let bothError) = await attempt(sink, both) else {
            Issue.record("expected a transient failure")
            return
        }
        #expect(bothError.code == .transient)
        await server.stop()
    }

    /// Every text the client produced must hold the password in no form.
    func expectNoPassword(_ texts: [String], passwords: [String] = [EmailSinkSMTPTests.password]) {
        for password in passwords {
            let forms = [
                password, Data(password.utf8).base64EncodedString(),
                Data(([0] + Array(Self.user.utf8) + [0] + Array(password.utf8))).base64EncodedString(),
            ]
            for text in texts {
                for form in forms { #expect(!text.contains(form), "the password leaked into: \(text)") }
            }
        }
    }

    func authServer(_ name: String, mechanisms: String) async throws -> (TestSMTPServer, TestCertificates) {
        let certificates = try await TestCertificates.shared.value
        let directory = try MailTest.scratch(name + "-secret")
        try MailTest.write(Self.password + "\n", to: directory + "/server-password")
        let server = try await TestSMTPServer.start(
            name,
            [
                "--tls-cert", certificates.certificateFile, "--tls-key", certificates.keyFile, "--require-starttls",
                "--auth-user", Self.user, "--auth-password-file", directory + "/server-password",
                "--auth-mechanisms", mechanisms,
            ])
        return (server, certificates)
    }

    @Test(
        "STARTTLS required, with a certificate from the test's CA; AUTH with a password from a file",
        arguments: ["PLAIN", "LOGIN"])
    func startTLSAndAuth(mechanism: String) async throws {
        let (server, certificates) = try await authServer("auth-\(mechanism)", mechanisms: mechanism)
        let directory = try MailTest.scratch("password")
        try MailTest.write(Self.password + "\n", to: directory + "/smtp-password")
        let trace = TraceLog()
        let sink = try sink(
            server,
            [
                "tls": "starttls", "username": Self.user, "password_file": directory + "/smtp-password",
                "ca_file": certificates.caFile,
            ], trace: trace, host: mechanism == "PLAIN" ? "localhost" : "127.0.0.1")
        let receipt = try await sink.deliver(Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))

        let events = try server.events()
        #expect(
            events.filter { $0.event == "auth" }.map { "\($0.mechanism ?? "") \($0.ok ?? false)" } == [
                "\(mechanism) true"
            ])
        let message = try #require(events.first { $0.event == "message" })
        #expect(message.tls == true)
        #expect(message.login == Self.user)
        #expect(try await server.messages().first?.header("Subject") == Notices.subject)

        let log = trace.all
        #expect(log.contains("-- TLS started"))
        #expect(log.contains(mechanism == "PLAIN" ? "C: AUTH PLAIN <redacted>" : "C: <redacted>"))
        // AUTH is offered only after TLS: the first EHLO's reply does not list it.
        let tlsStart = try #require(log.firstIndex(of: "-- TLS started"))
        #expect(!log[..<tlsStart].contains { $0.contains("AUTH") })
        expectNoPassword(log + [receipt.detail])
        await server.stop()
    }

    @Test("A wrong password: permanent, and neither password appears anywhere")
    func wrongPassword() async throws {
        let (server, certificates) = try await authServer("auth-wrong", mechanisms: "PLAIN,LOGIN")
        let directory = try MailTest.scratch("password")
        let wrong = "fel-Lösen-0000"
        try MailTest.write(wrong, to: directory + "/smtp-password")
        let trace = TraceLog()
        let sink = try sink(
            server,
            [
                "tls": "starttls", "username": Self.user, "password_file": directory + "/smtp-password",
                "ca_file": certificates.caFile,
            ], trace: trace)
        let result = await attempt(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        guard case .failure(let error) = result else {
            Issue.record("expected a permanent failure, got \(result)")
            return
        }
        #expect(error.code == .permanent)
        #expect(error.message.contains("refused the login of user samverkan: 535"))
        expectNoPassword(trace.all + [error.message, error.description], passwords: [Self.password, wrong])
        #expect(try server.events().filter { $0.event == "message" }.isEmpty)
        await server.stop()
    }

    @Test("tls: starttls against a server that does not offer it: permanent")
    func startTLSMissing() async throws {
        let server = try await TestSMTPServer.start("nostarttls")
        let sink = try sink(server, ["tls": "starttls"], trace: TraceLog())
        let result = await attempt(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        guard case .failure(let error) = result else {
            Issue.record("expected a permanent failure, got \(result)")
            return
        }
        #expect(error.code == .permanent)
        #expect(error.message.contains("does not offer STARTTLS, and tls: starttls requires it"))
        #expect(try server.events().isEmpty)
        await server.stop()
    }

    @Test("A certificate from a CA that is not trusted: permanent", arguments: [false, true])
    func untrustedCertificate(otherCA: Bool) async throws {
        let certificates = try await TestCertificates.shared.value
        let server = try await TestSMTPServer.start(
            "untrusted", ["--tls-cert", certificates.certificateFile, "--tls-key", certificates.keyFile])
        let sink = try sink(
            server, otherCA ? ["tls": "starttls", "ca_file": certificates.otherCAFile] : ["tls": "starttls"],
            trace: TraceLog())
        let result = await attempt(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        guard case .failure(let error) = result else {
            Issue.record("expected a permanent failure, got \(result)")
            return
        }
        #expect(error.code == .permanent)
        #expect(error.message.contains("does not verify"))
        #expect(try server.events().isEmpty)
        await server.stop()
    }

    @Test("A certificate from the trusted CA for another host name: permanent", arguments: ["127.0.0.1", "localhost"])
    func wrongHostName(host: String) async throws {
        let certificates = try await TestCertificates.shared.value
        let server = try await TestSMTPServer.start(
            "wrongname",
            ["--tls-cert", certificates.wrongNameCertificateFile, "--tls-key", certificates.wrongNameKeyFile])
        let sink = try sink(
            server, ["tls": "starttls", "ca_file": certificates.caFile], trace: TraceLog(), host: host)
        let result = await attempt(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        guard case .failure(let error) = result else {
            Issue.record("expected a permanent failure, got \(result)")
            return
        }
        #expect(error.code == .permanent, "\(error)")
        #expect(error.message.contains("certificate of \(host):\(server.port)"), "\(error)")
        #expect(try server.events().isEmpty)
        await server.stop()
    }

    @Test("Plaintext sent along with STARTTLS's 220 is refused, not read as the server's reply")
    func startTLSInjection() async throws {
        let server = try await TestSMTPServer.start("injection", ["--starttls-injection"])
        let trace = TraceLog()
        let sink = try sink(server, ["tls": "starttls"], trace: trace)
        let result = await attempt(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.message.contains("sent data after agreeing to STARTTLS"))
        #expect(!trace.all.contains { $0.contains("injected") })
        await server.stop()
    }

    @Test("Implicit TLS (tls: tls)")
    func implicitTLS() async throws {
        let certificates = try await TestCertificates.shared.value
        let server = try await TestSMTPServer.start(
            "implicit",
            ["--tls-cert", certificates.certificateFile, "--tls-key", certificates.keyFile, "--implicit-tls"])
        let sink = try sink(server, ["tls": "tls", "ca_file": certificates.caFile], trace: TraceLog())
        _ = try await sink.deliver(Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        #expect(try server.events().first { $0.event == "message" }?.tls == true)
        await server.stop()
    }

    @Test("STARTTLS when offered: used when the server offers it, plain when it does not")
    func startTLSIfOffered() async throws {
        let certificates = try await TestCertificates.shared.value
        let withTLS = try await TestSMTPServer.start(
            "offered", ["--tls-cert", certificates.certificateFile, "--tls-key", certificates.keyFile])
        let without = try await TestSMTPServer.start("notoffered")
        for (server, expected) in [(withTLS, true), (without, false)] {
            let config = SMTPClient.Configuration(
                host: "127.0.0.1", port: server.port, security: .startTLSIfOffered, heloName: "srv1.kommun.example",
                additionalTrustRootFiles: [certificates.caFile])
            let sink = EmailSink(
                name: "mail", transport: .smtp(config), from: EmailAddress(address: "samverkan@kommun.example")!,
                replyTo: nil, zone: Notices.stockholm, hostname: "srv1.kommun.example")
            _ = try await sink.deliver(Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
            #expect(try server.events().first { $0.event == "message" }?.tls == expected)
            await server.stop()
        }
    }

    @Test("A stopped server: transient")
    func connectionRefused() async throws {
        let server = try await TestSMTPServer.start("stopped")
        #expect(await server.stop() == 0)
        let result = await attempt(
            try sink(server, trace: TraceLog()), Notices.make(recipients: [("samordnare", "samordnare@avesta.example")])
        )
        guard case .failure(let error) = result else {
            Issue.record("expected a transient failure, got \(result)")
            return
        }
        #expect(error.code == .transient)
        #expect(error.message.contains("cannot connect to 127.0.0.1:\(server.port)"))
    }

    @Test("A server that never answers: transient once the reply timeout passes")
    func silentServer() async throws {
        // A socket that listens and never accepts: the kernel completes the handshake, nobody greets.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let config = SMTPClient.Configuration(
            host: "127.0.0.1", port: port, security: .none, heloName: "h", replyTimeout: .milliseconds(300))
        let sink = EmailSink(
            name: "mail", transport: .smtp(config), from: EmailAddress(address: "samverkan@kommun.example")!,
            replyTo: nil, zone: Notices.stockholm)
        let started = ContinuousClock.now
        let result = await attempt(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        guard case .failure(let error) = result else {
            Issue.record("expected a transient failure, got \(result)")
            return
        }
        #expect(error.code == .transient)
        #expect(error.message.contains("did not answer within"))
        // Far below "forever", with room for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
