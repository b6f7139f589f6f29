import Foundation
import SamverkanConfig
import SamverkanCore
import Testing

/// Every fixture directory under `Fixtures/` is loaded; the diagnostics must equal its
/// `expected.txt` line for line (paths relative to the fixture, `FILE:LINE:COLUMN: severity: …`).
/// An empty `expected.txt` means the config is valid.
@Suite("config diagnostics")
struct ConfigDiagnosticsTests {
    static let fixtures: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")

    static let cases: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []).filter { !$0.hasPrefix(".") }
            .sorted()
    }()

    @Test("fixtures exist") func fixturesExist() {
        #expect(Self.cases.count >= 9, "found \(Self.cases)")
    }

    @Test("each fixture gives exactly its expected diagnostics", arguments: cases)
    func fixture(_ name: String) throws {
        let directory = Self.fixtures.appendingPathComponent(name)
        let expected = try String(contentsOf: directory.appendingPathComponent("expected.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasSuffix(" in config") }
        var actual: [String] = []
        do {
            let config = try ConfigLoader().load(directory: directory.path)
            actual = config.warnings.map(\.description)
        } catch {
            actual = error.diagnostics.map(\.description)
        }
        let relative = actual.map { $0.replacingOccurrences(of: directory.path + "/", with: "") }
        #expect(relative == expected)
    }

    @Test("a valid config loads with its agreement, obligation and sink")
    func validConfig() throws {
        let config = try ConfigLoader().load(directory: Self.fixtures.appendingPathComponent("valid").path)
        #expect(config.zone.identifier == "Europe/Stockholm")
        #expect(config.agreements.map(\.id) == ["prov"])
        let obligation = try #require(config.agreements.first?.obligations.first)
        #expect(obligation.schedule.rule == .date(FuzzyDate(parsing: "2027-03-31", anchor: .end)!))
        #expect(obligation.remind == [.days(30)])
        #expect(config.settings.sinks.map(\.name) == ["outbox"])
        #expect(config.settings.routes.first?.sinks == ["outbox"])
    }

    @Test("an ended agreement is a warning when today is known, not an error")
    func endedAgreementWarns() throws {
        let directory = Self.fixtures.appendingPathComponent("valid").path
        let root = try #require(
            FileManager.default.temporaryDirectory.appendingPathComponent("ended-\(UUID())") as URL?)
        try FileManager.default.copyItem(atPath: directory, toPath: root.path)
        let file = root.appendingPathComponent("agreements.d/prov.yaml")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(
            of: "title: Prov\n", with: "title: Prov\nvalid: {from: 2019-03-22, until: 2021}\n")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader().load(directory: root.path, today: LocalDate(iso: "2026-11-27"))
        #expect(
            config.warnings.map(\.description) == [
                "\(root.path)/agreements.d/prov.yaml:3:8: warning: agreement 'prov' ended 2021-12-31 (derived from 2021); its revision is due (add a successor or extend valid.until)"
            ])
        #expect(config.agreements.first?.valid.until?.isDerived == true)
    }

    @Test("the fingerprint changes with the content and only with it")
    func fingerprint() throws {
        let directory = Self.fixtures.appendingPathComponent("valid").path
        let a = try ConfigLoader().load(directory: directory)
        let b = try ConfigLoader().load(directory: directory)
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint.count == 16)
    }

    @Test("the bundled Config/ is valid")
    func bundledConfig() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config")
        let config = try ConfigLoader().load(directory: directory.path)
        #expect(!config.agreements.isEmpty)
    }
}
