import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Group commit of the file sink's renames: the files of one directory that were written and
/// synced while a commit was under way are renamed into place together by the next commit, with
/// one `fsync` of the directory for all of them.
///
/// Writing each file on its own costs two waits for the disk per notice, one after the other: the
/// `fsync` of the file, and the `fsync` of the directory after its rename. Here:
///
/// 1. each notice is written under a temporary name and `fsync`ed by its own delivery, on a thread
///    of `threads`, many side by side, so their fsyncs overlap on the disk (and, on a journalled
///    file system, share journal commits);
/// 2. a commit takes every file synced and waiting (at most `batchLimit`), renames each to its
///    final name, and `fsync`s the directory once for all of them.
///
/// A file is reported delivered only after its data and its directory entry are durable (after
/// step 2); a file that failed at any step is reported as a transient failure and its temporary
/// file removed, the others of its batch are not affected. A failed `fsync` of the directory fails
/// the whole batch (the files are in place, but maybe not after a power loss): they are sent
/// again, and a rewrite replaces a file with the same bytes.
///
/// Nothing runs while nothing is waiting: the first file of an idle committer starts a drain on a
/// thread of `committers`, which commits until the queue is empty (no timer, no polling).
final class FileCommitter: Sendable {
    /// At most this many files go into one commit.
    static let batchLimit = 256

    /// Threads for the blocking writes and fsyncs of the files, many side by side (concurrent
    /// fsyncs overlap on the disk and share journal commits) ...
    static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 32)
        pool.start()
        return pool
    }()

    /// ... and for the drains that rename them into place: one per directory at a time, never
    /// queued behind the writes.
    static let committers: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    /// A file written and synced under its temporary name.
    struct Staged: Sendable {
        var temporary: String
        var fileName: String
    }

    private struct Request: Sendable {
        var staged: Staged
        var done: CheckedContinuation<Result<Void, SinkError>, Never>
    }

    private struct Queue {
        var waiting: [Request] = []
        var draining = false
    }

    let directory: String
    let mode: mode_t
    private let queue = Mutex(Queue())
    /// Makes temporary names unique, so that two writes of one notice never share one.
    private let sequence = Atomic<Int>(0)
    private let commits = Atomic<Int>(0)

    /// How many group commits ran (tests: notices handed over together share them).
    var commitCount: Int { commits.load(ordering: .relaxed) }

    init(directory: String, mode: mode_t) {
        self.directory = directory
        self.mode = mode
    }

    /// Writes `content` as `directory/fileName`, durably, with the next commit.
    func write(_ content: [UInt8], as fileName: String) async -> Result<Void, SinkError> {
        let staged: Result<Staged, SinkError>
        do {
            staged = try await Self.threads.runIfActive { self.stage(content, as: fileName) }
        } catch {
            return .failure(SinkError(.transient, "cannot write \(fileName): the I/O threads are stopped (\(error))"))
        }
        guard case .success(let file) = staged else { return staged.map { _ in () } }
        return await withCheckedContinuation { (done: CheckedContinuation<Result<Void, SinkError>, Never>) in
            let startDrain = queue.withLock { queue -> Bool in
                queue.waiting.append(Request(staged: file, done: done))
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            guard startDrain else { return }
            Self.committers.submit { state in
                guard case .active = state else {
                    self.failAll("the I/O threads are stopped")
                    return
                }
                self.drain()
            }
        }
    }

    /// Commits batches until nobody waits. Runs on the thread of `committers`.
    private func drain() {
        while true {
            let batch = queue.withLock { queue -> [Request] in
                let batch = Array(queue.waiting.prefix(Self.batchLimit))
                queue.waiting.removeFirst(batch.count)
                if batch.isEmpty { queue.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            let results = commit(batch.map { .success($0.staged) })
            for (request, result) in zip(batch, results) { request.done.resume(returning: result) }
        }
    }

    private func failAll(_ reason: String) {
        let waiting = queue.withLock { queue -> [Request] in
            let waiting = queue.waiting
            queue.waiting = []
            queue.draining = false
            return waiting
        }
        for request in waiting {
            unlink(request.staged.temporary)
            request.done.resume(
                returning: .failure(SinkError(.transient, "cannot write \(request.staged.fileName): \(reason)")))
        }
    }

    /// Step 1: the file written under a temporary name and synced.
    func stage(_ content: [UInt8], as fileName: String) -> Result<Staged, SinkError> {
        if mkdir(directory, 0o750) != 0 && errno != EEXIST {
            return .failure(SinkError(.transient, "cannot create \(directory): \(Self.reason())"))
        }
        let number = sequence.wrappingAdd(1, ordering: .relaxed).oldValue
        let temporary = directory + "/.tmp-\(getpid())-\(number)-" + fileName
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            return .failure(SinkError(.transient, "cannot create \(temporary): \(Self.reason())"))
        }
        var failure = Self.writeAll(content, to: fd)
        fchmod(fd, mode)
        if failure == nil && fsync(fd) != 0 { failure = "fsync: " + Self.reason() }
        close(fd)
        if let failure {
            unlink(temporary)
            return .failure(SinkError(.transient, "cannot write \(temporary): \(failure)"))
        }
        return .success(Staged(temporary: temporary, fileName: fileName))
    }

    /// Step 2 for written files; one result per file, in order.
    func commit(_ files: [Result<Staged, SinkError>]) -> [Result<Void, SinkError>] {
        commits.add(1, ordering: .relaxed)
        var results = files.map { $0.map { _ in () } }
        var renamed: [Int] = []
        for (index, file) in files.enumerated() {
            guard case .success(let staged) = file else { continue }
            let final = directory + "/" + staged.fileName
            if rename(staged.temporary, final) == 0 {
                renamed.append(index)
            } else {
                results[index] = .failure(SinkError(.transient, "cannot rename to \(final): \(Self.reason())"))
                unlink(staged.temporary)
            }
        }
        if !renamed.isEmpty {
            let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            let synced = directoryFD >= 0 && fsync(directoryFD) == 0
            let failure = synced ? "" : Self.reason()
            if directoryFD >= 0 { close(directoryFD) }
            if !synced {
                for index in renamed {
                    results[index] = .failure(
                        SinkError(.transient, "cannot sync the directory \(directory): \(failure)"))
                }
            }
        }
        return results
    }

    /// Both steps for a batch on this thread (tests).
    func commit(_ files: [(content: [UInt8], fileName: String)]) -> [Result<Void, SinkError>] {
        commit(files.map { stage($0.content, as: $0.fileName) })
    }

    /// Writes everything, through short writes and interruptions; the error's text on failure.
    private static func writeAll(_ content: [UInt8], to fd: Int32) -> String? {
        content.withUnsafeBytes { raw -> String? in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return reason()
                }
                offset += n
            }
            return nil
        }
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}
