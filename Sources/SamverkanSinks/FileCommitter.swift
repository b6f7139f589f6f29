import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The file sink's writes: each file is written and synced under a temporary name, renamed into
/// place, and its name made durable by an `fsync` of the directory that is shared with every file
/// renamed meanwhile (a group commit).
///
/// Writing each file on its own costs two waits for the disk per notice, one after the other: the
/// `fsync` of the file, and the `fsync` of the directory after its rename. Here:
///
/// 1. each notice is written under a temporary name and `fsync`ed by its own delivery, on a thread
///    of `threads`, many side by side, so their fsyncs overlap on the disk (and, on a journalled
///    file system, share journal commits); the file sink can do this ahead of the notice's time
///    (`StagingSink`);
/// 2. a renamer takes every file that is waiting and renames it to its final name at once: a
///    file is visible as soon as it is its turn, never held back by a directory sync;
/// 3. a syncer `fsync`s the directory once for every file renamed before the sync began; the
///    files renamed during a sync wait for the next one (at most one sync at a time, and one
///    right after the other while files keep coming).
///
/// A file is reported delivered only after its data and its directory entry are durable (after
/// step 3); a file that failed at any step is reported as a transient failure and its temporary
/// file removed, the others are not affected. A failed `fsync` of the directory fails its whole
/// group (the files are in place, but maybe not after a power loss): they are sent again, and a
/// rewrite replaces a file with the same bytes.
///
/// Nothing runs while nothing is waiting: the first file of an idle committer starts a drain on a
/// thread of `committers`, which works until its queue is empty (no timer, no polling).
final class FileCommitter: Sendable {
    /// How many deliveries the file sink takes at once (`FileSink.concurrentDeliveries`).
    static let batchLimit = 256

