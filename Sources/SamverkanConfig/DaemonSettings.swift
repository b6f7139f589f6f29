public import SamverkanCore

/// `samverkand.yaml`: how the daemon runs and where notices go.
public struct DaemonSettings: Sendable, Hashable {
    public var timezone: String = "Europe/Stockholm"
    public var language: String = "sv"
    public var stateDirectory: String?
    public var socket: String?
    public var closedDays: Set<LocalDate> = []
    public var sinks: [SinkConfig] = []
    public var routes: [RouteConfig] = []
    public var adminGroup: String = "samverkan-admin"
    public var `operator`: String?

    public init() {}
}

/// One configured sink. Keys beyond `name`, `type` and `retry` depend on the type and are kept
/// as strings; each sink type reads its own.
public struct SinkConfig: Sendable, Hashable {
    public var name: String
    public var type: String
    public var options: [String: String]
    public var listOptions: [String: [String]]
    /// `retry: {initial: 30s, max: 1h}`: the first retry's delay and the longest one.
    public var retryInitial: Duration
    public var retryMax: Duration

    public static let defaultRetryInitial = Duration.seconds(30)
    public static let defaultRetryMax = Duration.seconds(3600)

    public init(
        name: String, type: String, options: [String: String] = [:], listOptions: [String: [String]] = [:],
        retryInitial: Duration = SinkConfig.defaultRetryInitial, retryMax: Duration = SinkConfig.defaultRetryMax
    ) {
        self.name = name
        self.type = type
        self.options = options
        self.listOptions = listOptions
        self.retryInitial = retryInitial
        self.retryMax = retryMax
    }
}

/// A route: which notices (by agreement, kind and slot) go to which sinks. First match wins.
public struct RouteConfig: Sendable, Hashable {
    public var agreements: [String]?
    public var kinds: [String]?
    public var slots: [String]?
    public var sinks: [String]
    public var fallback: String?
    public var digestAt: LocalTime?

    public init(
        agreements: [String]? = nil, kinds: [String]? = nil, slots: [String]? = nil, sinks: [String],
        fallback: String? = nil, digestAt: LocalTime? = nil
    ) {
        self.agreements = agreements
        self.kinds = kinds
        self.slots = slots
        self.sinks = sinks
        self.fallback = fallback
        self.digestAt = digestAt
    }

    /// Whether a notice of this agreement, kind and slot takes this route.
    public func matches(agreement: String, kind: String, slot: String) -> Bool {
        func accepts(_ values: [String]?, _ value: String) -> Bool { values.map { $0.contains(value) } ?? true }
        return accepts(agreements, agreement) && accepts(kinds, kind) && accepts(slots, slot)
    }
}

/// A loaded, validated configuration: the daemon settings, the agreements and a fingerprint of
/// the files they came from.
public struct LoadedConfig: Sendable {
    public var directory: String
    public var settings: DaemonSettings
    public var zone: Zone
    public var agreements: [Agreement]
    /// Warnings found while loading (errors make loading fail).
    public var warnings: [Diagnostic]
    /// A fingerprint of every file read, so an unchanged config can be recognised.
    public var fingerprint: String
    public var files: [String]
    public var templates: NoticeTemplates

    public init(
        directory: String, settings: DaemonSettings, zone: Zone, agreements: [Agreement], warnings: [Diagnostic],
        fingerprint: String, files: [String], templates: NoticeTemplates
    ) {
        self.templates = templates
        self.directory = directory
        self.settings = settings
        self.zone = zone
        self.agreements = agreements
        self.warnings = warnings
        self.fingerprint = fingerprint
        self.files = files
    }
}
