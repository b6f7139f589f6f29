import Foundation
import SamverkanConfig
import SamverkanCore
import SamverkanStore
import Testing

@testable import SamverkanDaemon

/// A reload stores the agreements that changed while it reads the others (``ReconcileFeed``),
/// and commits only once the whole config has been read and found valid.
@Suite("a reload stored while it reads")
struct StreamedReloadTests {
    static func writeAgreement(_ id: String, count: Int, into directory: String) throws {
        let obligations = (0..<count).map { k in
            """
              - id: uppgift-\(k)
                kind: report
                title: Uppgift \(k)
                schedule: {date: 2027-02-1\(k % 10), time: "09:00"}
                notify: [samordnare]
            """
        }
        try """
        id: \(id)
        title: Avtal \(id)
        roles:
          samordnare: {email: samordnare@\(id).example}
        obligations:
        \(obligations.joined(separator: "\n"))

        """.write(toFile: directory + "/agreements.d/\(id).yaml", atomically: true, encoding: .utf8)
    }

    static func planned(_ harness: Harness) async throws -> Int {
        try await harness.store.counts().deadlines[.planned] ?? 0
    }

    @Test("changed, added and removed agreements are stored; an invalid file anywhere stores nothing")
    func storedWhileRead() async throws {
        let config = try PreparedNoticeTests.config(count: 2)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { harness.remove() }
        #expect(try await Self.planned(harness) == 2)
        let generation = try #require(try await harness.store.latestGeneration()).generation
        let stamp = try await harness.store.lastReconcile()

        // A new agreement before the changed one and an invalid file after both, in file order:
        // the first two reach the store before the invalid file is read.
        try Self.writeAgreement("avtal-a", count: 3, into: config)
        try PreparedNoticeTests.writeAgreement(count: 3, title: "Rapport", into: config)
        try "obligations: [".write(toFile: config + "/agreements.d/zz-trasig.yaml", atomically: true, encoding: .utf8)
        guard case .failure(let failure) = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("an invalid config was taken")
            return
        }
        #expect(failure.details.contains { $0.contains("zz-trasig.yaml") })
        #expect(try await Self.planned(harness) == 2)
        #expect(try await harness.store.latestGeneration()?.generation == generation)
        #expect(try await harness.store.lastReconcile() == stamp)

        try FileManager.default.removeItem(atPath: config + "/agreements.d/zz-trasig.yaml")
        guard case .success(let added) = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("a valid config was refused")
            return
        }
        #expect(added.summary == "4 added")
        #expect(added.generation == generation + 1)
        #expect(try await Self.planned(harness) == 6)

        try FileManager.default.removeItem(atPath: config + "/agreements.d/avtal-a.yaml")
        try Self.writeAgreement("avtal-b", count: 1, into: config)
        guard case .success(let changed) = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("a valid config was refused")
            return
        }
        #expect(changed.summary == "1 added, 3 cancelled")
        #expect(try await Self.planned(harness) == 4)
        #expect(try await harness.store.lastReconcile()?.fingerprint == harness.runtime.config.fingerprint)
        // Both taken reloads were stored while read; the refused one stored nothing.
        #expect(await harness.runtime.reloadsStoredWhileRead == 2)
    }

    /// What is only found once every file is read, or after: the same id in two files, a sink
    /// that cannot be set up. The agreements sent before are rolled back.
    @Test("a duplicate agreement id or a sink that cannot be set up stores nothing")
    func refusedAfterSending() async throws {
        let config = try PreparedNoticeTests.config(count: 2)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { harness.remove() }
        let stamp = try await harness.store.lastReconcile()

        try Self.writeAgreement("avtal-a", count: 3, into: config)
        try String(contentsOfFile: config + "/agreements.d/avtal-a.yaml", encoding: .utf8)
            .write(toFile: config + "/agreements.d/avtal-b.yaml", atomically: true, encoding: .utf8)
        guard case .failure(let duplicate) = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("a duplicate id was taken")
            return
        }
        #expect(duplicate.details.contains { $0.contains("duplicate agreement id 'avtal-a'") })
        #expect(try await Self.planned(harness) == 2)
        #expect(try await harness.store.lastReconcile() == stamp)

        try FileManager.default.removeItem(atPath: config + "/agreements.d/avtal-b.yaml")
        let settings = try String(contentsOfFile: config + "/samverkand.yaml", encoding: .utf8)
        try settings.replacingOccurrences(of: "type: file", with: "type: smoke-signal")
            .write(toFile: config + "/samverkand.yaml", atomically: true, encoding: .utf8)
        guard case .failure(let sink) = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("a sink that cannot be set up was taken")
            return
        }
        #expect(sink.message.contains("smoke-signal") || sink.details.joined().contains("smoke-signal"))
        #expect(try await Self.planned(harness) == 2)
        #expect(try await harness.store.lastReconcile() == stamp)
        #expect(await harness.runtime.reloadsStoredWhileRead == 0)
    }

    /// Another zone moves every deadline: the reload is reconciled as a whole, not per file.
    @Test("a reload that changes the zone reconciles every agreement")
    func otherZone() async throws {
        let config = try PreparedNoticeTests.config(count: 2)
        defer { try? FileManager.default.removeItem(atPath: config) }
        try Self.writeAgreement("avtal-a", count: 1, into: config)
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { harness.remove() }
        let settings = try String(contentsOfFile: config + "/samverkand.yaml", encoding: .utf8)
        try settings.replacingOccurrences(of: "Europe/Stockholm", with: "Europe/Helsinki")
            .write(toFile: config + "/samverkand.yaml", atomically: true, encoding: .utf8)
        try Self.writeAgreement("avtal-a", count: 2, into: config)
        guard case .success(let view) = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("a valid config was refused")
            return
        }
        // 09:00 in Helsinki is an hour before 09:00 in Stockholm: the two of prov and the one
        // of avtal-a that stay move, avtal-a gets one more.
        #expect(view.summary.hasPrefix("1 added, 3 moved ("))
        #expect(try await Self.planned(harness) == 4)
        let due = try #require(try await harness.store.deadline(id: "prov/rapport-0/2027-01-15")?.deadline.due)
        #expect(due == utc("2027-01-15T07:00:00Z"))
        #expect(await harness.runtime.reloadsStoredWhileRead == 0)
    }
}
