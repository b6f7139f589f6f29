import Foundation
import SamverkanCore
import SamverkanStore
import Testing

@testable import SamverkanDaemon

/// A reload asked for through the socket is audited: with its plan and generation, in one
/// transaction, when it succeeds; on its own when it is refused.
@Suite("what a reload records")
struct ReloadRecordTests {
    @Test("a reload stores its generation and audit row with the plan; a refused one only the audit row")
    func reloadRecords() async throws {
        let config = try PreparedNoticeTests.config(count: 2)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let harness = try await Harness(start: utc("2027-01-14T00:00:00Z"), config: config)
        defer { harness.remove() }
        let before = try #require(try await harness.store.latestGeneration())
        let by = Requester(uid: 1000, pid: 4242)

        try PreparedNoticeTests.writeAgreement(count: 3, title: "Rapport", into: config)
        guard case .success(let view) = await harness.runtime.reload(requestedBy: "socket, uid 1000", auditBy: by)
        else {
            Issue.record("the reload was refused")
            return
        }
        #expect(view.generation == before.generation + 1)
        let generation = try #require(try await harness.store.latestGeneration())
        #expect(generation.generation == view.generation)
        #expect(generation.requestedBy == "socket, uid 1000")
        var trail = try await harness.store.auditTrail(limit: 10, before: nil)
        #expect(trail.map(\.action) == ["reload"])
        #expect(trail.first?.by == by)

        try "obligations: [".write(toFile: config + "/agreements.d/trasig.yaml", atomically: true, encoding: .utf8)
        guard case .failure = await harness.runtime.reload(requestedBy: "socket, uid 1000", auditBy: by) else {
            Issue.record("an invalid config was taken")
            return
        }
        #expect(try await harness.store.latestGeneration()?.generation == view.generation)
        trail = try await harness.store.auditTrail(limit: 10, before: nil)
        #expect(trail.map(\.action) == ["reload", "reload"])
    }
}
