import Foundation
import Logging
import SamverkanSinks
import SamverkanStore

/// A notice rendered, and staged by the sinks that can (`StagingSink`), shortly before it falls
/// due (`Scheduler.prepareLead`), so that at its time only the claim and the sinks' last step
/// remain.
///
/// It is used only when rendering the claimed notice at its delivery would give exactly the
/// same: the same notice and deadline (`expected`, the claim as `claimDue` returns it, without
/// its time stamps), and the same answer to the two questions a render asks the clock (is the
/// deadline past, is the notice late). Anything else (a reload, a moved or edited deadline, a
/// delivery over a minute late) discards it, and the notice is rendered afresh.
struct PreparedNotice: Sendable {
    /// The render is as of this long after the notice's time, when it is delivered at the
    /// earliest: a notice at its deadline's due time shows the deadline as past, as it will be
    /// a moment later.
    static let renderedAfter: TimeInterval = 0.001

    /// The dispatcher that made it (`Dispatcher.identity`): the config it was rendered with, the
    /// sinks that staged it.
    let madeBy: UUID
    let expected: ClaimedNotice
    let renderedAsOf: Date
    let outgoing: OutgoingNotice
    let situation: NoticeRenderer.Situation
    let metadata: Logger.Metadata
    let staged: [String: StagedDelivery]

    /// The notice as `claimDue` will return it: `sending`, one attempt more.
    static func expectedClaim(of waiting: ClaimedNotice) -> ClaimedNotice {
        var claim = waiting
        claim.notice.state = .sending
        claim.notice.attempts += 1
        return claim
    }

    /// The claim without the stamps of when rows were written, which no render shows.
    static func withoutStamps(_ claim: ClaimedNotice) -> ClaimedNotice {
        var claim = claim
        claim.notice.updated = .distantPast
        claim.deadline.updated = .distantPast
        return claim
    }

    /// Whether rendering `claim` at `now` gives what was prepared.
    func fits(_ claim: ClaimedNotice, now: Date) -> Bool {
        // `withoutStamps(claim) == expected`, without copying the claim: a burst checks a
        // thousand at its due instant.
        let (notice, deadline) = (claim.notice, claim.deadline)
        var expectedNotice = expected.notice
        expectedNotice.updated = notice.updated
        var expectedDeadline = expected.deadline
        expectedDeadline.updated = deadline.updated
        guard notice == expectedNotice, deadline == expectedDeadline else { return false }
        let due = claim.deadline.due
        return (due < now) == (due < renderedAsOf)
            && Dispatcher.isLate(claim.notice, now: now) == Dispatcher.isLate(claim.notice, now: renderedAsOf)
    }

    /// Throws the sinks' staged work away.
    func discard() {
        for delivery in staged.values { delivery.discard() }
    }
}
