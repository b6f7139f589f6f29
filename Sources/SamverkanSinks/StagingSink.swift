#if canImport(Glibc)
    import Glibc
#endif

/// A sink that can do a delivery's slow work ahead of the notice's time, with nothing visible
/// until the delivery itself.
///
/// The file sink writes and syncs the file under a hidden temporary name when the notice is staged
/// (seconds before it is due); delivering it is then one rename in the next group commit. A burst
/// of notices due at the same instant appears within milliseconds of it, instead of after a
/// thousand file creations and syncs. A staged delivery that is not used (the notice was
/// cancelled, moved or changed, the config was reloaded) is discarded, and one a crash leaves
/// behind is removed at the next start.
public protocol StagingSink: NoticeSink {
    /// Prepares `notice`: afterwards, `deliver(staged:)` does what `deliver(_:)` would have done
    /// with the same notice.
    func stage(_ notice: OutgoingNotice) async -> Result<StagedDelivery, SinkError>
    /// Staged notices delivered together (a burst due at once), one result each, in order.
    func deliver(staged: [StagedDelivery]) async -> [Result<DeliveryReceipt, SinkError>]
}

extension StagingSink {
    /// One staged notice.
    public func deliver(staged: StagedDelivery) async throws(SinkError) -> DeliveryReceipt {
        try await deliver(staged: [staged])[0].get()
    }
}

/// The work a `StagingSink` did ahead: for the file sink, a file written and synced under its
/// temporary name.
public struct StagedDelivery: Sendable {
    let file: FileCommitter.Staged

    /// Throws the staged work away (the notice will not go out as staged).
    public func discard() {
        unlink(file.temporary)
    }
}
