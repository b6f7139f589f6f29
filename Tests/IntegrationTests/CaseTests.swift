import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

/// SMADIT end to end through the real daemon: a case opened on the socket, its reminder and
/// breach delivered to the file sink, a breach logged as a deviation, references kept neutral.
@Suite("cases (SMADIT) through the real daemon")
struct CaseTests {
    static let agreement = """
        id: prov
        title: Provöverenskommelse
        roles:
          mottagande-enhet: {email: mottagande@prov.example, deputy: enhetschef}
          enhetschef: {email: enhetschef@prov.example}
        windows:
          - id: smadit
            kind: smadit
            duration: 24h
            remind_after: [1h]
            escalate_after: [18h]
            notify: [mottagande-enhet]

        """

    func post(_ path: String, _ body: String, socket: String) async throws -> (status: Int, json: [String: Any]) {
        let result = try await ProcessRunner.run(
            "/usr/bin/curl",
            [
                "-s", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", socket, "-X", "POST",
                "-H", "Content-Type: application/json", "--data-binary", body, "http://localhost\(path)",
            ])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let text = lines.dropLast().joined(separator: "\n")
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (status, json)
    }

    @Test("a handover registered late: the +1h reminder and the breach go out on time, the breach is a deviation")
    func smaditEndToEnd() async throws {
        let running = try await RunningDaemon.start("smadit", agreements: ["prov.yaml": Self.agreement])
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        let outbox = daemon.stateDirectory.appendingPathComponent("outbox")
        let zone = try #require(Zone(identifier: "Europe/Stockholm"))

        // Opened 59 min 57 s ago: the +1h reminder falls due in 3 s.
        let openedA = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 3600 + 3).rounded(.down))
        let a = try await post(
            "/v1/cases",
            #"{"agreement": "prov", "window": "smadit", "reference": "2026-0101", "opened_at": "\#(zone.rfc3339(openedA))"}"#,
            socket: daemon.socketPath)
        #expect(a.status == 201, "\(a.json)")
        #expect(a.json["reference"] as? String == "2026-0101")
        #expect(a.json["state"] as? String == "open")
        // Again with the same fields: the same case, 200. With another time: 409.
        let again = try await post(
            "/v1/cases", #"{"agreement": "prov", "window": "smadit", "reference": "2026-0101"}"#,
            socket: daemon.socketPath)
        #expect(again.status == 200)
        let other = try await post(
            "/v1/cases",
            #"{"agreement": "prov", "window": "smadit", "reference": "2026-0101", "opened_at": "\#(zone.rfc3339(openedA.addingTimeInterval(-60)))"}"#,
            socket: daemon.socketPath)
        #expect(other.status == 409, "\(other.json)")

        // Opened 23 h 59 min 57 s ago: the breach falls due in 3 s; no reference given.
        let openedB = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 86_400 + 3).rounded(.down))
        let b = try await post(
            "/v1/cases", #"{"agreement": "prov", "window": "smadit", "opened_at": "\#(zone.rfc3339(openedB))"}"#,
            socket: daemon.socketPath)
        #expect(b.status == 201, "\(b.json)")
        let assigned = try #require(b.json["reference"] as? String)
        #expect(assigned.wholeMatch(of: #/[0-9]{4}-[0-9]{4}/#) != nil, "assigned \(assigned)")

        let reminder = outbox.appendingPathComponent("prov.smadit.2026-0101.+1h.json")
        let breach = outbox.appendingPathComponent("prov.smadit.\(assigned).breach.json")
        let delivered = try await eventually(timeout: .seconds(20)) {
            FileManager.default.fileExists(atPath: reminder.path) && FileManager.default.fileExists(atPath: breach.path)
        }
        #expect(delivered, "stderr:\n\(daemon.stderr)")
        let breachNotice = try JSONSerialization.jsonObject(with: Data(contentsOf: breach)) as? [String: Any]
        let recipients = (breachNotice?["recipients"] as? [[String: Any]] ?? []).compactMap { $0["role"] as? String }
        #expect(Set(recipients) == ["mottagande-enhet", "enhetschef"], "the breach goes to the deputy too")
        let deviation = try await eventually(timeout: .seconds(5)) {
            daemon.stderr.contains("deviation: case \(assigned) passed its target")
        }
        #expect(deviation, "\(daemon.stderr)")

        // The breached case stays open, with negative time left, until it is closed.
        let list = try await ProcessRunner.run(
            TestEnvironment.ctl, ["cases", "--open", "--json", "--socket", daemon.socketPath])
        let cases = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        let open = cases.first { $0["reference"] as? String == assigned }
        #expect(open?["state"] as? String == "open")
        #expect((open?["seconds_left"] as? Int ?? 0) < 0)

        // `done` is not how a case ends: it says to close it with its outcome.
        let done = try await ProcessRunner.run(
            TestEnvironment.ctl, ["done", "prov/smadit/\(assigned)", "--socket", daemon.socketPath])
        #expect(done.status == 1 && done.stderr.contains("case close \(assigned)"), "\(done.output)")

        // Closing: the outcome is checked, closing twice the same way is harmless.
        #expect(
            try await post("/v1/cases/\(assigned)/close", #"{"outcome": "forgot"}"#, socket: daemon.socketPath).status
                == 422)
        let closed = try await post(
            "/v1/cases/2026-0101/close", #"{"outcome": "contacted"}"#, socket: daemon.socketPath)
        #expect(closed.status == 200 && closed.json["outcome"] as? String == "contacted")
        #expect(
            try await post("/v1/cases/2026-0101/close", #"{"outcome": "contacted"}"#, socket: daemon.socketPath).status
                == 200)
        #expect(
            try await post("/v1/cases/2026-0101/close", #"{"outcome": "declined"}"#, socket: daemon.socketPath).status
                == 409)
        #expect(
            try await post("/v1/cases/2026-9999/close", #"{"outcome": "declined"}"#, socket: daemon.socketPath).status
                == 404)
        // Its escalation, 18 h after opening, will never go out now.
        let show = try await ProcessRunner.run(
            TestEnvironment.ctl, ["show", "prov/smadit/2026-0101", "--json", "--socket", daemon.socketPath])
        #expect(show.stdout.contains(#""state":"done""#), "\(show.output)")
        #expect(!show.stdout.contains(#""state":"pending""#), "\(show.output)")
        await daemon.stop()
    }

    @Test(
        "references that are not neutral are refused with 422 and never echoed or logged",
        arguments: [
            "19121212-1212", "121212-1212", "201212121212", "ABC 123", "abc12d", "Anna Svensson", "K-2026-77",
        ])
    func neutralReferences(reference: String) async throws {
        let running = try await RunningDaemon.start("caseref", agreements: ["prov.yaml": Self.agreement])
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        let answer = try await post(
            "/v1/cases", #"{"agreement": "prov", "window": "smadit", "reference": "\#(reference)"}"#,
            socket: daemon.socketPath)
        #expect(answer.status == 422)
        let error = answer.json["error"] as? [String: Any]
        #expect(error?["code"] as? String == "bad_reference")
        let message = error?["message"] as? String ?? ""
        #expect(message.contains("neutral"))
        #expect(!message.contains(reference), "the refused value is not repeated")
        // samverkanctl: exit 1 (a user error) with the same explanation.
        let ctl = try await ProcessRunner.run(
            TestEnvironment.ctl, ["case", "open", "prov", "smadit", reference, "--socket", daemon.socketPath])
        #expect(ctl.status == 1)
        #expect(ctl.stderr.contains("neutral"))
        await daemon.stop()
        #expect(!daemon.stderr.contains(reference), "the daemon's log never holds it")
    }
}
