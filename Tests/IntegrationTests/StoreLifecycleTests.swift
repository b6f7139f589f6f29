import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

/// The store as users meet it through the real daemon: completions that stop reminders and
/// survive a restart, a backup taken while it runs, and a restart after days down.
@Suite("store through the real daemon")
struct StoreLifecycleTests {
    static let round = """
        id: runda
        title: Provrunda
        roles:
          samordnare: {email: samordnare@prov.example}
          fritid: {email: fritid@prov.example}
          skola: {email: skola@prov.example}
        obligations:
          - id: lagesbild
            kind: lagesbild
            title: Lägesbild
            schedule: {date: \(TestConfig.inAFewMonths)}
            remind: [10d, 5d]
            collect_from: [fritid, skola]
            notify: [samordnare]

        """

    func ctl(_ arguments: [String], socket: String) async throws -> ProcessRunner.Result {
        try await ProcessRunner.run(TestEnvironment.ctl, arguments + ["--socket", socket], timeout: .seconds(30))
    }

    func show(_ id: String, socket: String) async throws -> [String: Any] {
        let result = try await ctl(["show", id, "--json"], socket: socket)
        #expect(result.status == 0, "\(result.output)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }

    func states(_ deadline: [String: Any]) -> [String: String] {
        let notices = deadline["notices"] as? [[String: Any]] ?? []
        return Dictionary(
            notices.map { ($0["id"] as? String ?? "", $0["state"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
    }

    @Test("done with --role stops one respondent's reminders, done stops the rest; both survive a restart")
    func completion() async throws {
        let running = try await RunningDaemon.start("done", agreements: ["runda.yaml": Self.round])
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        let id = "runda/lagesbild/\(TestConfig.inAFewMonths)"

        let first = try await ctl(["done", id, "--role", "fritid", "--json"], socket: daemon.socketPath)
        #expect(first.status == 0, "\(first.output)")
        let answer = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        #expect(answer?["waiting_for"] as? [String] == ["skola"])
        #expect(answer?["state"] as? String == "upcoming")
        var notices = states(try await show(id, socket: daemon.socketPath))
        #expect(notices["\(id)/-10d/fritid"] == "cancelled")
        #expect(notices["\(id)/-10d/skola"] == "pending")

        // The same answer again changes nothing; an unknown role is a clear 4xx (exit 1).
        let again = try await ctl(["done", id, "--role", "fritid"], socket: daemon.socketPath)
        #expect(again.status == 0 && again.stdout.contains("redan registrerat"), "\(again.output)")
        let stranger = try await ctl(["done", id, "--role", "polis"], socket: daemon.socketPath)
        #expect(stranger.status == 1, "\(stranger.output)")
        let missing = try await ctl(["done", "runda/lagesbild/1999-01-01"], socket: daemon.socketPath)
        #expect(missing.status == 1 && missing.stderr.contains("404"), "\(missing.output)")

        let whole = try await ctl(["done", id, "--note", "klar på mötet"], socket: daemon.socketPath)
        #expect(whole.status == 0 && whole.stdout.contains("klar"), "\(whole.output)")

        // A restart keeps it all: the store, not memory, is the truth.
        await daemon.stop()
        let restarted = try DaemonProcess(config: running.config.directory, state: daemon.stateDirectory)
        defer { Task { await restarted.stop() } }
        let up = try await eventually(timeout: .seconds(20)) {
            (try? await ctl(["status"], socket: restarted.socketPath).status) == 0
        }
        #expect(up, "\(restarted.stderr)")
        let after = try await show(id, socket: restarted.socketPath)
        #expect(after["state"] as? String == "done")
        notices = states(after)
        #expect(notices.values.allSatisfy { $0 == "cancelled" }, "\(notices)")
        let completions = after["completions"] as? [[String: Any]] ?? []
        #expect(completions.count == 2)
        #expect(completions.last?["note"] as? String == "klar på mötet")
        // Done deadlines leave `upcoming`.
        let upcoming = try await ctl(["upcoming", "--within", "400d", "--json"], socket: restarted.socketPath)
        #expect(!upcoming.stdout.contains(id), "\(upcoming.output)")
        await restarted.stop()
    }

    @Test("a second daemon on the same state directory is refused and told who holds it")
    func oneDaemonPerStateDirectory() async throws {
        let running = try await RunningDaemon.start("lock")
        defer { Task { await running.daemon.stop() } }
        let second = try DaemonProcess(
            config: running.config.directory, state: running.daemon.stateDirectory,
            socket: running.root.appendingPathComponent("second.sock").path)
        let status = await second.waitForExit(timeout: .seconds(20))
        #expect(status == 1, "\(second.stderr)")
        #expect(second.stderr.contains("another samverkand (pid \(running.daemon.pid))"), "\(second.stderr)")
        // The first one is undisturbed.
        let answer = try await ctl(["status"], socket: running.daemon.socketPath)
        #expect(answer.status == 0)
        await running.daemon.stop()
    }

    @Test("samverkanctl backup writes a consistent SQLite copy while the daemon runs")
    func backup() async throws {
        let running = try await RunningDaemon.start("backup", agreements: ["runda.yaml": Self.round])
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        _ = try await ctl(["done", "runda/lagesbild/\(TestConfig.inAFewMonths)"], socket: daemon.socketPath)
        let copy = running.root.appendingPathComponent("copy.sqlite").path
        let result = try await ctl(["backup", copy], socket: daemon.socketPath)
        #expect(result.status == 0, "\(result.output)")
        // Read by Python's sqlite3, not by our code: an ordinary, complete database.
        let check = try await ProcessRunner.run(
            "/usr/bin/python3",
            [
                "-c",
                """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                print(db.execute("PRAGMA integrity_check").fetchone()[0])
                print(db.execute("SELECT state FROM deadline WHERE id LIKE 'runda/%'").fetchone()[0])
                print(db.execute("SELECT COUNT(*) FROM audit WHERE action = 'complete'").fetchone()[0])
                """,
                copy,
            ])
        #expect(check.stdout == "ok\ndone\n1\n", "\(check.output)")
        // Never over an existing file.
        let twice = try await ctl(["backup", copy], socket: daemon.socketPath)
        #expect(twice.status == 1 && twice.stderr.contains("exists"), "\(twice.output)")
        await daemon.stop()
    }

    @Test("stopped for days: the latest missed notice is sent late, the others superseded, and one downtime report")
    func restartAfterDowntime() async throws {
        // Reminders 3, 2 and 1 days before a date a week ahead, then the due notice.
        let zone = try #require(Zone(identifier: "Europe/Stockholm"))
        let due = zone.today(Date()).adding(days: 7)
        let running = try await RunningDaemon.start(
            "downtime",
            agreements: ["prov.yaml": TestConfig.agreement(dueDate: "\(due)", time: "09:00", remind: "[3d, 2d, 1d]")])
        await running.daemon.stop()

        // Started again with its clock moved to 10:00 on the day before the due date.
        let later = zone.instant(LocalDateTime(date: due.adding(days: -1), time: LocalTime(hour: 10, minute: 0)!))
        let offset = Int(later.timeIntervalSinceNow.rounded())
        let daemon = try DaemonProcess(
            config: running.config.directory, state: running.daemon.stateDirectory,
            environment: ["SAMVERKAN_TEST_TIME_OFFSET": "\(offset)"])
        defer { Task { await daemon.stop() } }
        let outbox = daemon.stateDirectory.appendingPathComponent("outbox")
        let reported = try await eventually(timeout: .seconds(20)) {
            ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []).contains {
                $0.hasPrefix("samverkand.downtime.")
            }
        }
        #expect(reported, "no downtime report in \(outbox.path); stderr:\n\(daemon.stderr)")
        let id = "prov/uppgift/\(due)"
        let deadline = try await show(id, socket: daemon.socketPath)
        let notices = (deadline["notices"] as? [[String: Any]] ?? []).sorted {
            ($0["at"] as? String ?? "") < ($1["at"] as? String ?? "")
        }
        let missed = notices.filter { ($0["slot"] as? String) != "due" }
        #expect(missed.count == 3)
        let latest = missed.last?["at"] as? String
        for notice in missed {
            let expected = notice["at"] as? String == latest ? "sent" : "superseded"
            #expect(notice["state"] as? String == expected, "\(notice)")
        }
        #expect(notices.last?["state"] as? String == "pending", "the due notice is still ahead")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []
        let sentFile = NoticeID.fileName(missed.last?["id"] as? String ?? "") + ".json"
        #expect(files.contains(sentFile), "\(files)")
        let late = try JSONSerialization.jsonObject(with: Data(contentsOf: outbox.appendingPathComponent(sentFile)))
        #expect((late as? [String: Any])?["late"] as? Bool == true)
        for notice in missed.dropLast() {
            #expect(!files.contains(NoticeID.fileName(notice["id"] as? String ?? "") + ".json"))
        }
        let report = try String(
            contentsOf: outbox.appendingPathComponent(
                try #require(files.first { $0.hasPrefix("samverkand.downtime.") })),
            encoding: .utf8)
        for notice in missed { #expect(report.contains(notice["id"] as? String ?? "?")) }
        #expect(
            daemon.stderr.contains("downtime report: 3 notices missed: 1 sent late, 2 superseded"), "\(daemon.stderr)")
        await daemon.stop()
    }
}
