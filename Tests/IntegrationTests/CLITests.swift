import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

/// samverkanctl as people use it: colour only on a terminal and never with NO_COLOR, the
/// agreements listing, and helpful errors.
@Suite("samverkanctl")
struct CLITests {
    @Test("colour on a terminal (through script(1)'s pty), none with NO_COLOR, none into a pipe")
    func colour() async throws {
        let running = try await RunningDaemon.start("colour")
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        let command = "\(TestEnvironment.ctl) upcoming --within 400d --socket \(daemon.socketPath)"
        var environment = ProcessInfo.processInfo.environment
        environment["TERM"] = "xterm"
        environment.removeValue(forKey: "NO_COLOR")
        let terminal = try await ProcessRunner.run(
            "/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
        #expect(terminal.stdout.contains("\u{1B}[1mSISTA DAG\u{1B}[0m"), "\(terminal.output)")
        environment["NO_COLOR"] = "1"
        let noColour = try await ProcessRunner.run(
            "/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
        #expect(noColour.stdout.contains("SISTA DAG"))
        #expect(!noColour.stdout.contains("\u{1B}["), "\(noColour.output)")
        let pipe = try await ProcessRunner.run(
            TestEnvironment.ctl, ["upcoming", "--within", "400d", "--socket", daemon.socketPath])
        #expect(pipe.stdout.contains("SISTA DAG") && !pipe.stdout.contains("\u{1B}["))
        await daemon.stop()
    }

    @Test("agreements: each with its validity and next deadlines; one by id; an unknown id is exit 1")
    func agreements() async throws {
        let running = try await RunningDaemon.start("agreements")
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        let list = try await ProcessRunner.run(
            TestEnvironment.ctl, ["agreements", "--json", "--socket", daemon.socketPath])
        let all = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(all.map { $0["id"] as? String } == ["prov"])
        #expect(all.first?["state"] as? String == "in_force")
        let next = all.first?["next"] as? [[String: Any]] ?? []
        #expect(next.first?["id"] as? String == "prov/uppgift/\(TestConfig.inAFewMonths)")
        let human = try await ProcessRunner.run(TestEnvironment.ctl, ["agreements", "--socket", daemon.socketPath])
        #expect(human.status == 0 && human.stdout.contains("Provöverenskommelse") && human.stdout.contains("gäller"))
        let unknown = try await ProcessRunner.run(
            TestEnvironment.ctl, ["agreements", "nej", "--socket", daemon.socketPath])
        #expect(unknown.status == 1 && unknown.stderr.contains("404"), "\(unknown.output)")
        await daemon.stop()
    }

    @Test("test-sink: a working sink is exit 0, one failing for now exit 3, a refusing one exit 1")
    func testSink() async throws {
        let running = try await RunningDaemon.start(
            "testsink",
            settings: """
                timezone: Europe/Stockholm
                sinks:
                  - {name: outbox, type: file, directory: outbox, format: json}
                  - {name: later, type: command, argv: [/bin/sh, -c, "exit 75"]}
                  - {name: never, type: command, argv: [/bin/sh, -c, "echo nej >&2; exit 1"]}
                routes:
                  - sinks: [outbox]

                """)
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        func run(_ name: String) async throws -> ProcessRunner.Result {
            try await ProcessRunner.run(TestEnvironment.ctl, ["test-sink", name, "--socket", daemon.socketPath])
        }
        let ok = try await run("outbox")
        #expect(ok.status == 0, "\(ok.output)")
        let files = try FileManager.default.contentsOfDirectory(
            atPath: daemon.stateDirectory.appendingPathComponent("outbox").path)
        #expect(files.contains { $0.hasPrefix("samverkand.test.") })
        let later = try await run("later")
        #expect(later.status == 3 && later.stderr.contains("for now"), "\(later.output)")
        let never = try await run("never")
        #expect(never.status == 1 && never.stderr.contains("nej"), "\(never.output)")
        let missing = try await run("nope")
        #expect(missing.status == 1 && missing.stderr.contains("outbox"), "\(missing.output)")
        await daemon.stop()
    }

    @Test("an unreachable daemon is exit 2 with the socket path in the message")
    func unreachable() async throws {
        let result = try await ProcessRunner.run(
            TestEnvironment.ctl, ["status", "--socket", "/tmp/samv-no-such-dir/control.sock"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("/tmp/samv-no-such-dir/control.sock"), "\(result.output)")
    }
}
