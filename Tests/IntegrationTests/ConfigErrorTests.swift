import Foundation
import SamverkanClient
import SamverkanCore
import Testing

/// Bad config: refused with compiler-style errors at start (exit 78), refused on reload with
/// the old config kept.
@Suite("bad config, at start and on reload")
struct ConfigErrorTests {
    @Test("a bad config at start exits 78 with FILE:LINE:COLUMN: error: on stderr, before READY")
    func badConfigAtStart() async throws {
        let root = try TestEnvironment.scratch("badstart")
        let config = try TestConfig(
            in: root, settings: TestConfig.fileSinkSettings,
            agreements: ["prov.yaml": TestConfig.agreement(dueDate: "2026-02-30", time: "09:00")])
        let listener = try NotifyListener(directory: root)
        let daemon = try DaemonProcess(
            config: config.directory, state: root.appendingPathComponent("state"),
            environment: ["NOTIFY_SOCKET": listener.path])
        #expect(await daemon.waitForExit() == 78)
        let file = config.directory.appendingPathComponent("agreements.d/prov.yaml").path
        #expect(
            daemon.stderr.contains("\(file):9:22: error: date '2026-02-30' is not a date"), "stderr:\n\(daemon.stderr)")
        #expect(await listener.next(timeout: .milliseconds(200)) == nil, "no READY=1 from a daemon that cannot load")
    }

    @Test("a bad config on SIGHUP is refused; the running config stays and status says why")
    func badConfigOnReload() async throws {
        let running = try await RunningDaemon.start("badreload")
        let (daemon, listener, config) = (running.daemon, running.listener, running.config)
        defer { Task { await daemon.stop() } }
        let broken = TestConfig.agreement(dueDate: TestConfig.inAFewMonths, time: "09:00").replacingOccurrences(
            of: "notify:", with: "notfy:")
        try broken.write(
            to: config.directory.appendingPathComponent("agreements.d/prov.yaml"), atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(await listener.waitFor("RELOADING=1").match != nil)
        let ready = try #require(await listener.waitFor("READY=1").match)
        #expect(ready.contains("Generation 1"), "the old generation keeps running: \(ready)")
        #expect(ready.contains("last reload refused"))
        let response = try ControlClient(socketPath: daemon.socketPath).request("GET", "/v1/status")
        let status = try JSONDecoder().decode(StatusView.self, from: response.body)
        #expect(status.config.generation == 1)
        #expect(status.deadlines.planned == 1)
        #expect(
            status.lastReloadError?.contains("unknown key 'notfy' in an obligation; did you mean 'notify'?") == true)
        #expect(daemon.stderr.contains("prov.yaml:11:5: error: unknown key 'notfy'"), "stderr:\n\(daemon.stderr)")
        // And through the socket: 422 with the errors.
        let reload = try ControlClient(socketPath: daemon.socketPath).request("POST", "/v1/reload")
        #expect(reload.status == 422)
        let error = try JSONDecoder().decode(ErrorView.self, from: reload.body)
        #expect(error.error.code == "invalid_config")
        await daemon.stop()
    }
}
