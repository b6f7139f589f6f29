import Foundation
import Logging
import SamverkanConfig
import SamverkanCore
import SamverkanStore
import Testing

@testable import SamverkanDaemon

/// Notices due shortly are rendered and written ahead under hidden names, and appear under their
/// own names at their time: byte for byte what a delivery without preparation writes, and
/// nothing stale (a cancelled notice, the config before a reload) ever shows.
@Suite("notices prepared ahead of their time")
struct PreparedNoticeTests {
    static let due = utc("2027-01-15T08:00:00Z")  // 09:00 in Stockholm

    /// A config whose agreement has `count` one-off reports due at the same minute.
    static func config(count: Int, title: String = "Rapport") throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("samverkan-prepared-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/agreements.d", withIntermediateDirectories: true)
        try """
        timezone: Europe/Stockholm
        sinks:
          - {name: outbox, type: file, directory: outbox, format: json}
        routes:
          - {sinks: [outbox]}

        """.write(toFile: directory + "/samverkand.yaml", atomically: true, encoding: .utf8)
        try writeAgreement(count: count, title: title, into: directory)
        return directory
    }

    static func writeAgreement(count: Int, title: String, into directory: String) throws {
        let obligations = (0..<count).map { k in
            """
              - id: rapport-\(k)
                kind: report
                title: \(title) \(k)
                schedule: {date: 2027-01-15, time: "09:00"}
                notify: [samordnare]
            """
        }
        try """
        id: prov
        title: Prov
        roles:
          samordnare: {email: samordnare@prov.example}
        obligations:
        \(obligations.joined(separator: "\n"))

        """.write(toFile: directory + "/agreements.d/prov.yaml", atomically: true, encoding: .utf8)
    }

    func contents(_ harness: Harness) throws -> [String: Data] {
        var contents: [String: Data] = [:]
        for name in harness.files {
            contents[name] = try Data(contentsOf: URL(fileURLWithPath: harness.outbox + "/" + name))
        }
        return contents
    }

    @Test("written ahead under hidden names, they appear at their time together, as without preparation")
    func preparedAheadAndDeliveredAtOnce() async throws {
        let config = try Self.config(count: 5)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { harness.remove() }

        // The scheduler wakes `prepareLead` before the due time, not at it.
        await harness.run(until: Self.due.addingTimeInterval(-3))
        #expect(await harness.runtime.scheduler.step() == .sleep(until: Self.due.addingTimeInterval(-2)))
        #expect(harness.hiddenFiles.isEmpty)
        await harness.run(until: Self.due.addingTimeInterval(-0.5))
        #expect(harness.files.isEmpty, "nothing visible before its time")
        #expect(harness.hiddenFiles.count == 5)
        #expect(try await harness.notices([.pending]).count == 5)

        // Claimed a moment after the due instant, as the timer wakes the daemon.
        let claimed = Self.due.addingTimeInterval(0.01)
        harness.clock.set(claimed)
        await harness.run(until: claimed)
        #expect(harness.files.count == 5)
        #expect(harness.hiddenFiles.isEmpty)
        #expect(await harness.runtime.scheduler.claimedPrepared == 5)
        #expect(await harness.runtime.scheduler.deliveredInBatches == 5)
        let sent = try await harness.notices([.sent])
        #expect(sent.count == 5)
        #expect(sent.allSatisfy { !$0.late && $0.attempts == 1 })

        // The same schedule without preparation writes the same bytes.
        let plain = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { plain.remove() }
        await plain.runtime.scheduler.usePrepareLead(0)
        await plain.run(until: Self.due.addingTimeInterval(-0.5))
        #expect(plain.hiddenFiles.isEmpty)
        plain.clock.set(claimed)
        await plain.run(until: claimed)
        #expect(await plain.runtime.scheduler.claimedPrepared == 0)
        let expected = try contents(plain)
        #expect(expected.count == 5)
        #expect(try contents(harness) == expected)
    }

    @Test("a notice cancelled after it was prepared never appears, and its hidden file goes")
    func cancelledAfterPreparing() async throws {
        let config = try Self.config(count: 2)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { harness.remove() }
        await harness.run(until: Self.due.addingTimeInterval(-1))
        #expect(harness.hiddenFiles.count == 2)

        _ = try await harness.store.complete(
            deadlineID: "prov/rapport-1/2027-01-15", at: Self.due.addingTimeInterval(-1))
        harness.clock.set(Self.due.addingTimeInterval(0.01))
        await harness.run(until: Self.due.addingTimeInterval(5))
        #expect(harness.files == ["prov.rapport-0.2027-01-15.due.json"])
        #expect(harness.hiddenFiles.isEmpty)
        #expect(await harness.runtime.scheduler.claimedPrepared == 1)
        #expect(await harness.runtime.scheduler.deliveredInBatches == 1)
    }

    @Test("a reload after preparing: the notice goes out with the new config, nothing of the old one is left")
    func reloadAfterPreparing() async throws {
        let config = try Self.config(count: 1, title: "Gammal rubrik")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { harness.remove() }
        await harness.run(until: Self.due.addingTimeInterval(-1))
        let staged = harness.hiddenFiles
        #expect(staged.count == 1)

        try Self.writeAgreement(count: 1, title: "Ny rubrik", into: config)
        guard case .success = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("the reload was refused")
            return
        }
        #expect(!harness.hiddenFiles.contains { staged.contains($0) }, "the old config's file is gone")
        await harness.run(until: Self.due.addingTimeInterval(5))
        let written = try contents(harness)
        #expect(written.count == 1)
        let text = String(decoding: written.values.first ?? Data(), as: UTF8.self)
        #expect(text.contains("Ny rubrik 0"))
        #expect(!text.contains("Gammal rubrik"))
        #expect(harness.hiddenFiles.isEmpty)
    }

    @Test("a prepared render is used only when rendering the claim then gives the same")
    func fits() async throws {
        let config = try Self.config(count: 1)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { harness.remove() }
        let loaded = try ConfigLoader().load(directory: config, today: { $0.today(Self.due) })
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let dispatcher = try Dispatcher(
            config: loaded, stateDirectory: harness.state, logger: logger, metrics: DeliveryMetrics())
        let waiting = try await harness.store.waiting(
            from: Self.due.addingTimeInterval(-1), before: Self.due.addingTimeInterval(1), limit: 10)
        #expect(waiting.count == 1)
        let notice = try #require(waiting.first)
        let prepared = try #require(await dispatcher.prepare(notice))
        defer { prepared.discard() }
        let claim = PreparedNotice.expectedClaim(of: notice)

        // Claimed a moment after its time (the notice is at its deadline's due time).
        #expect(prepared.fits(claim, now: Self.due.addingTimeInterval(0.005)))
        #expect(prepared.fits(claim, now: Self.due.addingTimeInterval(59)))
        // At the very instant the deadline is not yet past; over a minute on, the notice is late.
        #expect(!prepared.fits(claim, now: Self.due))
        #expect(!prepared.fits(claim, now: Self.due.addingTimeInterval(61)))
        // Another deadline title, another attempt, another time: all rendered afresh.
        var retitled = claim
        retitled.deadline.title = "Annan"
        #expect(!prepared.fits(retitled, now: Self.due.addingTimeInterval(1)))
        var again = claim
        again.notice.attempts += 1
        #expect(!prepared.fits(again, now: Self.due.addingTimeInterval(1)))
        var moved = claim
        moved.notice.nextAttempt = moved.notice.nextAttempt.addingTimeInterval(60)
        #expect(!prepared.fits(moved, now: Self.due.addingTimeInterval(1)))
        // The row stamps are not part of a render.
        var stamped = claim
        stamped.notice.updated = Self.due
        stamped.deadline.updated = Self.due
        #expect(prepared.fits(stamped, now: Self.due.addingTimeInterval(1)))

        // Only the dispatcher that made it uses it: another one (a reload's) renders afresh.
        let now = Self.due.addingTimeInterval(0.01)
        #expect(dispatcher.batchSink(for: claim, prepared: prepared, now: now) == "outbox")
        let reloaded = try Dispatcher(
            config: loaded, stateDirectory: harness.state, logger: logger, metrics: DeliveryMetrics())
        #expect(reloaded.batchSink(for: claim, prepared: prepared, now: now) == nil)
    }
}
