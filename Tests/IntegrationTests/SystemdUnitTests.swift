import Foundation
import SamverkanTestSupport
import Testing

/// The systemd integration as users get it from `make install`: the unit files checked by
/// `systemd-analyze`, and the whole set booted under a real systemd 252 as PID 1 in a
/// systemd-nspawn container (`Tests/e2e/`, platform.md 7.4 and 7.7).
///
/// Both scripts install the binaries this test bundle was built with (the directory of
/// `samverkanPackageTests.xctest`, i.e. `.build/debug`); they never run swift themselves.
@Suite("systemd units")
struct SystemdUnitTests {
    /// The ids of the checks `Tests/e2e/container/checks.sh` writes, in order.
    static let e2eChecks = [
        "sysusers", "active-at-boot", "socket-listening", "status", "reload", "watchdog",
        "stop-and-activation", "config-invalid", "journal", "catalog", "unit-warnings",
    ]
    static let startedMessageID = "48425e9ac6fa4580a0e28df5f0e74b99"

    // The only reasons to skip: CI runs as root on Debian 12 with systemd-container installed,
    // so there both tests run. systemd-analyze needs no root; systemd-nspawn needs root (mounts,
    // namespaces) and the systemd-container package.
    static let hasSystemdAnalyze = FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")
    static let canBootContainer =
        TestEnvironment.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-nspawn")

    @Test(
        "systemd-analyze verify is silent and security rates the service 1.5 or lower",
        .enabled(if: SystemdUnitTests.hasSystemdAnalyze, "needs systemd-analyze (Linux with systemd 252)"),
        .timeLimit(.minutes(1)))
    func analyzeUnits() async throws {
        let root = try TestEnvironment.scratch("analyze")
        defer { try? FileManager.default.removeItem(at: root) }

        let result = try await runScript(
            "Tests/e2e/analyze-units.sh", [root.path, TestEnvironment.binDirectory.path])

        #expect(result.status == 0, "analyze-units.sh exited \(result.status):\n\(result.output)")
        let scoreLine = result.output.split(separator: "\n").last { $0.hasPrefix("SECURITY_SCORE=") }
        let score = try #require(
            scoreLine.flatMap { Double($0.dropFirst("SECURITY_SCORE=".count)) },
            "no SECURITY_SCORE line in:\n\(result.output)")
        #expect(score <= 1.5, "systemd-analyze security rates samverkand.service \(score):\n\(result.output)")
    }

    @Test(
        "the units work under a real systemd 252 as PID 1 (systemd-nspawn --boot)",
        .enabled(if: SystemdUnitTests.canBootContainer, "needs root and systemd-nspawn (package systemd-container)"),
        .timeLimit(.minutes(5)))
    func nspawnEndToEnd() async throws {
        let out = try TestEnvironment.scratch("nspawn")

        let result = try await runScript(
            "Tests/e2e/nspawn-e2e.sh", [out.path, TestEnvironment.binDirectory.path])

        let verdict =
            (try? String(contentsOf: out.appendingPathComponent("verdict"), encoding: .utf8))?
            .split(separator: "\n").map(String.init) ?? []
        for check in Self.e2eChecks {
            let line = verdict.first { $0.hasPrefix("PASS \(check)") || $0.hasPrefix("FAIL \(check):") }
            #expect(line == "PASS \(check)", "e2e check \(check): \(line ?? "no result") (logs in \(out.path))")
        }
        let unknownFailures = verdict.filter { line in
            line.hasPrefix("FAIL") && !Self.e2eChecks.contains { line.hasPrefix("FAIL \($0):") }
        }
        #expect(unknownFailures.isEmpty, "e2e checks failed: \(unknownFailures)")
        #expect(verdict.last == "DONE", "the checks did not finish (logs in \(out.path))")
        #expect(result.status == 0, "nspawn-e2e.sh exited \(result.status):\n\(result.output)")

        // The journal as the container's journald stored it: the `started` event carries
        // MESSAGE_ID, PRIORITY and the config generation as structured fields.
        let journal = (try? String(contentsOf: out.appendingPathComponent("journal.json"), encoding: .utf8)) ?? ""
        let entries = journal.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        let started = entries.filter { $0["MESSAGE_ID"] as? String == Self.startedMessageID }
        #expect(!started.isEmpty, "no started event among \(entries.count) journal entries")
        for entry in started {
            #expect(entry["_SYSTEMD_UNIT"] as? String == "samverkand.service")
            #expect((entry["PRIORITY"] as? String).flatMap(Int.init).map { (0...7).contains($0) } == true)
            #expect(
                (entry["SAMVERKAN_GENERATION"] as? String).flatMap(Int.init) != nil,
                "started event without a numeric SAMVERKAN_GENERATION: \(entry["MESSAGE"] as? String ?? "")")
        }

        if result.status == 0 { try? FileManager.default.removeItem(at: out) }
    }
}

/// What a script printed (stdout and stderr, interleaved) and how it exited.
struct ScriptResult: Sendable {
    var status: Int32
    var output: String
}

/// Runs a script of the repository with bash and waits for it to exit, without blocking a
/// thread of the cooperative pool. Output goes to a file, so a chatty script cannot fill a
/// pipe and stall.
func runScript(_ path: String, _ arguments: [String]) async throws -> ScriptResult {
    let result = try await ProcessRunner.run(
        "/bin/bash", [TestEnvironment.repositoryRoot.appendingPathComponent(path).path] + arguments,
        directory: TestEnvironment.repositoryRoot)
    return ScriptResult(status: result.status, output: result.output)
}
