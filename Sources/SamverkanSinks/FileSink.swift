public import Foundation
public import SamverkanCore

#if canImport(Glibc)
    import Glibc
#endif

/// Writes one file per notice into a directory, named by the notice id (`/` → `.`), atomically:
/// a temporary file, fsync, rename, fsync of the directory. A reader never sees half a file, and
/// a notice written twice (after a crash) replaces itself with the same content. A delivery
/// returns once the file and its name are durable.
///
/// Notices handed over together are committed together (`FileCommitter`), so the sink takes
/// many deliveries at once (`concurrentDeliveries`).
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
    /// A local directory takes a burst at once: the committer groups it.
    public var concurrentDeliveries: Int { FileCommitter.batchLimit }
    private let committer: FileCommitter
    /// How many group commits this sink ran (tests).
    var commitCount: Int { committer.commitCount }

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
        self.committer = FileCommitter(directory: directory, mode: mode)
    }

    public func deliver(_ notice: OutgoingNotice) async throws(SinkError) -> DeliveryReceipt {
        let (content, fileName) = try render(notice)
        // The write and the fsyncs block: the committer runs them on threads of its own, side by
        // side with the other notices handed to this sink meanwhile (their fsyncs overlap; one
        // rename pass and one fsync of the directory for all of them), and the event loops never
        // wait for a disk.
        try await committer.write(content, as: fileName).get()
        return DeliveryReceipt(detail: directory + "/" + fileName)
    }

    private func render(_ notice: OutgoingNotice) throws(SinkError) -> (content: [UInt8], fileName: String) {
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
        return (content, NoticeID.fileName(notice.id) + "." + format.rawValue)
    }
}

extension FileSink: StagingSink {
    /// Writes and syncs the file under its temporary name; nothing shows under the final name.
    public func stage(_ notice: OutgoingNotice) async -> Result<StagedDelivery, SinkError> {
        let content: [UInt8]
        let fileName: String
        do throws(SinkError) {
            (content, fileName) = try render(notice)
        } catch {
            return .failure(error)
        }
        return await committer.stage(content, as: fileName).map(StagedDelivery.init(file:))
    }

    /// Renames the staged files into place in one pass, synced together.
    public func deliver(staged: [StagedDelivery]) async -> [Result<DeliveryReceipt, SinkError>] {
        let results = await committer.commit(staged.map(\.file))
        return zip(staged, results).map { delivery, result in
            result.map { DeliveryReceipt(detail: directory + "/" + delivery.file.fileName) }
        }
    }
}
