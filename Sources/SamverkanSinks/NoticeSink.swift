public import SamverkanCore

/// A notice ready to deliver: what is due, for whom, and its text. Carries no personal data:
/// roles, functional addresses, agreement names and neutral references only.
public struct OutgoingNotice: Codable, Sendable, Hashable {
    public struct Recipient: Codable, Sendable, Hashable {
        public var role: String
        public var address: String?

        public init(role: String, address: String?) {
            self.role = role
            self.address = address
        }
    }

    /// The notice id: the idempotency key everywhere.
    public var id: String
    public var slot: String
    /// When it was due to go out (RFC 3339 local time).
    public var at: String
    /// Sent after its time (the daemon was down, or a retry).
    public var late: Bool
    public var agreement: String
    public var agreementTitle: String
    public var deadline: DeadlineView
    public var recipients: [Recipient]
    public var subject: String
    public var body: String

    public init(
        id: String, slot: String, at: String, late: Bool, agreement: String, agreementTitle: String,
        deadline: DeadlineView, recipients: [Recipient], subject: String, body: String
    ) {
        self.id = id
        self.slot = slot
        self.at = at
        self.late = late
        self.agreement = agreement
        self.agreementTitle = agreementTitle
        self.deadline = deadline
        self.recipients = recipients
        self.subject = subject
        self.body = body
    }

    enum CodingKeys: String, CodingKey {
        case id, slot, at, late, agreement, deadline, recipients, subject, body
        case agreementTitle = "agreement_title"
    }
}

/// Where notices go: a file drop, email, a webhook, a command, the journal.
///
/// A sink delivers one notice and either returns a receipt or throws a `SinkError` that says
/// whether trying again can help.
public protocol NoticeSink: Sendable {
    var name: String { get }
    var type: String { get }
    /// How many deliveries this sink takes at once; the dispatcher holds the others back. A mail
    /// server or a webhook wants few connections; a local directory takes a burst at once.
    var concurrentDeliveries: Int { get }
    func deliver(_ notice: OutgoingNotice) async throws(SinkError) -> DeliveryReceipt
}

extension NoticeSink {
    /// The bound of a sink that does not choose one: 16, what the scheduler allowed every sink
    /// before sinks had bounds of their own.
    public var concurrentDeliveries: Int { 16 }
}

/// What a sink reports after a delivery: where the notice went, for the journal and audit.
public struct DeliveryReceipt: Sendable, Hashable {
    public var detail: String

    public init(detail: String) {
        self.detail = detail
    }
}

/// A failed delivery, classified so the dispatcher knows whether to retry.
public struct SinkError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: String { case transient, permanent }
        private let kind: Kind
        /// Trying again later may succeed (a full disk, a 4xx SMTP reply, a timeout).
        public static let transient = Code(kind: .transient)
        /// Trying again will fail the same way (a 5xx reply, a bad address).
        public static let permanent = Code(kind: .permanent)
        public var description: String { kind.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// A sink's options that cannot be used, with what to write instead: found when the config is
/// loaded, so a mistake shows at start or reload and not at the first delivery.
public struct SinkOptionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
