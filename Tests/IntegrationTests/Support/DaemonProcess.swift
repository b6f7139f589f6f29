import Foundation
import SamverkanTestSupport

/// The real `samverkand` binary started as a child process, as users start it.
final class DaemonProcess: @unchecked Sendable {
    // @unchecked: `process` is only mutated in init; Foundation's Process is thread-safe for
    // the calls made here (signals, status, termination handler).
    let process = Process()
    let stateDirectory: URL
    let socketPath: String
    let stderrFile: URL
    private let exited = Once<Int32>()

    init(
        executable: String = TestEnvironment.daemon, arguments: [String]? = nil, config: URL, state: URL,
        socket: String? = nil, environment: [String: String] = [:]
    ) throws {
        stateDirectory = state
        socketPath = socket ?? state.appendingPathComponent("control.sock").path
        stderrFile = state.deletingLastPathComponent().appendingPathComponent(
            "daemon-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments ?? ["--config", config.path, "--state", state.path, "--socket", socketPath]
        var env = ProcessInfo.processInfo.environment
        for key in [
            "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "JOURNAL_STREAM",
            "INVOCATION_ID",
        ] {
            env.removeValue(forKey: key)
        }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardOutput = FileHandle.nullDevice
        let box = exited
        process.terminationHandler = { p in box.finish(p.terminationStatus) }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The exit status, or nil if it did not exit in time.
    func waitForExit(timeout: Duration = .seconds(15)) async -> Int32? {
        await exited.value(timeout: timeout)
    }

    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    func stop() async {
        if process.isRunning {
            signal(SIGTERM)
            if await waitForExit(timeout: .seconds(10)) == nil { signal(SIGKILL) }
        }
    }
}

/// A daemon started on a config written for one test, with a notify socket to watch it by.
struct RunningDaemon {
    let daemon: DaemonProcess
    let listener: NotifyListener
    let config: TestConfig
    let root: URL

    /// Writes the config, starts `samverkand` with `NOTIFY_SOCKET` set and, unless told not to,
    /// waits for READY=1.
    static func start(
        _ name: String, settings: String = TestConfig.fileSinkSettings, agreements: [String: String]? = nil,
        environment: [String: String] = [:], waitForReady: Bool = true
    ) async throws -> RunningDaemon {
        let root = try TestEnvironment.scratch(name)
        let config = try TestConfig(
            in: root, settings: settings,
            agreements: agreements ?? [
                "prov.yaml": TestConfig.agreement(dueDate: TestConfig.inAFewMonths, time: "09:00")
            ])
        let listener = try NotifyListener(directory: root)
        var env = environment
        env["NOTIFY_SOCKET"] = listener.path
        let daemon = try DaemonProcess(
            config: config.directory, state: root.appendingPathComponent("state"), environment: env)
        if waitForReady {
            // Generous: many daemons start at once when the suite runs in parallel.
            let ready = await listener.waitFor("READY=1", timeout: .seconds(30))
            guard ready.match != nil else {
                await daemon.stop()
                throw NotReady(stderr: daemon.stderr)
            }
        }
        return RunningDaemon(daemon: daemon, listener: listener, config: config, root: root)
    }

    struct NotReady: Error, CustomStringConvertible {
        var stderr: String
        var description: String { "samverkand sent no READY=1; stderr:\n\(stderr)" }
    }
}
