import Foundation
import GRDB
import SamverkanCore
import Testing

@testable import SamverkanStore

/// A reconcile scoped to the agreements that changed leaves the store exactly as a full
/// reconcile of the whole plan does, and says the same: three stores go through the same random
/// edits, completions, deliveries and passing time, one reconciled in full, one scoped, one fed
/// agreement by agreement (as a reload does, ``ReconcileFeed``), and are compared row by row
/// after every step.
@Suite("scoped reconcile")
struct ReconcileScopeTests {
    /// Agreement ids chosen so that one is a prefix of others ("avesta", "avesta-falun",
    /// "avesta0"): a scope of "avesta" must not reach the others' deadlines.
    static let agreementIDs = ["avesta", "avesta-falun", "avesta0", "borlange", "mora", "orsa"]
    static let base = utc("2026-06-01T00:00:00Z")

    /// One obligation of the model: a one-off deadline `dayOffset` days after `base`, at `hour`
    /// UTC, with reminders some days before.
    struct Obligation: Hashable {
        var id: String
        var dayOffset: Int
        var hour: Int
        var reminders: [Int]
        var title: String
    }

    /// The model config: agreement id → its obligations.
    typealias Model = [String: [Obligation]]

    static func deadlines(of agreement: String, _ obligations: [Obligation]) -> [Deadline] {
        obligations.map { obligation in
            let nominal = base.addingTimeInterval(TimeInterval(obligation.dayOffset * 86_400))
            let date = LocalDate(dayNumber: Int(nominal.timeIntervalSince1970 / 86_400))
            let id = "\(agreement)/\(obligation.id)/\(date)"
            let due = nominal.addingTimeInterval(TimeInterval(obligation.hour * 3600))
            var notices = obligation.reminders.map { days in
                PlannedNotice(
                    id: "\(id)/-\(days)d", slot: "-\(days)d", at: due.addingTimeInterval(TimeInterval(-days * 86_400)),
                    recipients: ["samordnare"], explanation: "\(days) days before")
            }
            notices.append(PlannedNotice(id: "\(id)/due", slot: "due", at: due, recipients: ["samordnare"]))
            notices.sort { ($0.at, $0.id) < ($1.at, $1.id) }
            return Deadline(
                id: id, agreement: agreement, obligation: obligation.id, kind: "report", title: obligation.title,
                nominal: date, due: due, notices: notices, explanation: ["nominal date: \(date)"])
        }
    }

    /// The planner's order: by due instant, then id.
    static func plan(_ model: Model, only: Set<String>? = nil) -> [Deadline] {
        model.filter { only?.contains($0.key) ?? true }.flatMap { deadlines(of: $0.key, $0.value) }
            .sorted { ($0.due, $0.id) < ($1.due, $1.id) }
    }

    static func randomObligation(_ id: String, _ random: inout SplitMix) -> Obligation {
        // Some fall before or after the window (2026-01-01 ..< 2028-01-01): looked up by id.
        Obligation(
            id: id, dayOffset: Int.random(in: -200...620, using: &random), hour: Int.random(in: 6...18, using: &random),
            reminders: Array([30, 7, 1].shuffled(using: &random).prefix(Int.random(in: 0...2, using: &random))),
            title: "Uppgift \(Int.random(in: 1...3, using: &random))")
    }

    /// Edits one agreement of the model: adds it, removes it, or changes one of its obligations.
    static func edit(_ agreement: String, in model: inout Model, _ random: inout SplitMix) {
        guard var obligations = model[agreement] else {
            model[agreement] = (0..<Int.random(in: 1...4, using: &random)).map {
                randomObligation("o\($0)", &random)
            }
            return
        }
        let index = Int.random(in: 0..<max(obligations.count, 1), using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0:
            model[agreement] = nil
            return
        case 1 where !obligations.isEmpty:
            obligations[index].hour = Int.random(in: 6...18, using: &random)
        case 2 where !obligations.isEmpty:
            // Another nominal date: another deadline id.
            obligations[index].dayOffset += Int.random(in: -20...20, using: &random)
        case 3 where !obligations.isEmpty:
            obligations.remove(at: index)
        case 4 where !obligations.isEmpty:
            obligations[index].title += "!"
        case 5 where !obligations.isEmpty:
            obligations[index].reminders = Array(
                [30, 14, 7, 1].shuffled(using: &random).prefix(Int.random(in: 0...3, using: &random)))
        default:
            obligations.append(randomObligation("o\(Int.random(in: 0...9, using: &random))", &random))
        }
        // Obligation ids stay unique, as the config loader requires.
        var seen = Set<String>()
        model[agreement] = obligations.filter { seen.insert($0.id).inserted }
    }

