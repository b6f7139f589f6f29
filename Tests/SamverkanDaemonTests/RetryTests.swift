import Foundation
import SamverkanCore
import SamverkanStore
import SamverkanTestSupport
import Testing

@testable import SamverkanDaemon

/// Retries, the fallback sink and dead letters, with real sinks (a command that fails, a file
/// sink that works) and an injected clock.
@Suite("retries, fallback and dead letters")
struct RetryTests {
    static func config(routeForC: String, extraSinks: [String] = []) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "samverkan-retry-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory + "/agreements.d", withIntermediateDirectories: true)
        try write(settings(routeForC: routeForC, extraSinks: extraSinks), to: directory + "/samverkand.yaml")
        for id in ["a", "b", "c"] {
            try write(
                """
                id: \(id)
                title: Prov \(id)
                roles:
                  samordnare: {email: samordnare@prov.example}
                obligations:
                  - id: rapport
                    kind: report
                    title: Rapport
                    schedule: {date: 2027-01-15}
                    remind: [1d]
                    notify: [samordnare]

                """, to: directory + "/agreements.d/\(id).yaml")
        }
        return directory
    }

    static func settings(routeForC: String, extraSinks: [String] = []) -> String {
        """
        timezone: Europe/Stockholm
        sinks:\(extraSinks.map { "\n  - " + $0 }.joined())
          - {name: flaky, type: command, argv: [/bin/sh, -c, "exit 75"], retry: {initial: 10m, max: 1h}}
          - {name: broken, type: command, argv: [/bin/sh, -c, "echo refused >&2; exit 1"]}
          - {name: alsobroken, type: command, argv: [/bin/sh, -c, "exit 1"]}
          - {name: outbox, type: file, directory: outbox, format: json}
        routes:
          - {match: {agreement: a}, sinks: [flaky], fallback: outbox}
          - {match: {agreement: b}, sinks: [broken], fallback: outbox}
          - \(routeForC)

        """
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("transient failures are retried with backoff until the budget ends, then the fallback takes it")
    func retriesThenFallback() async throws {
        let config = try Self.config(routeForC: "{match: {agreement: c}, sinks: [broken], fallback: alsobroken}")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-10T00:00:00Z"), config: config)
        defer { harness.remove() }
        await harness.run(until: utc("2027-01-17T00:00:00Z"))

        // a: the reminder was tried until its deadline was due, then went to the outbox.
        let reminder = "a/rapport/2027-01-15/-1d"
        let attempts = try await harness.store.deliveries(noticeID: reminder)
        let flaky = attempts.filter { $0.sink == "flaky" }
        #expect(flaky.count > 10, "\(flaky.count) attempts")
        #expect(flaky.allSatisfy { $0.outcome == .transient })
        let due = utc("2027-01-15T08:00:00Z")
        #expect(flaky.allSatisfy { $0.at < due }, "no retry of a reminder after its deadline is due")
        let gaps = zip(flaky.dropFirst(), flaky).map { $0.at.timeIntervalSince($1.at) }
        #expect(gaps.allSatisfy { $0 >= 0.75 * 600 && $0 <= 3600 }, "backoff between 7.5 min and 1 h: \(gaps)")
        #expect(gaps.first ?? 0 < gaps.last ?? 0, "the delay grows")
        #expect(attempts.last?.sink == "outbox" && attempts.last?.outcome == .ok)
        #expect(harness.files.contains("a.rapport.2027-01-15.-1d.json"))
        // The due notice is retried for a day after its time, then falls back too.
        let dueAttempts = try await harness.store.deliveries(noticeID: "a/rapport/2027-01-15/due")
        #expect(dueAttempts.filter { $0.sink == "flaky" }.allSatisfy { $0.at < due.addingTimeInterval(86_400) })
        #expect(dueAttempts.last?.sink == "outbox")

        // b: a permanent failure goes to the fallback at once, at the notice's time.
        let b = try await harness.store.deliveries(noticeID: "b/rapport/2027-01-15/-1d")
        #expect(b.map(\.sink) == ["broken", "outbox"])
        #expect(b.map(\.at) == [utc("2027-01-14T08:00:00Z"), utc("2027-01-14T08:00:00Z")])
        #expect(b.first?.error?.contains("refused") == true, "the command's stderr is in the error")

        // c: the fallback fails too: dead letters, listed by `undelivered`, counted in status.
        let letters = try await harness.runtime.undelivered()
        #expect(letters.map(\.notice.id).sorted() == ["c/rapport/2027-01-15/-1d", "c/rapport/2027-01-15/due"])
        #expect(letters.allSatisfy { $0.lastSink == "alsobroken" })
        #expect(try await harness.runtime.status().deadlines.deadLetters == 2)
    }

    @Test("a sink that fails once and then works: delivered on the second attempt, no fallback")
    func failsOnceThenWorks() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent(scratchName("samverkan-once")).path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let config = try Self.config(
            routeForC: "{match: {agreement: c}, sinks: [once], fallback: outbox}",
            extraSinks: [
                "{name: once, type: command, argv: [/bin/sh, -c, \"[ -e \(marker) ] && exit 0; touch \(marker); exit 75\"]}"
            ])
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-10T00:00:00Z"), config: config)
        defer { harness.remove() }
        await harness.run(until: utc("2027-01-14T12:00:00Z"))
        let attempts = try await harness.store.deliveries(noticeID: "c/rapport/2027-01-15/-1d")
        #expect(attempts.map(\.sink) == ["once", "once"])
        #expect(attempts.map(\.outcome) == [.transient, .ok])
        let gap = attempts[1].at.timeIntervalSince(attempts[0].at)
        #expect(gap >= 0.75 * 30 && gap <= 30, "first retry after 22.5–30 s (retry.initial 30 s): \(gap)")
        #expect(!harness.files.contains("c.rapport.2027-01-15.-1d.json"), "not the fallback")
    }

    @Test("samverkanctl retry: once more now; after the route is fixed by a reload, it goes out")
    func manualRetry() async throws {
        let config = try Self.config(routeForC: "{match: {agreement: c}, sinks: [broken], fallback: alsobroken}")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-10T00:00:00Z"), config: config)
        defer { harness.remove() }
        await harness.run(until: utc("2027-01-14T12:00:00Z"))
        let id = "c/rapport/2027-01-15/-1d"
        #expect(try await harness.runtime.undelivered().map(\.notice.id) == [id])

        let again = try await harness.runtime.retry(noticeID: id)
        #expect(again.state == "dead")
        #expect(again.attempts.map(\.sink) == ["broken", "alsobroken"])

        try Self.write(
            Self.settings(routeForC: "{match: {agreement: c}, sinks: [outbox]}"), to: config + "/samverkand.yaml")
        guard case .success = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("reload refused")
            return
        }
        let fixed = try await harness.runtime.retry(noticeID: id)
        #expect(fixed.state == "sent")
        #expect(harness.files.contains("c.rapport.2027-01-15.-1d.json"))
        #expect(try await harness.runtime.undelivered().isEmpty)
        // Retrying a notice that went out is refused: it is not undelivered.
        await #expect(throws: StoreError.self) { try await harness.runtime.retry(noticeID: id) }
    }
}
