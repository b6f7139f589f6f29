import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

/// domain.md §8: no personnummer, registration number or name of a person in a case goes into an
/// email, a file, the journal or socket output. The bundled config runs with its clock moved so
/// that a cluster of notices falls due, cases are opened (with refused and accepted references)
/// and closed, and then every byte the daemon produced is searched.
@Suite("privacy: no personal data in any output")
struct PrivacyTests {
    /// What a careless user might type; every one must be refused and never appear anywhere.
    static let personal = ["19121212-1212", "121212-1212", "ABC 123", "Anna Svensson", "K-123456-26"]

    /// A personnummer (or samordningsnummer): YYMMDD or YYYYMMDD, a separator or none, four digits,
    /// with a plausible month and day; so a Unix time or an id with digits is not one.
    static func personnummer(in text: String) -> [String] {
        text.matches(of: #/(?:^|[^0-9])((?:19|20)?([0-9]{2})([0-9]{2})([0-9]{2})[-+]?[0-9]{4})(?![0-9])/#).compactMap {
            guard let month = Int($0.output.3), let day = Int($0.output.4) else { return nil }
            let plausibleDay = (1...31).contains(day) || (61...91).contains(day)
            return (1...12).contains(month) && plausibleDay ? String($0.output.1) : nil
        }
    }

    static func registration(in text: String) -> [String] {
        text.matches(of: #/(?:^|[^A-Za-z0-9])([A-Z]{3} ?[0-9]{2}[A-Z0-9])(?![A-Za-z0-9])/#).map { String($0.output.1) }
    }

    @Test("outbox files (eml, json, txt), socket answers and the log hold no personal data")
    func noPersonalData() async throws {
        let root = try TestEnvironment.scratch("privacy")
        let config = root.appendingPathComponent("config")
        try FileManager.default.copyItem(
            at: TestEnvironment.repositoryRoot.appendingPathComponent("Config"), to: config)
        try """
        timezone: Europe/Stockholm
        operator: drift@kommun.example
        sinks:
          - {name: eml, type: file, directory: eml, format: eml}
          - {name: json, type: file, directory: json, format: json}
          - {name: txt, type: file, directory: txt, format: txt}
        routes:
          - sinks: [eml, json, txt]

        """.write(to: config.appendingPathComponent("samverkand.yaml"), atomically: true, encoding: .utf8)

        // The daemon's clock is moved to 3 s before the next cluster of notices of the plan.
        let plan = try await ProcessRunner.run(
            TestEnvironment.ctl,
            ["plan", config.path, "--from", "2026-01-01", "--to", "2200-12-31", "--json"], timeout: .seconds(120))
        let deadlines = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [[String: Any]] ?? []
        let soon = Date().addingTimeInterval(86_400)
        let times = deadlines.flatMap { ($0["notices"] as? [[String: Any]] ?? []).compactMap { $0["at"] as? String } }
            .compactMap(Zone.parseRFC3339).filter { $0 > soon }.sorted()
        let target = try #require(times.first)
        let offset = Int(target.timeIntervalSinceNow.rounded(.down)) - 3
        let state = root.appendingPathComponent("state")
        let listener = try NotifyListener(directory: root)
        let daemon = try DaemonProcess(
            config: config, state: state,
            environment: ["SAMVERKAN_TEST_TIME_OFFSET": "\(offset)", "NOTIFY_SOCKET": listener.path])
        defer { Task { await daemon.stop() } }
        #expect(await listener.waitFor("READY=1").match != nil, "\(daemon.stderr)")

        func ctl(_ arguments: [String]) async throws -> ProcessRunner.Result {
            try await ProcessRunner.run(TestEnvironment.ctl, arguments + ["--socket", daemon.socketPath])
        }
        var answers: [String] = []
        for reference in Self.personal {
            let refused = try await ctl(["case", "open", "exempel", "smadit", reference])
            #expect(refused.status == 1)
            answers.append(refused.output)
        }
        answers.append(try await ctl(["case", "open", "exempel", "smadit", "2026-0042"]).output)
        answers.append(try await ctl(["case", "open", "exempel", "smadit"]).output)
        answers.append(try await ctl(["case", "close", "2026-0042", "contacted"]).output)

        // Wait for the cluster to be written in all three formats.
        let written = try await eventually(timeout: .seconds(30)) {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("txt").path))
            return (files?.count ?? 0) > 0
        }
        #expect(written, "no notice written; stderr:\n\(daemon.stderr)")
        for command in [
            ["status"], ["upcoming", "--within", "400d"], ["cases", "--all"], ["agreements"], ["calendar"],
            ["undelivered"], ["status", "--json"], ["upcoming", "--within", "400d", "--json"],
            ["cases", "--all", "--json"],
            ["agreements", "--json"], ["show", "exempel/smadit/2026-0042", "--json"],
        ] {
            answers.append(try await ctl(command).output)
        }
        answers.append(
            try await ProcessRunner.run(
                "/usr/bin/curl", ["-s", "--unix-socket", daemon.socketPath, "http://localhost/metrics"]
            ).stdout)
        await daemon.stop()

        var outputs: [(String, String)] = answers.enumerated().map { ("socket answer \($0.offset)", $0.element) }
        outputs.append(("daemon log", daemon.stderr))
        var fileCount = 0
        for format in ["eml", "json", "txt"] {
            let directory = state.appendingPathComponent(format)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                outputs.append(("\(format)/\(name)", text))
                fileCount += 1
            }
        }
        #expect(fileCount >= 3)
        for (source, text) in outputs {
            #expect(Self.personnummer(in: text).isEmpty, "\(source): \(Self.personnummer(in: text))")
            #expect(Self.registration(in: text).isEmpty, "\(source): \(Self.registration(in: text))")
            for value in Self.personal {
                #expect(!text.contains(value), "\(source) holds '\(value)'")
            }
        }
        print("privacy: searched \(outputs.count) outputs (\(fileCount) files in eml, json and txt)")
    }

    @Test("the detectors find what they are for", arguments: ["19121212-1212", "121212-1212", "201212121212"])
    func detectors(sample: String) {
        #expect(!Self.personnummer(in: "x \(sample) y").isEmpty)
        #expect(Self.personnummer(in: "start 1764214000 and 20261127T033808Z").isEmpty)
        #expect(Self.registration(in: "bil ABC 123 och ABC12D") == ["ABC 123", "ABC12D"])
    }
}
