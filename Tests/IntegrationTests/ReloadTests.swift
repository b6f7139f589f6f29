import Foundation
import SamverkanClient
import SamverkanCore
import Testing

/// Reload through the real daemon: the answer in words, and the deadlines afterwards the same as
/// a daemon started afresh on the new config (a reload plans and reconciles only the agreements
/// that changed).
@Suite("reload of a changed config")
struct ReloadTests {
    static func agreements(_ ids: [String], time: String = "09:00") -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: ids.map {
                (
                    "\($0).yaml",
                    TestConfig.agreement(id: $0, dueDate: TestConfig.inAFewMonths, time: time, remind: "[30d]")
                )
            })
    }

    func reload(_ daemon: DaemonProcess) throws -> ReloadView {
        let response = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 30).request(
            "POST", "/v1/reload")
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        return try JSONDecoder().decode(ReloadView.self, from: response.body)
    }

    /// Every deadline within the horizon, in every state: id, due, state and the notices' times.
    func deadlines(_ daemon: DaemonProcess) throws -> [String] {
        let response = try ControlClient(socketPath: daemon.socketPath).request(
            "GET", "/v1/deadlines?within=400d&state=all")
        #expect(response.status == 200)
        return try JSONDecoder().decode([DeadlineView].self, from: response.body).map { deadline in
            "\(deadline.id) \(deadline.due) \(deadline.state) "
                + deadline.notices.map { "\($0.id)@\($0.at):\($0.state)" }.joined(separator: ",")
        }
    }

    @Test("edited, added and removed agreements: the change in words, and the store a fresh start gives")
    func scopedReload() async throws {
        let running = try await RunningDaemon.start("reload-scoped", agreements: Self.agreements(["a", "b", "c"]))
        let (daemon, config) = (running.daemon, running.config)
        defer { Task { await daemon.stop() } }
        #expect(try reload(daemon).summary == "no change")

        let directory = config.directory.appendingPathComponent("agreements.d")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("b.yaml"))
        for (name, text) in Self.agreements(["a"], time: "13:00").merging(
            Self.agreements(["d"]), uniquingKeysWith: { $1 })
        {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let day = TestConfig.inAFewMonths
        let answer = try reload(daemon)
        #expect(answer.generation == 3)
        #expect(answer.summary == "1 added, 1 moved (a/uppgift/\(day) from \(day) 09:00 to \(day) 13:00), 1 cancelled")
        #expect(try reload(daemon).summary == "no change")

        // A fresh daemon on the same config: the same deadlines, but for b, which it never had.
        let fresh = try await RunningDaemon.start(
            "reload-fresh",
            agreements: Self.agreements(["c", "d"]).merging(
                Self.agreements(["a"], time: "13:00"), uniquingKeysWith: { $1 }))
        defer { Task { await fresh.daemon.stop() } }
        let reloaded = try deadlines(daemon).sorted()
        let started = try deadlines(fresh.daemon).sorted()
        #expect(reloaded.filter { !$0.hasPrefix("b/") } == started, "\(reloaded)\n\(started)")
        #expect(reloaded.contains { $0.hasPrefix("b/uppgift/\(day) ") && $0.contains(" cancelled ") })

        await fresh.daemon.stop()
        await daemon.stop()
    }
}
