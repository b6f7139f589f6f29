/// The minimal sink that needs nothing else: the notice's journal entry (which every delivery
/// writes anyway, with its MESSAGE_ID and SAMVERKAN_* fields) is the delivery.
public struct JournalSink: NoticeSink {
    public let name: String
    public var type: String { "journal" }

    public init(name: String) {
        self.name = name
    }

    public func deliver(_ notice: OutgoingNotice) async throws(SinkError) -> DeliveryReceipt {
        DeliveryReceipt(detail: "journal entry")
    }
}
