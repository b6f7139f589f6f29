import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A helper server of `Servers/` (Python under /usr/bin/python3) on 127.0.0.1, started for one
/// test with a scratch directory of its own: it prints its port on one line once it listens,
/// and exits on SIGTERM.
final class TestServerProcess: Sendable {
    let directory: String
    let port: Int
    private let process: Process
    private let exits: AsyncStream<Void>
    private let stopped = Mutex(false)

    private init(directory: String, port: Int, process: Process, exits: AsyncStream<Void>) {
        self.directory = directory
        self.port = port
        self.process = process
        self.exits = exits
    }

    /// Starts `Servers/SCRIPT DIRECTORY ARGUMENTS…` and waits for its port: an event with a
    /// deadline, read on a thread of its own.
    static func start(_ script: String, name: String, arguments: [String] = []) async throws -> TestServerProcess {
        let directory = try MailTest.scratch(name)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MailTest.python)
        process.arguments = [MailTest.servers + "/" + script, directory] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: directory + "/server.log", contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/server.log"))
        let (exits, exited) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.finish() }
        try process.run()
        let fd = stdout.fileHandleForReading.fileDescriptor
        let line = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: readLine(fd, timeoutMilliseconds: 15_000)) }
        }
        guard let line, let port = Int(line) else {
            process.terminate()
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw TestFailure("\(script) did not start: \(log)")
        }
        return TestServerProcess(directory: directory, port: port, process: process, exits: exits)
    }

    /// SIGTERM, then its exit status once it has exited; SIGKILL if it has not within 10 s.
    @discardableResult
    func stop() async -> Int32 {
        let first = stopped.withLock { was in
            defer { was = true }
            return !was
        }
        if first { process.terminate() }
        let pid = process.processIdentifier
        let exits = self.exits
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in exits {}
                return true
            }
            group.addTask {
                guard (try? await Task.sleep(for: .seconds(10))) != nil else { return false }
                kill(pid, SIGKILL)
                return false
            }
            for await exited in group where exited {
                group.cancelAll()
            }
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// One line from a file descriptor, waiting at most `timeoutMilliseconds` (poll(2), no sleep).
func readLine(_ fd: Int32, timeoutMilliseconds: Int32) -> String? {
    var bytes: [UInt8] = []
    let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds))
    while true {
        let left = deadline - ContinuousClock.now
        let milliseconds = Int32(
            max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, milliseconds)
        if ready < 0 && errno == EINTR { continue }
        guard ready > 0 else { return nil }
        var byte: UInt8 = 0
        guard read(fd, &byte, 1) == 1 else { return nil }
        if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
        bytes.append(byte)
    }
}
