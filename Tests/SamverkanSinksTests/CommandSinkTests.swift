import Foundation
import SamverkanCore
import Testing

@testable import SamverkanSinks

#if canImport(Glibc)
    import Glibc
#endif

/// The command sink running real scripts: what the program gets (standard input, environment,
/// descriptors, signal state) and how its end is classified.
@Suite("Command sink running real programs", .timeLimit(.minutes(1)))
struct CommandSinkTests {
    static let notice: OutgoingNotice = {
        var notice = Notices.make(recipients: [("samordnare", "samordnare@avesta.example")])
        notice.late = true
        return notice
    }()

    func failure(_ sink: CommandSink, _ notice: OutgoingNotice = CommandSinkTests.notice) async -> SinkError? {
        do {
            let receipt = try await sink.deliver(notice)
            Issue.record("expected a failure, got \(receipt)")
            return nil
        } catch {
            return error
        }
    }

    /// Whether a process has ended: no such process, or a zombie nobody has reaped yet (in a
    /// container without an init that reaps, an orphan stays one).
    /// SIGKILL to a process group is delivered asynchronously: a child may still be running for
    /// a moment after the sink returned. Waits for it to be gone, with a deadline.
    static func becomesGone(_ pid: pid_t, within timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isGone(pid) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isGone(pid)
    }