    /// Every row of the plan's tables, as text, in id order.
    static func dump(_ store: SQLiteStore) async throws -> [String] {
        try await store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deadline ORDER BY id").map(\.description)
                + Row.fetchAll(db, sql: "SELECT * FROM notice ORDER BY id").map(\.description)
                + Row.fetchAll(db, sql: "SELECT * FROM completion ORDER BY deadline_id, role").map(\.description)
        }
    }

    /// The report without `unchanged`, which a scoped reconcile counts in its scope only.
    static func changes(_ report: ReconcileReport) -> ReconcileReport {
        var report = report
        report.unchanged = 0
        return report
    }

    /// ``changes(_:)`` with the lists a fed reconcile gives in the order agreements were sent
    /// (not the plan's) sorted.
    static func sortedChanges(_ report: ReconcileReport) -> ReconcileReport {
        var report = changes(report)
        report.added.sort()
        report.restored.sort()
        report.changed.sort()
        report.skipped.sort()
        return report
    }

    /// A reconcile of `agreements` fed one agreement at a time, in a shuffled order.
    static func feed(
        _ store: SQLiteStore, _ model: Model, agreements: Set<String>, now: Date, fingerprint: String,
        _ random: inout SplitMix
    ) async throws -> ReconcileReport {
        let feed = ReconcileFeed()
        let running = store.startReconcile(feed: feed, window: wideWindow, now: now, progress: nil, recording: nil)
        for agreement in agreements.sorted().shuffled(using: &random) {
            feed.send(agreement: agreement, plan: PreparedPlan(preparing: plan(model, only: [agreement])))
        }
        feed.finish(fingerprint: fingerprint)
        return try await running.report()
    }

    @Test(
        "random edits: a scoped reconcile leaves the store a full one leaves",
        arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func scopedEqualsFull(seed: UInt64) async throws {
        let fullScratch = Scratch()
        let scopedScratch = Scratch()
        let fedScratch = Scratch()
        let full = try SQLiteStore.open(directory: fullScratch.path)
        let scoped = try SQLiteStore.open(directory: scopedScratch.path)
        let fed = try SQLiteStore.open(directory: fedScratch.path)
        var random = SplitMix(seed: seed)
        // The fed store's order of agreements: its own generator, so the edits are those of the
        // full and scoped stores alone.
        var order = SplitMix(seed: seed &+ 1_000)
        var model = Model()
        var now = Self.base
        var steps = (scoped: 0, changes: 0)

        for step in 0..<60 {
            var edited = Set<String>()
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let agreement = Self.agreementIDs.randomElement(using: &random) ?? "mora"
                Self.edit(agreement, in: &model, &random)
                edited.insert(agreement)
            }
            if step == 0 { edited = Set(Self.agreementIDs) }
            let fullReport = try await full.reconcile(
                plan: Self.plan(model), window: wideWindow, now: now, fingerprint: "step-\(step)", scope: .all,
                progress: nil)
            let scopedReport = try await scoped.reconcile(
                plan: Self.plan(model, only: edited), window: wideWindow, now: now, fingerprint: "step-\(step)",
                scope: .agreements(edited), progress: nil)
            let fedReport = try await Self.feed(
                fed, model, agreements: edited, now: now, fingerprint: "step-\(step)", &order)
            #expect(Self.changes(scopedReport) == Self.changes(fullReport), "seed \(seed), step \(step)")
            #expect(scopedReport.summary == fullReport.summary)
            #expect(Self.sortedChanges(fedReport) == Self.sortedChanges(fullReport), "seed \(seed), step \(step)")
            // Moves (the summary names the first five) in the plan's order.
            #expect(fedReport.moved == fullReport.moved)
            #expect(fedReport.summary == fullReport.summary)
            let (fullRows, scopedRows) = (try await Self.dump(full), try await Self.dump(scoped))
            let fedRows = try await Self.dump(fed)
            let differing = Set(fullRows).symmetricDifference(scopedRows).sorted().prefix(6)
            #expect(scopedRows == fullRows, "seed \(seed), step \(step): rows of one store only: \(differing)")
            let fedDiffering = Set(fullRows).symmetricDifference(fedRows).sorted().prefix(6)
            #expect(fedRows == fullRows, "seed \(seed), step \(step): rows of one store only: \(fedDiffering)")
            #expect(try await fed.lastReconcile()?.fingerprint == "step-\(step)")
            guard scopedRows == fullRows, fedRows == fullRows else { return }
            steps.scoped += 1
            if !fullReport.isEmpty { steps.changes += 1 }

            // The same life on both stores between reloads: time passes, notices are sent, and
            // deadlines are done.
            now = now.addingTimeInterval(TimeInterval(Int.random(in: 0...(8 * 86_400), using: &random)))
            let fullClaims = try await full.claimDue(now: now, limit: 3)
            let scopedClaims = try await scoped.claimDue(now: now, limit: 3)
            let fedClaims = try await fed.claimDue(now: now, limit: 3)
            #expect(scopedClaims.map(\.notice.id) == fullClaims.map(\.notice.id))
            #expect(fedClaims.map(\.notice.id) == fullClaims.map(\.notice.id))
            for claim in fullClaims {
                try await full.markSent(claim.notice.id, at: now, late: false)
                try await scoped.markSent(claim.notice.id, at: now, late: false)
                try await fed.markSent(claim.notice.id, at: now, late: false)
            }
            if Int.random(in: 0..<3, using: &random) == 0,
                let deadline = Self.plan(model).filter({ $0.due > now }).randomElement(using: &random)
            {
                let by = Requester(uid: 1000, pid: 1)
                let fullDone = try? await full.complete(deadlineID: deadline.id, role: nil, by: by, note: nil, at: now)
                let scopedDone = try? await scoped.complete(
                    deadlineID: deadline.id, role: nil, by: by, note: nil, at: now)
                let fedDone = try? await fed.complete(deadlineID: deadline.id, role: nil, by: by, note: nil, at: now)
                #expect(scopedDone?.cancelledNotices == fullDone?.cancelledNotices)
                #expect(fedDone?.cancelledNotices == fullDone?.cancelledNotices)
            }
        }
        #expect(steps.scoped == 60)
        #expect(steps.changes >= 30, "the edits changed the plan in most steps")
    }

    @Test("a scope of one agreement leaves the others' deadlines alone, prefixes included")
    func scopeIsExact() async throws {
        let scratch = Scratch()
        let store = try SQLiteStore.open(directory: scratch.path)
        let obligation = Obligation(id: "o1", dayOffset: 30, hour: 9, reminders: [7], title: "Uppgift")
        let model: Model = ["avesta": [obligation], "avesta-falun": [obligation], "avesta0": [obligation]]
        _ = try await store.reconcile(plan: Self.plan(model), window: wideWindow, now: Self.base)
        // "avesta" removed, scoped to it: only its deadline is cancelled.
        let report = try await store.reconcile(
            plan: [], window: wideWindow, now: Self.base, fingerprint: nil, scope: .agreements(["avesta"]),
            progress: nil)
        #expect(report.cancelled == ["avesta/o1/2026-07-01"])
        #expect(report.noticesCancelled == 2)
        let states = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT id || ' ' || state FROM deadline ORDER BY id")
        }
        #expect(
            states == [
                "avesta-falun/o1/2026-07-01 planned", "avesta/o1/2026-07-01 cancelled", "avesta0/o1/2026-07-01 planned",
            ])
    }
}

