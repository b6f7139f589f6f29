import Foundation
import SamverkanCore
import SamverkanStore
import Testing

@testable import SamverkanDaemon

/// `digest: {at: "07:30"}` on a route: its notices wait for the digest and go out as one message
/// per recipient; urgent slots (a case's) still go at once.
@Suite("daily digest")
struct DigestTests {
    @Test("held until 07:30, then one summary per recipient; a case's reminder goes at once")
    func digest() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent(
            "samverkan-digest-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: config) }
        try FileManager.default.createDirectory(atPath: config + "/agreements.d", withIntermediateDirectories: true)
        try """
        timezone: Europe/Stockholm
        sinks:
          - {name: outbox, type: file, directory: outbox, format: json}
        routes:
          - {match: {agreement: d}, sinks: [outbox], digest: {at: "07:30"}}
          - {sinks: [outbox]}

        """.write(toFile: config + "/samverkand.yaml", atomically: true, encoding: .utf8)
        try """
        id: d
        title: Prov med sammanfattning
        roles:
          samordnare: {email: samordnare@prov.example}
          fritid: {email: fritid@prov.example}
          mottagande-enhet: {email: mottagande@prov.example}
        obligations:
          - {id: rapport, kind: report, title: Rapport, schedule: {date: 2027-01-15}, remind: [1d], notify: [samordnare]}
          - {id: moete, kind: meeting, title: Möte, schedule: {date: 2027-01-15, time: "13:00"}, remind: [1d],
             notify: [samordnare, fritid]}
        windows:
          - {id: smadit, kind: smadit, duration: 24h, remind_after: [1h], notify: [mottagande-enhet]}

        """.write(toFile: config + "/agreements.d/d.yaml", atomically: true, encoding: .utf8)

        let harness = try await Harness(start: utc("2027-01-13T00:00:00Z"), config: config)
        defer { harness.remove() }
        // The day before: the reminders come due at 09:00 and 13:00 and are held.
        await harness.run(until: utc("2027-01-14T20:00:00Z"))
        #expect(harness.files.isEmpty, "\(harness.files)")
        let held = try await harness.notices([.pending]).filter { $0.slot == "-1d" }
        #expect(held.count == 2)
        #expect(held.allSatisfy { $0.nextAttempt == utc("2027-01-15T06:30:00Z") && $0.attempts == 0 })

        // A case opened now: its +1h reminder is urgent and does not wait for the digest.
        let (view, _) = try await harness.runtime.openCase(
            agreement: "d", window: "smadit", reference: "2027-0001", openedAt: nil, by: .daemon)
        #expect(view.deadline.title == "Ärende 2027-0001 – inom 24h")
        await harness.run(until: utc("2027-01-14T21:30:00Z"))
        #expect(harness.files == ["d.smadit.2027-0001.+1h.json"])

        // 07:30: one digest per recipient address.
        await harness.run(until: utc("2027-01-15T07:00:00Z"))
        let digests = harness.files.filter { $0.hasPrefix("samverkand.digest.") }
        #expect(digests.count == 2, "\(harness.files)")
        var bodies: [String: String] = [:]
        for file in digests {
            let json =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: harness.outbox + "/" + file)))
                as? [String: Any]
            let address = ((json?["recipients"] as? [[String: Any]])?.first?["address"] as? String) ?? ""
            bodies[address] = json?["body"] as? String
            #expect((json?["subject"] as? String)?.hasPrefix("[Samverkan] Dagens sammanfattning") == true)
        }
        #expect(bodies["samordnare@prov.example"]?.contains("samverkanctl done d/rapport/2027-01-15") == true)
        #expect(bodies["samordnare@prov.example"]?.contains("samverkanctl done d/moete/2027-01-15") == true)
        #expect(bodies["fritid@prov.example"]?.contains("d/moete/2027-01-15") == true)
        #expect(bodies["fritid@prov.example"]?.contains("d/rapport") == false)
        let sent = try await harness.notices([.sent]).filter { $0.slot == "-1d" }
        #expect(sent.count == 2)
        // The due notices of 09:00 and 13:00 wait for tomorrow's digest.
        await harness.run(until: utc("2027-01-15T20:00:00Z"))
        #expect(
            try await harness.notices([.pending]).filter { $0.slot == "due" }.allSatisfy {
                $0.nextAttempt == utc("2027-01-16T06:30:00Z")
            })
        let records = try await harness.store.deliveries(noticeID: "d/rapport/2027-01-15/-1d")
        #expect(records.count == 1 && records[0].outcome == .ok && records[0].error?.hasPrefix("in digest") == true)
    }
}
