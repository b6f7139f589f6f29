import Foundation
import SamverkanClient
import SamverkanCore
import SamverkanTestSupport
import Testing

/// Under `systemd-socket-activate` the daemon serves on the inherited socket (platform.md 7.6).
@Suite("socket activation")
struct SocketActivationTests {
    @Test(
        "the daemon adopts the listening socket and answers on it",
        .enabled(if: TestEnvironment.which("systemd-socket-activate") != nil, "needs systemd-socket-activate"))
    func activated() async throws {
        let root = try TestEnvironment.scratch("activate")
        let config = try TestConfig(
            in: root, settings: TestConfig.fileSinkSettings,
            agreements: ["prov.yaml": TestConfig.agreement(dueDate: TestConfig.inAFewMonths, time: "09:00")])
        let socket = root.appendingPathComponent("control.sock").path
        let listener = try NotifyListener(directory: root)
        let activate = try #require(TestEnvironment.which("systemd-socket-activate"))
        let daemon = try DaemonProcess(
            executable: activate,
            arguments: [
                "-l", socket, "--fdname=control", "-E", "NOTIFY_SOCKET", TestEnvironment.daemon, "--config",
                config.directory.path, "--state", root.appendingPathComponent("state").path, "--socket",
                root.appendingPathComponent("unused.sock").path,
            ],
            config: config.directory, state: root.appendingPathComponent("state"), socket: socket,
            environment: ["NOTIFY_SOCKET": listener.path])
        defer { Task { await daemon.stop() } }
        // systemd-socket-activate starts the daemon on the first connection.
        let exists = try await eventually { FileManager.default.fileExists(atPath: socket) }
        #expect(exists)
        let response = try ControlClient(socketPath: socket, timeoutSeconds: 10).request("GET", "/v1/status")
        #expect(response.status == 200)
        let status = try JSONDecoder().decode(StatusView.self, from: response.body)
        #expect(status.config.generation == 1)
        #expect(await listener.waitFor("READY=1").match != nil)
        #expect(
            !FileManager.default.fileExists(atPath: root.appendingPathComponent("unused.sock").path),
            "with an inherited socket the daemon binds no path of its own")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
    }
}