    /// Threads for the blocking writes and fsyncs of the files, many side by side (concurrent
    /// fsyncs overlap on the disk and share journal commits) ...
    static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 32)
        pool.start()
        return pool
    }()

    /// ... and for the renamers and syncers: one of each per directory at a time, never queued
    /// behind the writes.
    static let committers: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    /// A file written and synced under its temporary name.
    struct Staged: Sendable {
        var temporary: String
        var fileName: String
    }

    private typealias Done = CheckedContinuation<[Result<Void, SinkError>], Never>

    /// Files committed together (one delivery, or a batch of staged ones), with one result each.
    private struct Request: Sendable {
        var files: [Staged]
        var done: Done
    }

    /// A request whose files were renamed (or failed to be), waiting for a sync of the directory.
    private struct Renamed: Sendable {
        var results: [Result<Void, SinkError>]
        var done: Done
    }

    private struct Queues {
        /// Staged files waiting to be renamed, and whether a renamer is at work.
        var renaming: [Request] = []
        var renamer = false
        /// Renamed files waiting for a sync of the directory, and whether a syncer is at work.
        var syncing: [Renamed] = []
        var syncer = false
    }

    let directory: String
    let mode: mode_t
    private let queues = Mutex(Queues())
    /// Makes temporary names unique in this process, so that two writes of one notice never
    /// share one, also across the committers of one directory (a reload makes new ones).
    private static let sequence = Atomic<Int>(0)
    private let commits = Atomic<Int>(0)

    /// How many syncs of the directory ran (tests: files renamed together share them).
    var commitCount: Int { commits.load(ordering: .relaxed) }

    init(directory: String, mode: mode_t) {
        self.directory = directory
        self.mode = mode
        Self.removeLeftovers(in: directory)
    }

    /// Temporary files are `.tmp-PID-N-NAME`: hidden, and named by the process that wrote them.
    static let temporaryPrefix = ".tmp-"

    /// The directories this process has swept: once each, at its first sink (a reload makes new
    /// sinks while the old ones may still be writing).
    private static let swept = Mutex<Set<String>>([])

    /// Removes the temporary files of processes that are gone: a crash between a file's write and
    /// its rename, or a staged notice that was never delivered. Another live process's files
    /// (a second daemon writing into the same directory) are left alone. "Gone" is by pid in
    /// this pid namespace: two daemons in different containers sharing one directory could take
    /// each other's for a dead one's (the other then fails its rename and writes again; nothing
    /// is lost).
    static func removeLeftovers(in directory: String) {
        // By its real path: a directory named another way after a reload is the same directory.
        let real = realpath(directory, nil).map { path in
            defer { free(path) }
            return String(cString: path)
        }
        guard swept.withLock({ $0.insert(real ?? directory).inserted }), let listing = opendir(directory) else {
            return
        }
        defer { closedir(listing) }
        let ownPID = getpid()
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(temporaryPrefix),
                let pid = pid_t(name.dropFirst(temporaryPrefix.count).prefix { $0 != "-" })
            else { continue }
            // Never our own (a sink made by a reload sweeps again if the directory is named
            // another way); one left by an earlier process with our pid stays, as rare as harmless.
            if pid != ownPID && kill(pid, 0) != 0 && errno == ESRCH {
                unlink(directory + "/" + name)
            }
        }
    }

    /// Writes `content` as `directory/fileName`, durably.
    func write(_ content: [UInt8], as fileName: String) async -> Result<Void, SinkError> {
        switch await stage(content, as: fileName) {
        case .success(let file): await commit(file)
        case .failure(let error): .failure(error)
        }
    }

    /// Step 1 on a thread of `threads`: the file written under its temporary name and synced.
    func stage(_ content: [UInt8], as fileName: String) async -> Result<Staged, SinkError> {
        do {
            return try await Self.threads.runIfActive { self.stageNow(content, as: fileName) }
        } catch {
            return .failure(SinkError(.transient, "cannot write \(fileName): the I/O threads are stopped (\(error))"))
        }
    }

    /// Steps 2 and 3: a staged file renamed into place, then its name made durable; returns once
    /// it is.
    func commit(_ file: Staged) async -> Result<Void, SinkError> {
        await commit([file])[0]
    }

    /// Steps 2 and 3 for many staged files at once: one rename pass and one sync for all of them,
    /// and one result each, in order.
    func commit(_ files: [Staged]) async -> [Result<Void, SinkError>] {
        guard !files.isEmpty else { return [] }
        return await withCheckedContinuation { (done: Done) in
            let start = queues.withLock { queues -> Bool in
                queues.renaming.append(Request(files: files, done: done))
                guard !queues.renamer else { return false }
                queues.renamer = true
                return true
            }
            if start { run { $0.drainRenames() } }
        }
    }

    /// Runs `work` on a thread of `committers`; fails everything waiting when they are stopped.
    private func run(_ work: @escaping @Sendable (FileCommitter) -> Void) {
        Self.committers.submit { state in
            guard case .active = state else {
                self.failAll("the I/O threads are stopped")
                return
            }
            work(self)
        }
    }

    /// Renames until nothing waits, handing each request on to the syncer.
    private func drainRenames() {
        while true {
            let batch = queues.withLock { queues -> [Request] in
                let batch = queues.renaming
                queues.renaming = []
                if batch.isEmpty { queues.renamer = false }
                return batch
            }
            if batch.isEmpty { return }
            // Names relative to the directory: no walk of its path for every file.
            let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { if directoryFD >= 0 { close(directoryFD) } }
            for request in batch {
                let results = request.files.map { renameNow($0, in: directoryFD) }
                guard results.contains(where: { (try? $0.get()) != nil }) else {
                    request.done.resume(returning: results)
                    continue
                }
                let start = queues.withLock { queues -> Bool in
                    queues.syncing.append(Renamed(results: results, done: request.done))
                    guard !queues.syncer else { return false }
                    queues.syncer = true
                    return true
                }
                if start { run { $0.drainSyncs() } }
            }
        }
    }

    /// Syncs the directory until nothing waits; each sync covers every file renamed before it.
    private func drainSyncs() {
        while true {
            let group = queues.withLock { queues -> [Renamed] in
                let group = queues.syncing
                queues.syncing = []
                if group.isEmpty { queues.syncer = false }
                return group
            }
            if group.isEmpty { return }
            let synced = syncDirectory()
            for renamed in group { renamed.done.resume(returning: renamed.results.map { $0.flatMap { synced } }) }
        }
    }

    private func failAll(_ reason: String) {
        let (renaming, syncing) = queues.withLock { queues -> ([Request], [Renamed]) in
            defer { queues = Queues() }
            return (queues.renaming, queues.syncing)
        }
        for request in renaming {
            for file in request.files { unlink(file.temporary) }
            request.done.resume(
                returning: request.files.map {
                    .failure(SinkError(.transient, "cannot write \($0.fileName): \(reason)"))
                })
        }
        for renamed in syncing {
            renamed.done.resume(
                returning: renamed.results.map { _ in
                    .failure(SinkError(.transient, "cannot sync \(directory): \(reason)"))
                })
        }
    }

    /// Step 1 on this thread.
    func stageNow(_ content: [UInt8], as fileName: String) -> Result<Staged, SinkError> {
        if mkdir(directory, 0o750) != 0 && errno != EEXIST {
            return .failure(SinkError(.transient, "cannot create \(directory): \(Self.reason())"))
        }
        let number = Self.sequence.wrappingAdd(1, ordering: .relaxed).oldValue
        let temporary = directory + "/" + Self.temporaryPrefix + "\(getpid())-\(number)-" + fileName
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
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

    /// Step 2 on this thread: the rename (by names in `directoryFD` when it is open); the
    /// temporary file is removed when it fails.
    func renameNow(_ staged: Staged, in directoryFD: Int32 = -1) -> Result<Void, SinkError> {
        let final = directory + "/" + staged.fileName
        let renamed =
            directoryFD >= 0
            ? renameat(
                directoryFD, String(staged.temporary.dropFirst(directory.count + 1)), directoryFD, staged.fileName)
            : rename(staged.temporary, final)
        guard renamed == 0 else {
            let failure = SinkError(.transient, "cannot rename to \(final): \(Self.reason())")
            unlink(staged.temporary)
            return .failure(failure)
        }
        return .success(())
    }

    /// Step 3 on this thread: one fsync of the directory.
    func syncDirectory() -> Result<Void, SinkError> {
        commits.add(1, ordering: .relaxed)
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let synced = directoryFD >= 0 && fsync(directoryFD) == 0
        let failure = synced ? "" : Self.reason()
        if directoryFD >= 0 { close(directoryFD) }
        return synced
            ? .success(()) : .failure(SinkError(.transient, "cannot sync the directory \(directory): \(failure)"))
    }

    /// All three steps for a batch on this thread, with one sync of the directory (tests).
    func commit(_ files: [(content: [UInt8], fileName: String)]) -> [Result<Void, SinkError>] {
        let renamed = files.map { file in stageNow(file.content, as: file.fileName).flatMap { renameNow($0) } }
        guard renamed.contains(where: { (try? $0.get()) != nil }) else { return renamed }
        let synced = syncDirectory()
        return renamed.map { $0.flatMap { synced } }
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
