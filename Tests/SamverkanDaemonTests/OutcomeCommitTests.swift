import Foundation
import SamverkanCore
import SamverkanStore
import SamverkanTestSupport
import Testing

@testable import SamverkanDaemon

/// A delivered notice is recorded `sent` within one store commit, however long another notice
/// of the same claim takes: until then it is `sending`, and a crash would send it again.
@Suite("outcomes committed while other deliveries are under way")
struct OutcomeCommitTests {
    @Test("a notice delivered to a file is recorded sent while a slow command sink still holds another")
    func fastOutcomeIsNotHeldBySlowDelivery() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent(scratchName("samverkan-commit")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let release = directory + "/release"
        try FileManager.default.createDirectory(atPath: directory + "/agreements.d", withIntermediateDirectories: true)
        try """
        timezone: Europe/Stockholm
        sinks:
          - {name: slow, type: command, argv: [/bin/sh, -c, "while [ ! -e \(release) ]; do sleep 0.05; done"], timeout: 60s}
          - {name: outbox, type: file, directory: outbox, format: json}
        routes:
          - {match: {agreement: slow}, sinks: [slow]}
          - {sinks: [outbox]}

        """.write(toFile: directory + "/samverkand.yaml", atomically: true, encoding: .utf8)
        for id in ["slow", "fast"] {
            try """
            id: \(id)
            title: Prov \(id)
            roles:
              samordnare: {email: samordnare@prov.example}
            obligations:
              - id: rapport
                kind: report
                title: Rapport
                schedule: {date: 2027-01-15, time: "09:00"}
                notify: [samordnare]

            """.write(toFile: directory + "/agreements.d/\(id).yaml", atomically: true, encoding: .utf8)
        }
        let due = utc("2027-01-15T08:00:00Z")
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: directory)
        defer { harness.remove() }
        await harness.run(until: due.addingTimeInterval(-1))
        harness.clock.set(due)

        let delivering = Task { await harness.run(until: due) }
        func state(_ id: String) async throws -> NoticeState? {
            try await harness.store.deadline(id: id)?.notices.first?.state
        }
        let recorded = try await eventually(timeout: .seconds(20)) {
            try await state("fast/rapport/2027-01-15") == .sent
        }
        let fast = try await state("fast/rapport/2027-01-15")
        #expect(recorded, "the file sink's notice stayed \(String(describing: fast))")
        #expect(try await state("slow/rapport/2027-01-15") == .sending)

        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        _ = await delivering.value
        #expect(try await state("slow/rapport/2027-01-15") == .sent)
    }
}