extension ReconcileScopeTests {
    @Test("an abandoned feed leaves the store as it was; a write after it goes through")
    func abandonedFeed() async throws {
        let scratch = Scratch()
        let store = try SQLiteStore.open(directory: scratch.path)
        let obligation = Obligation(id: "o1", dayOffset: 30, hour: 9, reminders: [7], title: "Uppgift")
        let model: Model = ["avesta": [obligation], "mora": [obligation]]
        _ = try await store.reconcile(
            plan: Self.plan(model), window: wideWindow, now: Self.base, fingerprint: "before")
        let before = try await Self.dump(store)

        let feed = ReconcileFeed()
        let running = store.startReconcile(
            feed: feed, window: wideWindow, now: Self.base, progress: nil,
            recording: ReconcileRecording(requestedBy: "test", at: Self.base))
        var moved = obligation
        moved.hour = 12
        feed.send(agreement: "avesta", plan: PreparedPlan(preparing: Self.plan(["avesta": [moved]])))
        feed.send(agreement: "mora", plan: PreparedPlan(preparing: []))
        feed.abandon()
        // Ignored: the feed has ended.
        feed.finish(fingerprint: "after")
        feed.send(agreement: "orsa", plan: PreparedPlan(preparing: Self.plan(["orsa": [obligation]])))
        await #expect(throws: StoreError.self) { try await running.report() }

        #expect(try await Self.dump(store) == before)
        #expect(try await store.lastReconcile()?.fingerprint == "before")
        #expect(try await store.latestGeneration() == nil)
        let report = try await store.reconcile(
            plan: Self.plan(["avesta": [moved], "mora": [obligation]]), window: wideWindow, now: Self.base)
        #expect(report.moved.map(\.id) == ["avesta/o1/2026-07-01"])
    }
}

/// A seeded generator (SplitMix64), so a failing seed can be run again.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
