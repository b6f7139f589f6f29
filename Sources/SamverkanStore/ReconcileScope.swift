/// Which of the store's deadlines a reconcile compares with its plan.
public enum ReconcileScope: Sendable, Hashable {
    /// Every deadline in the store: the plan is the whole plan of the window.
    case all
    /// Only the deadlines of these agreements (ids `AGREEMENT/…`): the plan is exactly theirs.
    ///
    /// This gives the store a full reconcile would give, provided every other agreement's
    /// deadlines would plan as they did at the last reconcile, for the same window: then each of
    /// them is already stored as planned (or done, or a case's), and a full reconcile would leave
    /// it untouched. A reload whose zone and closed days are unchanged, with the window of the
    /// last reconcile, scopes to the agreements added, removed or edited. The report's
    /// `unchanged` counts the deadlines in scope only.
    case agreements(Set<String>)
}
