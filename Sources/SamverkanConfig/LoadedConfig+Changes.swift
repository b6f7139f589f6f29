import SamverkanCore

extension LoadedConfig {
    /// The ids of the agreements whose deadlines may differ between `previous` and this config:
    /// those added, removed, or changed in any way. Nil when something every agreement is planned
    /// with changed (the zone or the closed days): then every deadline may differ.
    ///
    /// The planner plans each agreement on its own, from the agreement, the zone and the calendar
    /// alone (`Planner.plan`), so for the same window the deadlines of an agreement not in this
    /// set are the same under both configs. That is what lets a reload reconcile only these.
    public func agreementsChanged(since previous: LoadedConfig) -> Set<String>? {
        guard zone.identifier == previous.zone.identifier, settings.closedDays == previous.settings.closedDays
        else { return nil }
        var before: [String: Agreement] = [:]
        for agreement in previous.agreements { before[agreement.id] = agreement }
        var changed = Set<String>()
        for agreement in agreements {
            if let old = before.removeValue(forKey: agreement.id) {
                if old != agreement { changed.insert(agreement.id) }
            } else {
                changed.insert(agreement.id)
            }
        }
        changed.formUnion(before.keys)
        return changed
    }
}
