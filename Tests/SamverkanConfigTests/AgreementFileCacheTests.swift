import Foundation
import SamverkanConfig
import SamverkanCore
import Testing

/// A reload parses only the agreement files whose bytes changed, and loads exactly what a fresh
/// load of the same directory gives.
@Suite("agreement file cache")
struct AgreementFileCacheTests {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("samverkan-cache-\(UUID())")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("agreements.d"), withIntermediateDirectories: true)
        try write("samverkand.yaml", Self.settings(closedDays: []))
        // A holiday warning, so that diagnostics taken from the cache are checked too.
        try write("agreements.d/a.yaml", Self.agreement("a", date: "2026-12-24"))
        try write("agreements.d/b.yaml", Self.agreement("b", date: "2027-03-31"))
        try write("agreements.d/c.yaml", Self.agreement("c", date: "2027-04-30"))
    }

    static func settings(closedDays: [String]) -> String {
        """
        timezone: Europe/Stockholm
        closed_days: [\(closedDays.joined(separator: ", "))]
        sinks:
          - {name: outbox, type: file, directory: outbox, format: json}
        routes:
          - sinks: [outbox]

        """
    }

    static func agreement(_ id: String, date: String, extra: String = "") -> String {
        """
        id: \(id)
        title: Avtal \(id)
        roles:
          samordnare: {email: samordnare@prov.example}
        obligations:
          - id: uppgift
            kind: report
            title: Uppgift\(extra)
            schedule: {date: \(date)}
            remind: [30d]
            notify: [samordnare]

        """
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: root.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(at: root.appendingPathComponent(name))
    }

    static let today = LocalDate(year: 2026, month: 6, day: 1)

    func load(_ cache: inout AgreementFileCache, today: LocalDate? = today) throws -> LoadedConfig {
        try ConfigLoader().load(directory: root.path, today: { _ in today }, cache: &cache)
    }

    /// The cached load gives what a load without a cache gives.
    func expectSameAsFresh(_ config: LoadedConfig, today: LocalDate? = today) throws {
        let fresh = try ConfigLoader().load(directory: root.path, today: today)
        #expect(config.agreements == fresh.agreements)
        #expect(config.warnings.map(\.description) == fresh.warnings.map(\.description))
        #expect(config.fingerprint == fresh.fingerprint)
        #expect(config.files == fresh.files)
    }

    @Test("a reload parses only the files added or edited, and loads what a fresh load does")
    func parsesOnlyChangedFiles() throws {
        var cache = AgreementFileCache()
        let first = try load(&cache)
        #expect((cache.parsedFiles, cache.reusedFiles) == (3, 0))
        #expect(first.warnings.count == 1, "julafton in a.yaml")
        try expectSameAsFresh(first)

        let same = try load(&cache)
        #expect((cache.parsedFiles, cache.reusedFiles) == (0, 3))
        #expect(same.agreements == first.agreements)
        #expect(same.warnings.map(\.description) == first.warnings.map(\.description))
        #expect(same.fingerprint == first.fingerprint)

        try write("agreements.d/b.yaml", Self.agreement("b", date: "2027-05-31"))
        let edited = try load(&cache)
        #expect((cache.parsedFiles, cache.reusedFiles) == (1, 2))
        let moved = try #require(FuzzyDate(parsing: "2027-05-31", anchor: .end))
        #expect(edited.agreements.first { $0.id == "b" }?.obligations.first?.schedule.rule == .date(moved))
        #expect(edited.fingerprint != first.fingerprint)
        try expectSameAsFresh(edited)

        // Same size, other bytes: still read again.
        try write("agreements.d/c.yaml", Self.agreement("c", date: "2027-04-29"))
        let sameSize = try load(&cache)
        #expect((cache.parsedFiles, cache.reusedFiles) == (1, 2))
        try expectSameAsFresh(sameSize)

        try remove("agreements.d/c.yaml")
        try write("agreements.d/d.yaml", Self.agreement("d", date: "2027-06-30"))
        let replaced = try load(&cache)
        #expect((cache.parsedFiles, cache.reusedFiles) == (1, 2))
        #expect(replaced.agreements.map(\.id) == ["a", "b", "d"])
        try expectSameAsFresh(replaced)
    }

    @Test("a change in closed days, zone or today reads every file again")
    func contextChangeEmptiesTheCache() throws {
        var cache = AgreementFileCache()
        _ = try load(&cache)
        try write("samverkand.yaml", Self.settings(closedDays: ["2027-03-30"]))
        let closed = try load(&cache)
        #expect((cache.parsedFiles, cache.reusedFiles) == (3, 0))
        try expectSameAsFresh(closed)

        let tomorrow = try load(&cache, today: LocalDate(year: 2026, month: 6, day: 2))
        #expect((cache.parsedFiles, cache.reusedFiles) == (3, 0))
        try expectSameAsFresh(tomorrow, today: LocalDate(year: 2026, month: 6, day: 2))

        try write(
            "samverkand.yaml",
            Self.settings(closedDays: ["2027-03-30"]).replacingOccurrences(
                of: "Europe/Stockholm", with: "Europe/Helsinki"))
        _ = try load(&cache, today: LocalDate(year: 2026, month: 6, day: 2))
        #expect((cache.parsedFiles, cache.reusedFiles) == (3, 0))
    }

    @Test("a file with an error fails the load and is read again once fixed")
    func errorsAreNotCached() throws {
        var cache = AgreementFileCache()
        _ = try load(&cache)
        try write("agreements.d/b.yaml", Self.agreement("b", date: "2027-02-30"))
        #expect(throws: ConfigError.self) { try load(&cache) }
        #expect((cache.parsedFiles, cache.reusedFiles) == (1, 2))
        #expect(throws: ConfigError.self) { try load(&cache) }
        #expect((cache.parsedFiles, cache.reusedFiles) == (1, 2), "the broken file is parsed again")

        try write("agreements.d/b.yaml", Self.agreement("b", date: "2027-03-31"))
        let fixed = try load(&cache)
        #expect((cache.parsedFiles, cache.reusedFiles) == (1, 2))
        try expectSameAsFresh(fixed)
    }

    @Test("the agreements that changed: added, removed, edited; nil when zone or closed days change")
    func agreementsChanged() throws {
        var cache = AgreementFileCache()
        let before = try load(&cache)
        #expect(before.agreementsChanged(since: before) == [])

        try write("agreements.d/a.yaml", Self.agreement("a", date: "2026-12-24", extra: " (ny titel)"))
        try remove("agreements.d/b.yaml")
        try write("agreements.d/e.yaml", Self.agreement("e", date: "2027-06-30"))
        let after = try load(&cache)
        #expect(after.agreementsChanged(since: before) == ["a", "b", "e"])
        #expect(before.agreementsChanged(since: after) == ["a", "b", "e"])

        try write("samverkand.yaml", Self.settings(closedDays: ["2027-03-30"]))
        let closed = try load(&cache)
        #expect(closed.agreementsChanged(since: after) == nil)
    }
}
