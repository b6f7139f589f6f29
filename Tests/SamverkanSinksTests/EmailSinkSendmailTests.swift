import Foundation
import SamverkanCore
import Testing

@testable import SamverkanSinks

#if canImport(Glibc)
    import Glibc
#endif

/// The sendmail transport through real msmtp to the same SMTP server, and the exit codes
/// measured in `platform.md` §5.
@Suite(
    "Email through sendmail (msmtp)",
    .enabled(
        if: (MailTest.hasAiosmtpd && MailTest.hasMsmtp) || MailTest.isCI,
        "needs python3-aiosmtpd and msmtp"), .timeLimit(.minutes(1)))
struct EmailSinkSendmailTests {
    /// A sendmail wrapper: msmtp pointed at the test's server, no config file.
    func msmtpWrapper(port: Int) async throws -> String {
        try await script("exec \(MailTest.msmtp) --host=127.0.0.1 --port=\(port) --auth=off --tls=off \"$@\"")
    }

    func script(_ body: String) async throws -> String {
        try await MailTest.script(body, named: "sendmail")
    }

    func sink(path: String, timeout: Duration = .seconds(30), trace: TraceLog = TraceLog()) throws -> EmailSink {
        let options = [
            "transport": "sendmail", "sendmail_path": path, "from": "Påminnelsetjänsten <samverkan@kommun.example>",
            "reply_to": "samordnare@avesta.example",
        ]
        let configured = try EmailSink(
            name: "mail", options: options, zone: Notices.stockholm, hostname: "srv1.kommun.example",
            clock: FixedClock(date: Notices.saturdayMorning), trace: trace.handler)
        return EmailSink(
            name: configured.name, transport: configured.transport, from: configured.from, replyTo: configured.replyTo,
            zone: configured.zone, hostname: configured.hostname, clock: configured.clock, sendmailTimeout: timeout,
            trace: trace.handler)
    }

    func failure(_ sink: EmailSink, _ notice: OutgoingNotice) async -> SinkError? {
        do {
            let receipt = try await sink.deliver(notice)
            Issue.record("expected a failure, got \(receipt)")
            return nil
        } catch {
            return error
        }
    }

    @Test("msmtp delivers the LF message to the server intact, to every recipient")
    func delivered() async throws {
        let server = try await TestSMTPServer.start("msmtp")
        let trace = TraceLog()
        let sink = try sink(path: try await msmtpWrapper(port: server.port), trace: trace)
        let notice = Notices.make(recipients: [
            ("samordnare", "samordnare@avesta.example"), ("kommunpolis", "kommunpolis@polisen.example"),
        ])
        let receipt = try await sink.deliver(notice)
        #expect(receipt.detail.hasSuffix("took it for samordnare, kommunpolis"))

        let message = try #require(try server.events().first { $0.event == "message" })
        #expect(message.rcpt_tos == ["samordnare@avesta.example", "kommunpolis@polisen.example"])
        #expect(message.mail_from == "samverkan@kommun.example")
        let mail = try #require(try await server.messages().first)
        #expect(mail.defects.isEmpty)
        #expect(mail.header("Subject") == Notices.subject)
        // Python keeps the CRLF of SMTP's canonical form in the decoded text.
        #expect(mail.body.replacingOccurrences(of: "\r\n", with: "\n") == Notices.body)
        #expect(mail.header("Message-ID") == "<avesta-falun/uppfoljning/2026-09-07/-30d@samverkan.srv1.kommun.example>")
        #expect(mail.header("From") == "Påminnelsetjänsten <samverkan@kommun.example>")
        #expect(mail.header("X-Samverkan-Deadline") == "avesta-falun/uppfoljning/2026-09-07")
        #expect(trace.all.contains { $0.contains("-t -i: exit 0") })
        await server.stop()
    }

    @Test("msmtp's exit codes: 65 on a 5xx is permanent, 69 on a 4xx is transient")
    func refusedAndLater() async throws {
        let server = try await TestSMTPServer.start("msmtp-codes")
        let sink = try sink(path: try await msmtpWrapper(port: server.port))
        let refused = await failure(sink, Notices.make(recipients: [("skola", "reject@avesta.example")]))
        #expect(refused?.code == .permanent)
        #expect(refused?.message.contains("exited 65") == true)
        #expect(refused?.message.contains("550 5.1.1") == true)
        #expect(refused?.message.contains("reject@") == false)

        let later = await failure(sink, Notices.make(recipients: [("skola", "tempfail@avesta.example")]))
        #expect(later?.code == .transient)
        #expect(later?.message.contains("exited 69") == true)
        #expect(try server.events().filter { $0.event == "message" }.isEmpty)
        await server.stop()
    }

    @Test("A stopped server: msmtp exits 75, transient")
    func stoppedServer() async throws {
        let server = try await TestSMTPServer.start("msmtp-stopped")
        #expect(await server.stop() == 0)
        let sink = try sink(path: try await msmtpWrapper(port: server.port))
        let error = await failure(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        #expect(error?.code == .transient)
        #expect(error?.message.contains("exited 75") == true)
    }

    @Test("A program that hangs is stopped at the time limit: transient")
    func timeLimit() async throws {
        let sink = try sink(path: try await script("exec sleep 30"), timeout: .milliseconds(300))
        let started = ContinuousClock.now
        let error = await failure(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        #expect(error?.code == .transient)
        #expect(error?.message.contains("did not finish within") == true, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("Other exit codes are permanent; the program's output is bounded in the error")
    func otherExit() async throws {
        let sink = try sink(path: try await script("head -c 200000 /dev/zero | tr '\\\\0' x >&2; exit 3"))
        let error = await failure(sink, Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        #expect(error?.code == .permanent)
        #expect(error?.message.contains("exited 3") == true)
        #expect((error?.message.count ?? 0) < 2000)
    }

    @Test("The program inherits no descriptor of the daemon's, and starts with no signal blocked or ignored")
    func cleanChild() async throws {
        let marker = try MailTest.scratch("marker") + "/open-without-cloexec"
        let fd = open(marker, O_WRONLY | O_CREAT, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let trace = TraceLog()
        let sink = try sink(
            path: try await script(
                "for f in /proc/$$/fd/*; do readlink $f; done; exec grep -E '^Sig(Blk|Ign)' /proc/self/status"),
            trace: trace)
        _ = try await sink.deliver(Notices.make(recipients: [("samordnare", "samordnare@avesta.example")]))
        let output = try #require(trace.all.first { $0.contains("-t -i: exit 0") })
        #expect(output.contains("/dev/") || output.contains("pipe:"))
        #expect(!output.contains(marker))
        // Signals 1–31 (SIGTERM, SIGPIPE…) neither blocked nor ignored; 32 and up are glibc's own.
        func mask(_ name: String) -> UInt64? {
            guard let range = output.range(of: name + ":\t") else { return nil }
            return UInt64(output[range.upperBound...].prefix(16), radix: 16)
        }
        #expect(mask("SigBlk").map { $0 & 0x7FFF_FFFF } == 0)
        #expect(mask("SigIgn").map { $0 & 0x7FFF_FFFF } == 0)
    }

    @Test("A program that exits without reading a large message neither hangs nor kills the daemon")
    func doesNotRead() async throws {
        let sink = try sink(path: try await script("exit 0"))
        let big = String(repeating: "En lång rad med åäö som upprepas. ", count: 40_000)
        let receipt = try await sink.deliver(
            Notices.make(recipients: [("samordnare", "samordnare@avesta.example")], body: big))
        #expect(receipt.detail.contains("took it for samordnare"))
    }
}
