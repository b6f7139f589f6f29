import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

/// Issue 7 end to end: the real daemon mailing through a real SMTP server on 127.0.0.1
/// (aiosmtpd, `Tests/SamverkanSinksTests/Servers/smtp_server.py`). A greylisting server (451
/// twice) gets the notice once, after the retries; a 550 goes to the fallback; a 550 with a
/// failing fallback is a dead letter.
@Suite("email through the real daemon")
struct EmailDeliveryTests {
    /// The SMTP server, started for one test; it prints its port on its first line.
    final class SMTPServer: @unchecked Sendable {
        let process = Process()
        let directory: URL
        var port = 0

        init(directory: URL) throws {
            self.directory = directory
            let script = TestEnvironment.repositoryRoot.appendingPathComponent(
                "Tests/SamverkanSinksTests/Servers/smtp_server.py")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script.path, directory.path, "--flaky-count", "2"]
            let out = directory.appendingPathComponent("stdout")
            guard FileManager.default.createFile(atPath: out.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown)
            }
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func waitForPort() async throws -> Bool {
            try await eventually(timeout: .seconds(20)) {
                let text =
                    (try? String(contentsOf: self.directory.appendingPathComponent("stdout"), encoding: .utf8)) ?? ""
                guard let line = text.split(separator: "\n").first, let port = Int(line) else { return false }
                self.port = port
                return true
            }
        }

        var events: [[String: Any]] {
            let text =
                (try? String(contentsOf: directory.appendingPathComponent("events.jsonl"), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        func stop() {
            if process.isRunning { process.terminate() }
        }
    }

    static func agreement(_ id: String, address: String, date: LocalDate, time: String) -> String {
        """
        id: \(id)
        title: Samverkan Älvdalen – Mora (\(id))
        roles:
          samordnare: {email: \(address)}
        obligations:
          - id: uppfoljning
            kind: review
            title: Årlig uppföljning i lokala BRÅ – även för ö-området
            schedule: {date: \(date), time: "\(time)"}
            notify: [samordnare]

        """
    }

    @Test("greylisted twice then accepted: one message with the right headers; 550: fallback, or a dead letter")
    func retriesFallbackDeadLetter() async throws {
        let root = try TestEnvironment.scratch("email")
        let mailDirectory = root.appendingPathComponent("mail")
        try FileManager.default.createDirectory(at: mailDirectory, withIntermediateDirectories: true)
        let server = try SMTPServer(directory: mailDirectory)
        defer { server.stop() }
        #expect(try await server.waitForPort(), "the SMTP server did not start")

        let zone = try #require(Zone(identifier: "Europe/Stockholm"))
        let due = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 5).rounded(.down))
        let local = zone.local(due)
        let settings = """
            timezone: Europe/Stockholm
            sinks:
              - {name: mail, type: email, transport: smtp, host: 127.0.0.1, port: \(server.port), tls: none,
                 from: samverkan@kommun.example, reply_to: samordnare@kommun.example, retry: {initial: 1s, max: 2s}}
              - {name: outbox, type: file, directory: outbox, format: json}
              - {name: broken, type: command, argv: [/bin/sh, -c, "exit 1"]}
            routes:
              - {match: {agreement: dead}, sinks: [mail], fallback: broken}
              - {sinks: [mail], fallback: outbox}

            """
        let running = try await RunningDaemon.start(
            "email", settings: settings,
            agreements: [
                "grey.yaml": Self.agreement(
                    "grey", address: "flaky@prov.example", date: local.date, time: hhmmss(local.time)),
                "bounce.yaml": Self.agreement(
                    "bounce", address: "reject@prov.example", date: local.date, time: hhmmss(local.time)),
                "dead.yaml": Self.agreement(
                    "dead", address: "reject2@prov.example", date: local.date, time: hhmmss(local.time)),
            ])
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }

        let greyID = "grey/uppfoljning/\(local.date)/due"
        let arrived = try await eventually(timeout: .seconds(30)) {
            server.events.contains { $0["event"] as? String == "message" }
        }
        #expect(arrived, "no message arrived; stderr:\n\(daemon.stderr)")
        // 451, 451, then 250 for the greylisted address: the daemon retried with backoff.
        let greyCodes = server.events.filter { $0["address"] as? String == "flaky@prov.example" }.compactMap {
            $0["code"] as? Int
        }
        #expect(greyCodes == [451, 451, 250], "\(greyCodes)")
        let messages = server.events.filter { $0["event"] as? String == "message" }
        #expect(messages.count == 1, "one message for the notice")
        // Parsed by Python's email package: headers and the Swedish subject round-trip.
        let file = try #require(messages.first?["file"] as? String)
        let parsed = try await ProcessRunner.run(
            "/usr/bin/python3",
            [
                "-c",
                """
                import email, email.policy, sys
                m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
                print(m['Message-ID'])
                print(m['Subject'])
                print(m['Reply-To'])
                print(m['Auto-Submitted'])
                print(m['X-Samverkan-Notice'])
                print(m.get_content().count('samverkanctl done'))
                """,
                file,
            ])
        let lines = parsed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("<\(greyID)@samverkan.") == true, "\(parsed.output)")
        #expect(lines.count > 1 && lines[1].contains("Årlig uppföljning i lokala BRÅ – även för ö-området"), "\(lines)")
        #expect(lines.contains("samordnare@kommun.example"))
        #expect(lines.contains("auto-generated"))
        #expect(lines.contains(greyID))

        // 550 with the outbox as fallback: the file is there.
        let fallbackFile = daemon.stateDirectory.appendingPathComponent(
            "outbox/\(NoticeID.fileName("bounce/uppfoljning/\(local.date)/due")).json")
        let fellBack = try await eventually(timeout: .seconds(20)) {
            FileManager.default.fileExists(atPath: fallbackFile.path)
        }
        #expect(fellBack)
        // 550 with a failing fallback: a dead letter, listed by `samverkanctl undelivered`.
        let deadID = "dead/uppfoljning/\(local.date)/due"
        let listed = try await eventually(timeout: .seconds(20)) {
            let result = try await ProcessRunner.run(
                TestEnvironment.ctl, ["undelivered", "--json", "--socket", daemon.socketPath])
            return result.stdout.contains(deadID)
        }
        #expect(listed, "stderr:\n\(daemon.stderr)")
        #expect(daemon.stderr.contains("could not be delivered and was given up"))
        await daemon.stop()
    }
}