    static func isGone(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        // `PID (COMM) STATE …`: the state follows the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    @Test("The notice JSON on stdin, argv as given, and a clean environment with the SAMVERKAN_ fields")
    func inputAndEnvironment() async throws {
        let out = try MailTest.scratch("command-out")
        let marker = out + "/open-without-cloexec"
        let fd = open(marker, O_WRONLY | O_CREAT, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let program = try await MailTest.script(
            """
            out="$1"
            printf '%s\\n' "$@" > "$out/argv"
            cat > "$out/stdin"
            cat /proc/$$/environ > "$out/environ"
            sh -c 'ls -l /proc/$PPID/fd > "$1"' sh "$out/fds"
            echo "a line on stdout, which goes nowhere"
            exec grep -E '^Sig(Blk|Ign)' /proc/self/status > "$out/signals"
            """, named: "notify")
        let sink = CommandSink(name: "cmd", argv: [program, out, "två ord", ""])
        let receipt = try await sink.deliver(Self.notice)
        #expect(receipt.detail == "\(program) exited 0")

        let stdin = try Data(contentsOf: URL(fileURLWithPath: out + "/stdin"))
        #expect(Array(stdin) == (try Self.notice.jsonBytes()))
        #expect(try String(contentsOfFile: out + "/argv", encoding: .utf8) == "\(out)\ntvå ord\n\n")

        let environ = try String(contentsOfFile: out + "/environ", encoding: .utf8)
        let variables = environ.split(separator: "\0").map(String.init).sorted()
        #expect(
            variables == [
                "LANG=C.UTF-8", "PATH=\(CommandSink.defaultSearchPath)",
                "SAMVERKAN_AGREEMENT=avesta-falun", "SAMVERKAN_AT=2026-08-07T09:00:00+02:00",
                "SAMVERKAN_DEADLINE=avesta-falun/uppfoljning/2026-09-07", "SAMVERKAN_DUE=2026-09-07T09:00:00+02:00",
                "SAMVERKAN_KIND=follow_up", "SAMVERKAN_LATE=1",
                "SAMVERKAN_NOTICE=avesta-falun/uppfoljning/2026-09-07/-30d", "SAMVERKAN_SLOT=-30d",
            ])

        // 0 and 2 are pipes, 1 is /dev/null; the only other descriptor is the shell's own one
        // on its script. The test's descriptor without close-on-exec did not get through.
        // Listed by a child that redirects its own output (the shell would move its own
        // descriptors to redirect); `ls -l` lines end in `N -> TARGET`.
        var targets: [String: String] = [:]
        for line in try String(contentsOfFile: out + "/fds", encoding: .utf8).split(separator: "\n") {
            guard let arrow = line.range(of: " -> ") else { continue }
            let number = line[..<arrow.lowerBound].split(separator: " ").last.map(String.init) ?? ""
            targets[number] = String(line[arrow.upperBound...])
        }
        #expect(targets.count >= 3, "\(targets)")
        #expect(targets["0"]?.hasPrefix("pipe:") == true)
        #expect(targets["1"] == "/dev/null")
        #expect(targets["2"]?.hasPrefix("pipe:") == true)
        for (number, target) in targets where !["0", "1", "2"].contains(number) {
            #expect(target == program, "descriptor \(number) → \(target)")
        }
        #expect(!targets.values.contains(marker))

        // Signals 1–31 neither blocked nor ignored; 32 and up are glibc's own.
        let signals = try String(contentsOfFile: out + "/signals", encoding: .utf8)
        func mask(_ name: String) -> UInt64? {
            guard let range = signals.range(of: name + ":\t") else { return nil }
            return UInt64(signals[range.upperBound...].prefix(16), radix: 16)
        }
        #expect(mask("SigBlk").map { $0 & 0x7FFF_FFFF } == 0)
        #expect(mask("SigIgn").map { $0 & 0x7FFF_FFFF } == 0)
    }

    @Test("A bare program name is looked up in PATH, which the program gets too")
    func lookedUpInPath() async throws {
        let program = try await MailTest.script("exit 0", named: "samverkan-notify")
        let directory = URL(fileURLWithPath: program).deletingLastPathComponent().path
        let sink = CommandSink(name: "cmd", argv: ["samverkan-notify"], searchPath: "relative:\(directory):/usr/bin")
        #expect(try await sink.deliver(Self.notice).detail == "\(program) exited 0")
    }

    @Test("Exit 75 (EX_TEMPFAIL) is transient; its standard error is in the error")
    func temporaryFailure() async throws {
        let program = try await MailTest.script("echo 'kön är full' >&2; exit 75", named: "notify")
        let error = await failure(CommandSink(name: "cmd", argv: [program]))
        #expect(error?.code == .transient)
        #expect(error?.message == "\(program) exited 75 (EX_TEMPFAIL), will retry: kön är full")
    }

    @Test("Exit 1 is permanent; the first lines of standard error, bounded, are in the error")
    func otherExit() async throws {
        let program = try await MailTest.script(
            """
            cat > /dev/null
            for i in 1 2 3 4 5 6 7; do printf 'fel %s\\t\\033[31mröd\\033[0m\\n\\n' $i >&2; done
            head -c 200000 /dev/zero | tr '\\\\0' x >&2
            exit 1
            """, named: "notify")
        let error = await failure(CommandSink(name: "cmd", argv: [program]))
        #expect(error?.code == .permanent)
        let message = error?.message ?? ""
        #expect(message.hasPrefix("\(program) exited 1: fel 1 [31mröd [0m / fel 2 "), "\(message)")
        #expect(!message.contains("fel 6") && !message.contains("\n") && !message.contains("\u{1B}"))
        #expect(message.count < 700)
    }

    @Test("Past the time limit: stopped, transient, and the program and its children are gone")
    func timeLimit() async throws {
        let out = try MailTest.scratch("command-timeout")
        let program = try await MailTest.script(
            "echo $$ > \"$1/pid\"; sleep 30 & echo $! > \"$1/child\"; wait", named: "notify")
        let sink = CommandSink(name: "cmd", argv: [program, out], timeout: .milliseconds(500))
        let started = ContinuousClock.now
        let error = await failure(sink)
        // 0.5 s limit, then SIGTERM: far below the script's 30 s, with room for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.code == .transient)
        #expect(
            error?.message.contains("did not finish within 0.5 seconds and was stopped (SIGTERM)") == true,
            "\(String(describing: error))")
        let pid = try #require(
            pid_t(
                try String(contentsOfFile: out + "/pid", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        let child = try #require(
            pid_t(
                try String(contentsOfFile: out + "/child", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        #expect(await Self.becomesGone(pid))
        #expect(await Self.becomesGone(child))
    }

    @Test("A program that ignores SIGTERM gets SIGKILL after the grace period, and its children too")
    func killAfterGrace() async throws {
        let out = try MailTest.scratch("command-kill")
        let program = try await MailTest.script(
            "trap '' TERM; echo $$ > \"$1/pid\"; sleep 30 & echo $! > \"$1/child\"; wait", named: "notify")
        let sink = CommandSink(
            name: "cmd", argv: [program, out], timeout: .milliseconds(300), searchPath: "/usr/bin:/bin",
            killGrace: .milliseconds(300))
        let error = await failure(sink)
        #expect(error?.code == .transient)
        #expect(error?.message.contains("was stopped (SIGKILL after SIGTERM)") == true, "\(String(describing: error))")
        let pid = try #require(
            pid_t(
                try String(contentsOfFile: out + "/pid", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        let child = try #require(
            pid_t(
                try String(contentsOfFile: out + "/child", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        #expect(await Self.becomesGone(pid))
        #expect(await Self.becomesGone(child))
    }

    @Test("Cancelling the delivery stops the program")
    func cancelled() async throws {
        let out = try MailTest.scratch("command-cancel")
        // The program says it runs through a FIFO: an event, read on a thread of its own.
        try #require(mkfifo(out + "/started", 0o600) == 0)
        let fifo = open(out + "/started", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        try #require(fifo >= 0)
        defer { close(fifo) }
        let program = try await MailTest.script("echo $$ > \"$1/started\"; exec sleep 30", named: "notify")
        let sink = CommandSink(name: "cmd", argv: [program, out], timeout: .seconds(30))
        let started = ContinuousClock.now
        let delivery = Task { try await sink.deliver(Self.notice) }
        let line = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: readLine(fifo, timeoutMilliseconds: 10_000)) }
        }
        let pid = try #require(line.flatMap { pid_t($0) }, "the program did not start")
        delivery.cancel()
        let result = await delivery.result
        #expect(ContinuousClock.now - started < .seconds(10))
        guard case .failure(let error as SinkError) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == .transient)
        #expect(error.message == "\(program) was stopped: the delivery was cancelled", "\(error)")
        #expect(Self.isGone(pid))
    }

    @Test("A program that is not there, or not executable, is permanent")
    func cannotRun() async throws {
        let missing = await failure(CommandSink(name: "cmd", argv: ["/nonexistent/samverkan-notify"]))
        #expect(missing?.code == .permanent)
        #expect(missing?.message.contains("No such file or directory") == true, "\(String(describing: missing))")

        let notInPath = await failure(CommandSink(name: "cmd", argv: ["samverkan-no-such-program"]))
        #expect(notInPath?.code == .permanent)
        #expect(notInPath?.message.contains("no program 'samverkan-no-such-program' in PATH") == true)

        let directory = try MailTest.scratch("command-noexec")
        try MailTest.write("#!/bin/sh\nexit 0\n", to: directory + "/notify", mode: 0o644)
        let notExecutable = await failure(CommandSink(name: "cmd", argv: [directory + "/notify"]))
        #expect(notExecutable?.code == .permanent)
        #expect(notExecutable?.message.contains("Permission denied") == true, "\(String(describing: notExecutable))")
    }

    @Test("Options: argv required and absolute or bare, timeout form, the program exists at load")
    func options() throws {
        func problem(_ argv: [String]?, _ options: [String: String] = [:]) -> String? {
            do {
                _ = try CommandSink(
                    name: "cmd", options: options, listOptions: argv.map { ["argv": $0] } ?? [:],
                    environment: ["PATH": "/usr/bin:/bin"])
                return nil
            } catch {
                return error.message
            }
        }
        #expect(problem(nil)?.contains("needs 'argv'") == true)
        #expect(problem([])?.contains("needs 'argv'") == true)
        #expect(problem(["./notify"])?.contains("absolute path or a name looked up in PATH") == true)
        #expect(problem(["samverkan-no-such-program"])?.contains("no program") == true)
        #expect(problem(["true"], ["timeout": "30"])?.contains("timeout must be") == true)
        #expect(problem(["true"], ["url": "x"])?.contains("does not take 'url'") == true)
        #expect(problem(["true"]) == nil)
        let sink = try CommandSink(
            name: "cmd", options: ["timeout": "5s"], listOptions: ["argv": ["true", "--x"]],
            environment: ["PATH": "/usr/bin:/bin"])
        #expect(sink.timeout == .seconds(5) && sink.searchPath == "/usr/bin:/bin" && sink.argv == ["true", "--x"])
        #expect(
            try CommandSink(name: "c", options: [:], listOptions: ["argv": ["true"]], environment: [:]).timeout
                == .seconds(30))
    }
}
