import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

/// Issue 6's crash test: 2,000 notices fall due within about a minute while the daemon is killed
/// with SIGKILL again and again; at the end every notice has been delivered.
@Suite("crash safety")
struct CrashTests {
    /// A small deterministic generator (SplitMix64), so a failing run can be repeated.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let agreements = 20
    static let obligationsEach = 100
    /// The notices fall due at this many instants, `spacing` apart.
    static let instants = 30
    static let spacing = 2.0

    @Test("2,000 notices, SIGKILL 24 times at seeded moments: every notice delivered, none lost")
    func killNineAgainAndAgain() async throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["SAMVERKAN_CRASH_SEED"] ?? "") ?? 20_261_127
        var random = Seeded(state: seed)
        let zone = try #require(Zone(identifier: "Europe/Stockholm"))
        let root = try TestEnvironment.scratch("crash")
        // The first instant leaves time for the first start (planning 2,000 deadlines).
        let first = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 8).rounded(.down))
        var expected: [String] = []
        var files: [String: String] = [:]
        for a in 0..<Self.agreements {
            var text = """
                id: krasch-\(a)
                title: Kraschprov \(a)
                roles:
                  samordnare: {email: samordnare@prov.example}
                obligations:

                """
            for o in 0..<Self.obligationsEach {
                let index = a * Self.obligationsEach + o
                let at = first.addingTimeInterval(Double(index % Self.instants) * Self.spacing)
                let local = zone.local(at)
                text += """
                      - id: uppgift-\(o)
                        kind: report
                        title: Uppgift \(o)
                        schedule: {date: \(local.date), time: "\(hhmmss(local.time))"}
                        notify: [samordnare]

                    """
                expected.append("krasch-\(a)/uppgift-\(o)/\(local.date)/due")
            }
            files["krasch-\(a).yaml"] = text
        }
        let config = try TestConfig(in: root, settings: TestConfig.fileSinkSettings, agreements: files)
        let state = root.appendingPathComponent("state")
        let outbox = state.appendingPathComponent("outbox")
        let listener = try NotifyListener(directory: root)

        func start() async throws -> DaemonProcess {
            let daemon = try DaemonProcess(
                config: config.directory, state: state, environment: ["NOTIFY_SOCKET": listener.path])
            guard await listener.waitFor("READY=1", timeout: .seconds(60)).match != nil else {
                await daemon.stop()
                throw RunningDaemon.NotReady(stderr: daemon.stderr)
            }
            return daemon
        }

        var daemon = try await start()
        var daemons = [daemon]
        // 24 of the 30 instants, chosen by the seed: a kill 2–30 ms after each, while that
        // instant's notices are being claimed and renamed into place (they were written ahead,
        // under hidden names, in the 2 s before: a kill then leaves those behind).
        let killAt = Array(0..<Self.instants).shuffled(using: &random).prefix(24).sorted().map {
            first.addingTimeInterval(Double($0) * Self.spacing + Double.random(in: 0.002...0.030, using: &random))
        }
        for moment in killAt {
            let wait = moment.timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
            daemon.signal(SIGKILL)
            #expect(await daemon.waitForExit(timeout: .seconds(10)) != nil)
            daemon = try await start()
            daemons.append(daemon)
        }
        let last = first.addingTimeInterval(Double(Self.instants) * Self.spacing)
        let names = Set(expected.map { NoticeID.fileName($0) + ".json" })
        let all = try await eventually(timeout: .seconds(60) + .seconds(max(last.timeIntervalSinceNow, 0))) {
            names.isSubset(of: Set((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []))
        }
        await daemon.stop()
        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? [])
        let missing = names.subtracting(present)
        #expect(all && missing.isEmpty, "\(missing.count) notices never delivered, e.g. \(missing.sorted().prefix(5))")
        // Nothing hidden: what the killed daemons had written ahead was removed by the next start.
        let hidden = present.filter { $0.hasPrefix(".") }
        #expect(hidden.isEmpty, "left in the outbox: \(hidden.sorted().prefix(5))")

        // How many kills found notices in `sending` (each restart says so), and how many notices
        // were attempted twice: read from the store by Python's sqlite3.
        let recoveries = daemons.compactMap { process -> Int? in
            guard let line = process.stderr.split(separator: "\n").first(where: { $0.contains("were being sent") })
            else { return nil }
            return line.split(separator: " ").compactMap { Int($0) }.first
        }
        #expect(recoveries.count >= 5, "only \(recoveries.count) kills hit a notice in sending")
        let counts = try await ProcessRunner.run(
            "/usr/bin/python3",
            [
                "-c",
                """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                print(db.execute("SELECT COUNT(*) FROM notice WHERE state = 'sent'").fetchone()[0])
                print(db.execute("SELECT COUNT(*) FROM notice WHERE attempts > 1").fetchone()[0])
                print(db.execute("SELECT COUNT(*) FROM notice WHERE late = 1").fetchone()[0])
                """,
                state.appendingPathComponent("samverkan.sqlite").path,
            ])
        let numbers = counts.stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(numbers.first == expected.count, "\(counts.output)")
        print(
            "crash test (seed \(seed)): \(expected.count) notices, \(killAt.count) SIGKILLs, \(recoveries.count) of them with notices in sending (\(recoveries.reduce(0, +)) notices), \(numbers.dropFirst().first ?? -1) attempted twice, \(numbers.last ?? -1) sent late, \(missing.count) missing"
        )
    }
}
