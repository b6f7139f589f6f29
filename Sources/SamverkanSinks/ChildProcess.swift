import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program for a sink (sendmail, a command) with bytes on its standard input: no
/// shell, its output bounded, and a time limit after which its process group is stopped
/// (SIGTERM, then SIGKILL after a grace period).
///
/// It uses posix_spawn rather than Foundation's `Process`, which lets the child inherit the
/// spawning thread's signal mask: from a Swift concurrency thread that blocks SIGTERM, so
/// the time limit could not stop it (seen in the tests). Every blocking call (writing the
/// input, reading the output, `waitpid`) runs on a thread of its own, never on a thread of
/// Swift's pool or of Dispatch.
struct ChildProcess: Sendable {
    /// Where the program's standard output goes; its standard error is always captured.
    enum StandardOutput: Sendable {
        /// Into the same captured text as standard error, interleaved as written.
        case withError
        /// To /dev/null.
        case discarded
    }

    /// How the program ended.
    enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signalled(Int32)
        /// `waitpid` failed (say SIGCHLD is ignored, so the kernel reaped it): not known.
        case unknown(errno: Int32)
    }

    /// What the program did.
    struct Outcome: Sendable, Hashable {
        var termination: Termination
        /// It ran past the time limit and was stopped.
        var timedOut: Bool
        /// The task was cancelled while it ran, and it was stopped.
        var cancelled: Bool
        /// It did not end on SIGTERM within the grace period and was sent SIGKILL.
        var killed: Bool
        /// Its standard error (and output, with `.withError`), at most `outputLimit` bytes,
        /// lossy UTF-8.
        var output: String

        var exitStatus: Int32? {
            if case .exited(let status) = termination { return status }
            return nil
        }
    }

    static let outputLimit = 16 * 1024

    /// The program to run: an absolute path (no PATH search here).
    var path: String
    /// The whole argument vector, `argv[0]` included.
    var arguments: [String]
    /// `NAME=value` strings; nil passes the daemon's own environment on.
    var environment: [String]?
    var standardOutput: StandardOutput = .withError
    var timeout: Duration
    /// How long a program may take to end after SIGTERM before it gets SIGKILL.
    var killGrace: Duration = .seconds(2)

    /// Runs the program to its end, or stops it at the time limit or when the task is
    /// cancelled; throws only when it cannot be started.
    func run(input: [UInt8]) async throws(SinkError) -> Outcome {
        let (pid, writeFD, readFD) = try spawn()
        let output = Collected()
        let exit = Completion<Termination>()
        let stopping = Flag()
        Thread.detachNewThread { Self.write(input, to: writeFD) }
        Thread.detachNewThread { Self.read(from: readFD, into: output) }
        Thread.detachNewThread { exit.finish(Self.wait(for: pid, stopping: stopping)) }

        var timedOut = false
        var cancelled = false
        var killed = false
        if await exit.value(atMost: timeout, cancellable: true) == nil {
            cancelled = Task.isCancelled
            timedOut = !cancelled
            stopping.set()
            // The whole process group: a wrapper script's children too. Until `wait` has
            // reaped the child its pid names this group and no other; after that it could be
            // reused only after the kernel's pids wrapped around.
            kill(-pid, SIGTERM)
            if await exit.value(atMost: killGrace, cancellable: false) == nil {
                kill(-pid, SIGKILL)
                killed = true
            }
        }
        let ended = await exit.value()
        // A grandchild that kept the output open must not hold the sink: take what is there.
        _ = await output.ended.value(atMost: .seconds(2), cancellable: false)
        return Outcome(
            termination: ended, timedOut: timedOut, cancelled: cancelled, killed: killed, output: output.text)
    }

    /// Waits for the program to end and reaps it. Once it has ended, and before it is reaped
    /// (while its pid, and so its process group id, cannot be taken by another process), what
    /// is left of a group being stopped gets SIGKILL: a child of a wrapper script that
    /// ignored SIGTERM must not outlive the time limit.
    private static func wait(for pid: pid_t, stopping: Flag) -> Termination {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        if stopping.isSet { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        var result = waitpid(pid, &status, 0)
        while result < 0 && errno == EINTR { result = waitpid(pid, &status, 0) }
        if result < 0 { return .unknown(errno: errno) }
        if status & 0x7F == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(status & 0x7F)
    }

    /// Starts the program with posix_spawn: standard input and error (and output) on pipes and
    /// no other descriptor, an empty signal mask and default signal handling (a thread of the
    /// daemon may block or ignore signals, and a child would inherit that: it could then not
    /// be stopped with SIGTERM), in a process group of its own.
    private func spawn() throws(SinkError) -> (pid: pid_t, writeFD: Int32, readFD: Int32) {
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard Self.pipeClosedOnExec(&input) else {
            throw SinkError(.transient, "cannot make a pipe for \(path): \(String(cString: strerror(errno)))")
        }
        guard Self.pipeClosedOnExec(&output) else {
            let reason = String(cString: strerror(errno))
            close(input[0])
            close(input[1])
            throw SinkError(.transient, "cannot make a pipe for \(path): \(reason)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        switch standardOutput {
        case .withError: posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        case .discarded: posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, output[1], 2)
        if let addCloseFrom = Self.addCloseFrom { _ = addCloseFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        // Every catchable signal back to its default: ignored ones stay ignored across exec.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in Int32(1)...31 where signal != SIGKILL && signal != SIGSTOP {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result: Int32
        if let environment {
            let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
            defer { envp.forEach { free($0) } }
            result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        } else {
            result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        }
        close(input[0])
        close(output[1])
        guard result == 0 else {
            close(input[1])
            close(output[0])
            // ETXTBSY: the program is being written (an upgrade); anything else needs a fix.
            throw SinkError(
                result == ETXTBSY ? .transient : .permanent, "cannot run \(path): \(String(cString: strerror(result)))")
        }
        return (pid, input[1], output[0])
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Glibc's Swift module
    /// leaves out, looked up once: the child then holds no descriptor of the daemon's but its
    /// three standard ones, whatever was opened without close-on-exec.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// A pipe whose ends are closed in any program started later. `pipe2(O_CLOEXEC)` would do it
    /// atomically, but Glibc's Swift module leaves it out; a spawn on another thread in between
    /// could only leak an end to that child, which closes it when it exits.
    private static func pipeClosedOnExec(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// Writes the input on a thread of its own with SIGPIPE blocked, so a program that exits
    /// without reading gives EPIPE here instead of killing the daemon.
    private static func write(_ bytes: [UInt8], to fd: Int32) {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                offset += n
            }
        }
        close(fd)
        // Take a SIGPIPE that EPIPE left pending on this thread.
        var none = timespec(tv_sec: 0, tv_nsec: 0)
        _ = sigtimedwait(&pipeSignal, nil, &none)
    }

    private static func read(from fd: Int32, into collected: Collected) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            collected.append(chunk[0..<n])
        }
        close(fd)
        collected.ended.finish(())
    }

    /// The program's output, filled by the reader thread and read by the task.
    private final class Collected: Sendable {
        private let bytes = Mutex<[UInt8]>([])
        let ended = Completion<Void>()

        func append(_ chunk: ArraySlice<UInt8>) {
            bytes.withLock { bytes in
                let room = ChildProcess.outputLimit - bytes.count
                if room > 0 { bytes += chunk.prefix(room) }
            }
        }

        var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }
    }
}

