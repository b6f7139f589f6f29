import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a sendmail-compatible program (`msmtp`, postfix's or exim's `sendmail`) as
/// `PATH -t -i -f SENDER` with the message on standard input: no shell, its output bounded,
/// and a time limit after which its process group is stopped (SIGTERM, then SIGKILL).
///
/// It uses posix_spawn rather than Foundation's `Process`, which lets the child inherit the
/// spawning thread's signal mask: from a Swift concurrency thread that blocks SIGTERM, so
/// the time limit could not stop it (seen in the tests).
///
/// `-t` takes the recipients from `To:`, `-i` keeps a lone `.` line as text, and `-f` sets the
/// envelope sender the same way for every implementation.
struct Sendmail: Sendable {
    /// What the program did.
    struct Outcome: Sendable, Hashable {
        /// The exit status, nil when a signal ended it.
        var exitStatus: Int32?
        var signal: Int32?
        /// It ran past the time limit and was stopped.
        var timedOut: Bool
        /// Its standard output and error together, at most `outputLimit` bytes, lossy UTF-8.
        var output: String
    }

    static let outputLimit = 16 * 1024

    var path: String
    var timeout: Duration

    /// Runs the program; throws only when it cannot be started.
    func run(message: [UInt8], sender: String) async throws(SinkError) -> Outcome {
        let (pid, writeFD, readFD) = try spawn(arguments: ["-t", "-i", "-f", sender])
        let collected = Collected()
        Thread.detachNewThread { Self.write(message, to: writeFD) }
        Thread.detachNewThread { Self.read(from: readFD, into: collected) }

        let (status, timedOut) = await withTaskGroup(of: (Int32?, Bool).self) { group in
            group.addTask {
                let status = await withCheckedContinuation { continuation in
                    Thread.detachNewThread {
                        var status: Int32 = 0
                        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                        continuation.resume(returning: status)
                    }
                }
                return (status, false)
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                } catch {
                    return (nil, false)
                }
                // The whole process group: a wrapper script's children too.
                kill(-pid, SIGTERM)
                try? await Task.sleep(for: .seconds(2))
                kill(-pid, SIGKILL)
                return (nil, true)
            }
            var status: Int32 = 0
            var timedOut = false
            for await (exitStatus, stopped) in group {
                if stopped { timedOut = true }
                if let exitStatus {
                    status = exitStatus
                    group.cancelAll()
                }
            }
            return (status, timedOut)
        }
        // A grandchild that kept the output open must not hold the sink: take what is there.
        await collected.waitForEnd(atMost: .seconds(2))
        let signal = status & 0x7F
        return Outcome(
            exitStatus: signal == 0 ? (status >> 8) & 0xFF : nil, signal: signal == 0 ? nil : signal,
            timedOut: timedOut, output: collected.text)
    }

    /// Starts the program with posix_spawn: standard input and output on pipes and no other
    /// descriptor, an empty signal mask and default signal handling (a thread of the daemon
    /// may block or ignore signals, and a child would inherit that: it could then not be
    /// stopped with SIGTERM), in a process group of its own.
    private func spawn(arguments: [String]) throws(SinkError) -> (pid: pid_t, writeFD: Int32, readFD: Int32) {
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
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, output[1], 2)
        if let addCloseFrom = Self.addCloseFrom { _ = addCloseFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGALRM, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
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
    /// could only leak an end to a sendmail child, which closes it when it exits.
    private static func pipeClosedOnExec(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// Writes the message on a thread of its own with SIGPIPE blocked, so a program that exits
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
        collected.finish()
    }

    /// The program's output, filled by the reader thread and read by the task.
    private final class Collected: Sendable {
        private struct State {
            var bytes: [UInt8] = []
            var ended = false
            /// Set when the task stopped waiting, so a late waiter does not wait at all.
            var waitOver = false
            var waiter: CheckedContinuation<Void, Never>?
        }
        private let state = Mutex(State())

        func append(_ bytes: ArraySlice<UInt8>) {
            state.withLock { state in
                let room = Sendmail.outputLimit - state.bytes.count
                if room > 0 { state.bytes += bytes.prefix(room) }
            }
        }

        func finish() {
            let waiter = state.withLock { state in
                state.ended = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }

        var text: String { state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }

        /// Returns when the output ended or after `limit`, whichever is first.
        func waitForEnd(atMost limit: Duration) async {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let ended = self.state.withLock { state in
                            if state.ended || state.waitOver { return true }
                            state.waiter = continuation
                            return false
                        }
                        if ended { continuation.resume() }
                    }
                }
                group.addTask { try? await Task.sleep(for: limit) }
                await group.next()
                group.cancelAll()
                // Unblock the first task when the time ran out.
                self.finishWaiter()
            }
        }

        private func finishWaiter() {
            let waiter = state.withLock { state in
                state.waitOver = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
