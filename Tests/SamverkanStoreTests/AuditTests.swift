import Foundation
import SamverkanCore
import Testing

@testable import SamverkanStore

/// A write through the socket and its audit row are one transaction: both or neither.
@Suite("audited writes")
struct AuditTests {
    let scratch = Scratch()
    let store: SQLiteStore

    init() throws { store = try SQLiteStore.open(directory: scratch.path) }

    @Sendable static func smadit(_ reference: String) -> Deadline {
        let id = "avesta-falun/smadit/\(reference)"
        let due = utc("2026-06-02T10:00:00Z")
        return Deadline(
            id: id, agreement: "avesta-falun", obligation: "smadit", kind: "smadit", title: "SMADIT",
            nominal: LocalDate(iso: "2026-06-01") ?? LocalDate(dayNumber: 0), due: due,
            notices: [PlannedNotice(id: id + "/breach", slot: "breach", at: due, recipients: ["enhetschef"])],
            explanation: [])
    }

    @Test("open, close and complete append their audit row; a refused write appends none")
    func auditedWrites() async throws {
        let now = utc("2026-06-01T10:00:00Z")
        let peer = Requester(uid: 1000, pid: 4242)
        let opening = CaseOpening(
            reference: nil, agreement: "avesta-falun", window: "smadit", openedAt: now, referenceYear: 2026)
        let opened = try await store.openCase(
            opening, now: now,
            audit: AuditRecord(at: now, by: peer, action: "case-open", detail: "avesta-falun/smadit"),
            deadline: Self.smadit)
        _ = try await store.closeCase(
            reference: opened.record.reference, outcome: "contacted", by: peer, at: now,
            audit: AuditRecord(at: now, by: peer, action: "case-close", target: opened.record.reference))
        // Closed again with another outcome: refused, and no row for it.
        await #expect(throws: StoreError.self) {
            try await store.closeCase(
                reference: opened.record.reference, outcome: "declined", by: peer, at: now,
                audit: AuditRecord(at: now, by: peer, action: "case-close", target: "refused"))
        }
        _ = try await store.reconcile(plan: [QueueTests.review], window: wideWindow, now: QueueTests.start)
        _ = try await store.complete(
            deadlineID: QueueTests.review.id, role: nil, by: peer, note: nil, at: now,
            audit: AuditRecord(at: now, by: peer, action: "complete", target: QueueTests.review.id))
        await #expect(throws: StoreError.self) {
            try await store.complete(
                deadlineID: "no/such/deadline", role: nil, by: peer, note: nil, at: now,
                audit: AuditRecord(at: now, by: peer, action: "complete", target: "no/such/deadline"))
        }

        let trail = try await store.auditTrail(limit: 10, before: nil).reversed().map { ($0.action, $0.target) }
        #expect(trail.map(\.0) == ["case-open", "case-close", "complete"])
        #expect(trail.map(\.1) == ["2026-0001", "2026-0001", QueueTests.review.id])
        #expect(try await store.auditTrail(limit: 10, before: nil).allSatisfy { $0.by == peer })
    }
}