/// A flag set by a task and read by a thread.
private final class Flag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// A value that a thread sets once and any number of tasks await, each for as long as it
/// chooses: the bridge from the blocking threads above to async code.
private final class Completion<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
        var nextWaiter = 0
    }
    private let state = Mutex(State())

    /// Sets the value (the first call wins) and wakes every waiter.
    func finish(_ value: Value) {
        let woken = state.withLock { state -> [CheckedContinuation<Value?, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume(returning: value) }
    }

    /// The value, however long it takes.
    func value() async -> Value {
        while true {
            if let value = await wait(limit: nil, cancellable: false) { return value }
        }
    }

    /// The value, or nil when it is not set within `limit` (or, when `cancellable`, when the
    /// task is cancelled first).
    func value(atMost limit: Duration, cancellable: Bool) async -> Value? {
        await wait(limit: limit, cancellable: cancellable)
    }

    private func wait(limit: Duration?, cancellable: Bool) async -> Value? {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        // An unstructured task: the caller's cancellation does not end the timer early.
        let timer = limit.map { limit in
            Task {
                try? await EventLoopSleep.sleep(for: limit)
                self.expire(id)
            }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Value?? in
                    if let value = state.value { return .some(value) }
                    if cancellable && Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            if cancellable { expire(id) }
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume(returning: nil)
    }
}
