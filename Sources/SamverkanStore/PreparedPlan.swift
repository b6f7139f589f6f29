public import SamverkanCore

/// A plan with what the store writes for each deadline worked out: its fingerprint, and its
/// nominal date and explanation as stored.
///
/// A reload plans each changed agreement on the thread that read its file and prepares it there
/// too (``init(preparing:)``), so that the store's single writer, which everything else waits
/// for, only compares and inserts (``ReconcileFeed``). A plan handed to `reconcile` whole is
/// prepared deadline by deadline as the store comes to it.
public struct PreparedPlan: Sendable {
    public let deadlines: [Deadline]
    /// One per deadline, or none: prepared when asked for.
    private let prepared: [PreparedDeadline]

    /// Prepares every deadline now.
    public init(preparing deadlines: [Deadline]) {
        self.deadlines = deadlines
        self.prepared = deadlines.map(PreparedDeadline.init)
    }

    /// Prepares each deadline when ``subscript(_:)`` asks for it.
    init(lazily deadlines: [Deadline]) {
        self.deadlines = deadlines
        self.prepared = []
    }

    /// What the store writes for `deadlines[index]`.
    subscript(_ index: Int) -> PreparedDeadline {
        prepared.isEmpty ? PreparedDeadline(deadlines[index]) : prepared[index]
    }
}

/// The columns of a deadline's row that take work to make.
struct PreparedDeadline: Sendable {
    var fingerprint: Int64
    /// `nominal` as stored: `YYYY-MM-DD`.
    var nominal: String
    /// `explanation` as stored: a JSON array of strings.
    var explanation: String

    init(_ deadline: Deadline) {
        nominal = deadline.nominal.description
        explanation = JSONText.array(deadline.explanation)
        fingerprint = Fingerprint.of(deadline, nominal: nominal)
    }
}
