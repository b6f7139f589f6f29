public import Foundation

/// Runs a program to completion without blocking a thread of Swift's pool or of libdispatch's
/// default queues: on Linux both are as wide as the machine has cores, and a test that blocks
/// them can starve the SIGCHLD handler Foundation needs to see its child exit (a deadlock the
/// suite ran into on two cores). Output goes to a file, so no pipe can fill up and stall the child.
public enum ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// Standard output, then standard error.
        public var output: String { stdout + stderr }
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public var description: String
    }

    public static func run(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil,
        directory: URL? = nil, timeout: Duration = .seconds(300)
    ) async throws -> Result {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("samv-run-\(UUID().uuidString)")
        let outputFile = base.appendingPathExtension("out")
        let errorFile = base.appendingPathExtension("err")
        let inputFile = base.appendingPathExtension("in")
        try (input ?? Data()).write(to: inputFile)
        defer {
            for file in [outputFile, errorFile, inputFile] { try? FileManager.default.removeItem(at: file) }
        }
        // posix_spawn and our own waitpid: Foundation's Process reaps its children from a
        // SIGCHLD handler on a dispatch queue, which is what a busy pool starves.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputFile.path, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        // Glibc's module does not offer posix_spawn_file_actions_addchdir_np: a shell changes directory.
        let argv =
            directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0.path, executable] + arguments }
            ?? [executable] + arguments
        var pid: pid_t = 0
        let spawned = withCStrings(argv) { argvPointers in
            withCStrings(env) { envPointers in
                posix_spawn(&pid, argv[0], &actions, nil, argvPointers, envPointers)
            }
        }
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        let waited = pid
        let status: Int32? = await onOwnThread(timeout: timeout) {
            var raw: Int32 = 0
            while waitpid(waited, &raw, 0) < 0 && errno == EINTR {}
            return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        }
        guard let status else {
            kill(pid, SIGKILL)
            throw TimedOut(description: "\(executable) did not finish within \(timeout)")
        }
        return Result(
            status: status, stdout: (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
    }

    /// A NULL-terminated array of C strings for the duration of `body`.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R)
        -> R
    {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { buffer in
            // The buffer always has at least the terminating nil.
            body(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)
        }
    }

    /// Runs a blocking call on a new thread and returns its value, or nil after `timeout` (the
    /// thread is then left to finish on its own).
    public static func onOwnThread<T: Sendable>(
        timeout: Duration = .seconds(300), _ body: @escaping @Sendable () -> T
    ) async -> T? {
        let once = Once<T>()
        Thread.detachNewThread { once.finish(body()) }
        return await once.value(timeout: timeout)
    }
}

/// A value that is set once and can be awaited by any number of tasks, each with a time-out.
public final class Once<T: Sendable>: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var result: T?
    private var waiters: [Int: CheckedContinuation<T?, Never>] = [:]
    private var nextWaiter = 0

    public init() {}

    /// Sets the value (the first call wins) and wakes every waiter.
    public func finish(_ value: T) {
        let woken: [CheckedContinuation<T?, Never>] = lock.withLock {
            guard result == nil else { return [] }
            result = value
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in woken { waiter.resume(returning: value) }
    }

    /// The value, or nil when it is not set within `timeout`.
    public func value(timeout: Duration) async -> T? {
        let id = lock.withLock { () -> Int in
            nextWaiter += 1
            return nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { expire(id) }
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let ready: T? = lock.withLock {
                if let result { return result }
                waiters[id] = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func expire(_ id: Int) {
        let waiter = lock.withLock { waiters.removeValue(forKey: id) }
        waiter?.resume(returning: nil)
    }
}
