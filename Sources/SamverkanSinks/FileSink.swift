public import Foundation
import NIOPosix
public import SamverkanCore

#if canImport(Glibc)
    import Glibc
#endif

/// Writes one file per notice into a directory, named by the notice id (`/` → `.`), atomically:
/// a temporary file, fsync, rename, fsync of the directory. A reader never sees half a file, and
/// a notice written twice (after a crash) replaces itself with the same content.
public struct FileSink: NoticeSink {
    public enum Format: String, Sendable {
        /// The same RFC 5322 message the email sink sends (LF line ends).
        case eml
        case json, txt
    }

    public let name: String
    public var type: String { "file" }
    public let directory: String
    public let format: Format
    public let mode: mode_t
    /// For `eml`: the zone of the Date header and the host named in the Message-ID.
    public let zone: Zone
    public let hostname: String

    public init(
        name: String, directory: String, format: Format, mode: mode_t = 0o640, zone: Zone = .utc,
        hostname: String = EmailSink.systemHostname()
    ) {
        self.name = name
        self.directory = directory
        self.format = format
        self.mode = mode
        self.zone = zone
        self.hostname = hostname
    }

    public func deliver(_ notice: OutgoingNotice) async throws(SinkError) -> DeliveryReceipt {
        let content: [UInt8]
        switch format {
        case .json:
            content = try notice.jsonBytes()
        case .txt:
            content = Array("Ämne: \(notice.subject)\n\n\(notice.body)".utf8)
        case .eml:
            // The Date is the notice's own time, so a rewrite after a crash gives the same bytes.
            let from =
                EmailAddress(displayName: "Samverkan", address: "samverkan@\(hostname)")
                ?? EmailAddress(address: "samverkan@localhost")
            guard let from, let date = Zone.parseRFC3339(notice.at) else {
                throw SinkError(.permanent, "cannot build a message for notice \(notice.id)")
            }
            let message = try EmailMessage(
                notice: notice, from: from, replyTo: nil, date: date, zone: zone, hostname: hostname)
            content = Array(message.rendered(.lf).utf8)
        }
        let fileName = NoticeID.fileName(notice.id) + "." + format.rawValue
        // The writes and fsyncs block: on threads of their own, so that notices due together are
        // written side by side (the file system commits their fsyncs together) and the event
        // loops never wait for a disk.
        let sink = self
        let result: Result<Void, SinkError>
        do {
            result = try await Self.blockingIO.runIfActive { () -> Result<Void, SinkError> in
                do throws(SinkError) {
                    try sink.write(content, to: fileName)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw SinkError(.transient, "cannot write \(fileName): the I/O threads are stopped (\(error))")
        }
        try result.get()
        return DeliveryReceipt(detail: directory + "/" + fileName)
    }

    /// Threads for the file sinks' blocking writes: as many as the scheduler delivers at once.
    static let blockingIO: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    private func write(_ content: [UInt8], to fileName: String) throws(SinkError) {
        if mkdir(directory, 0o750) != 0 && errno != EEXIST {
            throw SinkError(.transient, "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        let final = directory + "/" + fileName
        let temporary = directory + "/.tmp-\(getpid())-" + fileName
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw SinkError(.transient, "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        var ok = true
        var failure = ""
        content.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += n
            }
        }
        fchmod(fd, mode)
        if ok && fsync(fd) != 0 {
            ok = false
            failure = "fsync: " + String(cString: strerror(errno))
        }
        close(fd)
        guard ok else {
            unlink(temporary)
            throw SinkError(.transient, "cannot write \(temporary): \(failure)")
        }
        guard rename(temporary, final) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SinkError(.transient, "cannot rename to \(final): \(reason)")
        }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
