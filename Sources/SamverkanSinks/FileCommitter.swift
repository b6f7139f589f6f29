import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Group commit of the file sink: the notices handed to one directory while a commit is under
/// way are written, made durable and renamed into place together by the next commit.
///
/// Writing each file on its own (temporary file, fsync, rename, fsync of the directory) costs two
/// waits for the disk per notice, and notices due together queue behind each other's fsyncs. Here
/// one commit takes everything waiting (at most `batchLimit` files):
///
/// 1. each file is written under a temporary name and its write-back started at once
///    (`sync_file_range(SYNC_FILE_RANGE_WRITE)`), so the disk works on all of them together;
/// 2. each file is `fsync`ed: the first waits for the journal commit that covers the batch, the
///    others find their data already on the disk;
/// 3. the files that were synced are renamed to their final names, and the directory is `fsync`ed
///    once for all of them.
///
/// A file is reported delivered only after its data and its directory entry are durable (after
/// step 3); a file that failed at any step is reported as a transient failure and its temporary
/// file removed, the others of its batch are not affected. A failed `fsync` of the directory fails
/// the whole batch (the files are in place, but maybe not after a power loss): they are sent
/// again, and a rewrite replaces a file with the same bytes.
///
/// Nothing runs while nothing is waiting: the first request of an idle committer starts a drain on
/// a thread of `threads`, which commits until the queue is empty (no timer, no polling).
final class FileCommitter: Sendable {
    /// At most this many files are open and committed together (file descriptors are limited).
    static let batchLimit = 256

    /// Threads for the committers' blocking writes and syncs: one drain per directory at a time.
    static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    private struct Request: Sendable {
        var content: [UInt8]
        var fileName: String
        var done: CheckedContinuation<Result<Void, SinkError>, Never>
    }

    private struct Queue {
        var waiting: [Request] = []
        var draining = false
        /// Makes temporary names unique, so that two writes of one notice never share one.
        var sequence = 0
    }

    let directory: String
    let mode: mode_t
    private let queue = Mutex(Queue())
    private let commits = Atomic<Int>(0)

    /// How many group commits ran (tests: notices handed over together share them).
    var commitCount: Int { commits.load(ordering: .relaxed) }

    init(directory: String, mode: mode_t) {
        self.directory = directory
        self.mode = mode
    }

    /// Writes `content` as `directory/fileName`, durably, with the next commit.
    func write(_ content: [UInt8], as fileName: String) async -> Result<Void, SinkError> {
        await withCheckedContinuation { (done: CheckedContinuation<Result<Void, SinkError>, Never>) in
            let startDrain = queue.withLock { queue -> Bool in
                queue.waiting.append(Request(content: content, fileName: fileName, done: done))
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            guard startDrain else { return }
            Self.threads.submit { state in
                guard case .active = state else {
                    self.failAll("the I/O threads are stopped")
                    return
                }
                self.drain()
            }
        }
    }

    /// Commits batches until nobody waits. Runs on a thread of `threads`.
    private func drain() {
        while true {
            let (batch, first) = queue.withLock { queue -> ([Request], Int) in
                let batch = Array(queue.waiting.prefix(Self.batchLimit))
                queue.waiting.removeFirst(batch.count)
                if batch.isEmpty { queue.draining = false }
                let first = queue.sequence
                queue.sequence &+= batch.count
                return (batch, first)
            }
            if batch.isEmpty { return }
            let results = commit(batch.map { ($0.content, $0.fileName) }, sequence: first)
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
            request.done.resume(
                returning: .failure(SinkError(.transient, "cannot write \(request.fileName): \(reason)")))
        }
    }

    /// One group commit (the three steps of the type's comment); one result per file, in order.
    func commit(_ files: [(content: [UInt8], fileName: String)], sequence: Int) -> [Result<Void, SinkError>] {
        commits.add(1, ordering: .relaxed)
        if mkdir(directory, 0o750) != 0 && errno != EEXIST {
            let error = SinkError(.transient, "cannot create \(directory): \(Self.reason())")
            return files.map { _ in .failure(error) }
        }
        let pid = getpid()
        var results = [Result<Void, SinkError>](repeating: .success(()), count: files.count)
        var descriptors = [Int32](repeating: -1, count: files.count)
        let temporaries = files.indices.map { directory + "/.tmp-\(pid)-\(sequence &+ $0)-" + files[$0].fileName }

        // 1. Written, write-back started.
        for (index, file) in files.enumerated() {
            let temporary = temporaries[index]
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
            guard fd >= 0 else {
                results[index] = .failure(SinkError(.transient, "cannot create \(temporary): \(Self.reason())"))
                continue
            }
            descriptors[index] = fd
            if let failure = Self.writeAll(file.content, to: fd) {
                results[index] = .failure(SinkError(.transient, "cannot write \(temporary): \(failure)"))
                continue
            }
            fchmod(fd, mode)
            Self.startWriteBack(fd)
        }
        // 2. Durable.
        for index in files.indices where descriptors[index] >= 0 {
            if case .success = results[index], fsync(descriptors[index]) != 0 {
                results[index] = .failure(
                    SinkError(.transient, "cannot write \(temporaries[index]): fsync: \(Self.reason())"))
            }
            close(descriptors[index])
        }
        // 3. In place, and the directory entries durable.
        var renamed: [Int] = []
        for index in files.indices {
            guard case .success = results[index] else {
                unlink(temporaries[index])
                continue
            }
            let final = directory + "/" + files[index].fileName
            if rename(temporaries[index], final) == 0 {
                renamed.append(index)
            } else {
                results[index] = .failure(SinkError(.transient, "cannot rename to \(final): \(Self.reason())"))
                unlink(temporaries[index])
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

    /// `sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)`: starts writing the file's data without
    /// waiting. Glibc declares it only under `_GNU_SOURCE`, which Swift's Glibc module does not
    /// set, so it is looked up at run time; without it the fsyncs of step 2 do the writing.
    private static func startWriteBack(_ fd: Int32) {
        guard let address = syncFileRangeAddress, let pointer = UnsafeRawPointer(bitPattern: address) else { return }
        typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
        _ = unsafeBitCast(pointer, to: SyncFileRange.self)(fd, 0, 0, 2)  // SYNC_FILE_RANGE_WRITE
    }

    /// The address of `sync_file_range` in the C library (an integer: Sendable, unlike a pointer).
    private static let syncFileRangeAddress: Int? = dlsym(dlopen(nil, RTLD_NOW), "sync_file_range").map {
        Int(bitPattern: $0)
    }
}
