import Foundation
import GRDB
import SamverkanCore
import Testing

@testable import SamverkanStore

@Suite("reconcile")
struct ReconcileTests {
    let scratch = Scratch()
    let store: SQLiteStore

    init() throws { store = try SQLiteStore.open(directory: scratch.path) }

    static let review = deadline(
        nominal: "2026-12-01", due: "2026-12-01T09:00:00Z", reminders: [("-30d", "2026-11-01T09:00:00Z")])
    static let reviewMoved = deadline(
        nominal: "2026-12-01", due: "2026-11-30T09:00:00Z", reminders: [("-30d", "2026-10-31T09:00:00Z")])
    static let renewal = deadline(obligation: "avtalets-slut", nominal: "2027-03-01", due: "2027-03-01T09:00:00Z")
    static let meeting = deadline(obligation: "mote", nominal: "2027-05-03", due: "2027-05-03T12:00:00Z")
    static let promise = deadline(obligation: "lofte", nominal: "2027-02-01", due: "2027-02-01T09:00:00Z")

    @Test("add, no-op, then add, move and cancel, with the change in words")
    func addMoveCancel() async throws {
        let now = utc("2026-06-01T00:00:00Z")
        let first = try await store.reconcile(
            plan: [Self.review, Self.renewal, Self.meeting], window: wideWindow, now: now)
        #expect(first.added == [Self.review.id, Self.renewal.id, Self.meeting.id])
        #expect(first.noticesAdded == 4)
        #expect(first.summary == "3 added")

        let again = try await store.reconcile(
            plan: [Self.review, Self.renewal, Self.meeting], window: wideWindow, now: now)
        #expect(again.isEmpty)
        #expect(again.unchanged == 3)
        #expect(again.summary == "no change")

        let later = utc("2026-07-01T00:00:00Z")
        let change = try await store.reconcile(
            plan: [Self.reviewMoved, Self.renewal, Self.promise], window: wideWindow, now: later)
        #expect(change.added == [Self.promise.id])
        #expect(
            change.moved == [
                .init(id: Self.review.id, from: utc("2026-12-01T09:00:00Z"), to: utc("2026-11-30T09:00:00Z"))
            ])
        #expect(change.cancelled == [Self.meeting.id])
        #expect(change.noticesRescheduled == 2)
        #expect(change.noticesCancelled == 1)
        #expect(
            change.summary
                == "1 added, 1 moved (avesta-falun/arlig-uppfoljning/2026-12-01 from 2026-12-01 to 2026-11-30), 1 cancelled"
        )
        let stockholm = try #require(Zone(identifier: "Europe/Stockholm"))
        #expect(change.summary(zone: stockholm) == change.summary, "10:00 local both times: dates only")

        let moved = try #require(try await store.deadline(id: Self.review.id))
        #expect(moved.deadline.due == utc("2026-11-30T09:00:00Z"))
        #expect(moved.deadline.firstSeen == now, "history kept: first seen at the first reconcile")
        #expect(moved.notices.map(\.at) == [utc("2026-10-31T09:00:00Z"), utc("2026-11-30T09:00:00Z")])
        #expect(moved.notices.map(\.nextAttempt) == moved.notices.map(\.at))
        #expect(moved.notices.allSatisfy { $0.state == .pending })

        let cancelled = try #require(try await store.deadline(id: Self.meeting.id))
        #expect(cancelled.deadline.state == .cancelled)
        #expect(cancelled.notices.map(\.state) == [.cancelled])
        #expect(cancelled.notices.map(\.reason) == [.removed])
        #expect(try await store.nextDue() == utc("2026-10-31T09:00:00Z"))
    }

    @Test("fingerprints only speed reconcile up: with other fingerprints it still finds no change")
    func staleFingerprints() async throws {
        let now = utc("2026-06-01T00:00:00Z")
        _ = try await store.reconcile(plan: [Self.review, Self.renewal], window: wideWindow, now: now)
        try await store.pool.write { db in try db.execute(sql: "UPDATE deadline SET fingerprint = 0") }
        let report = try await store.reconcile(plan: [Self.review, Self.renewal], window: wideWindow, now: now)
        #expect(report.isEmpty)
        #expect(report.unchanged == 2)
        #expect(report.summary == "no change")
        let refreshed = try await store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deadline WHERE fingerprint = 0")
        }
        #expect(refreshed == 0)
    }

    @Test("recipients stored with other JSON spacing compare equal; other recipients are a change")
    func recipientsCompareByValue() async throws {
        let now = utc("2026-06-01T00:00:00Z")
        _ = try await store.reconcile(plan: [Self.review], window: wideWindow, now: now)
        try await store.pool.write { db in
            try db.execute(sql: "UPDATE deadline SET fingerprint = 0")
            try db.execute(sql: "UPDATE notice SET recipients = '[ \"samordnare\" ]'")
        }
        let same = try await store.reconcile(plan: [Self.review], window: wideWindow, now: now)
        #expect(same.isEmpty, "\(same)")
        #expect(same.summary == "no change")

        var others = Self.review
        others.notices = others.notices.map { notice in
            var notice = notice
            notice.recipients = ["samordnare", "lpo-chef"]
            return notice
        }
        let changed = try await store.reconcile(plan: [others], window: wideWindow, now: now)
        #expect(changed.changed == [Self.review.id])
        let stored = try #require(try await store.deadline(id: Self.review.id))
        #expect(stored.notices.allSatisfy { $0.recipients == ["samordnare", "lpo-chef"] })
    }

    @Test("a deadline dropped from the plan cancels only its notices not yet delivered, and counts them")
    func removalCancelsWaitingNotices() async throws {
        let now = utc("2026-06-01T00:00:00Z")
        let slots = ["-9d", "-8d", "-7d", "-6d", "-5d", "-4d", "-3d", "-2d"]
        let many = deadline(
            nominal: "2026-12-01", due: "2026-12-01T09:00:00Z",
            reminders: slots.enumerated().map { ($1, "2026-11-2\($0)T09:00:00Z") })
        _ = try await store.reconcile(plan: [many, Self.meeting], window: wideWindow, now: now)
        let states: [NoticeState] = [.pending, .failed, .sending, .sent, .dead, .skipped, .superseded, .cancelled]
        try await store.pool.write { db in
            for (slot, state) in zip(slots, states) {
                try db.execute(
                    sql: "UPDATE notice SET state = ? WHERE id = ?", arguments: [state.rawValue, "\(many.id)/\(slot)"])
            }
        }
        let report = try await store.reconcile(plan: [Self.meeting], window: wideWindow, now: now)
        #expect(report.cancelled == [many.id])
        #expect(report.noticesCancelled == 4, "pending, failed and sending reminders and the due notice")
        let after = try await store.noticeStates(many.id)
        for (slot, state) in zip(slots, states) {
            let expected: NoticeState = [.pending, .failed, .sending].contains(state) ? .cancelled : state
            #expect(after["\(many.id)/\(slot)"] == expected, "\(slot) was \(state)")
        }
        #expect(after["\(many.id)/due"] == .cancelled)
        let detail = try #require(try await store.deadline(id: many.id))
        #expect(detail.deadline.state == .cancelled)
        #expect(detail.notices.filter { $0.state == .cancelled && $0.reason == .removed }.count == 4)
        #expect(try await store.noticeStates(Self.meeting.id) == [Self.meeting.id + "/due": .pending])
    }

    @Test("a move that changes the wall-clock time is shown with times")
    func moveWithTime() async throws {
        let now = utc("2026-06-01T00:00:00Z")
        _ = try await store.reconcile(plan: [Self.renewal], window: wideWindow, now: now)
        let afternoon = deadline(obligation: "avtalets-slut", nominal: "2027-03-01", due: "2027-03-01T13:30:00Z")
        let change = try await store.reconcile(plan: [afternoon], window: wideWindow, now: now)
        let stockholm = try #require(Zone(identifier: "Europe/Stockholm"))
        #expect(
            change.summary(zone: stockholm)
                == "1 moved (avesta-falun/avtalets-slut/2027-03-01 from 2027-03-01 10:00 to 2027-03-01 14:30)")
    }

    @Test("only deadlines inside the planned window are cancelled")
    func cancelsOnlyInsideTheWindow() async throws {
        let now = utc("2026-06-01T00:00:00Z")
        _ = try await store.reconcile(plan: [Self.review, Self.meeting], window: wideWindow, now: now)
        let year2026 = PlanWindow(start: utc("2026-01-01T00:00:00Z"), end: utc("2027-01-01T00:00:00Z"))
        let change = try await store.reconcile(plan: [Self.review], window: year2026, now: now)
        #expect(change.isEmpty)
        #expect(try await store.deadline(id: Self.meeting.id)?.deadline.state == .planned)
    }

    @Test("the plan window of local dates covers whole days in the zone")
    func windowOfLocalDates() throws {
        let stockholm = try #require(Zone(identifier: "Europe/Stockholm"))
        let window = PlanWindow(
            from: try #require(LocalDate(iso: "2026-03-29")), through: try #require(LocalDate(iso: "2026-10-25")),
            zone: stockholm)
        #expect(window.start == utc("2026-03-28T23:00:00Z"))
        #expect(window.end == utc("2026-10-25T23:00:00Z"))
        #expect(window.contains(utc("2026-10-25T22:59:59Z")))
        #expect(!window.contains(window.end))
    }

    @Test("first start: notices whose time has passed are skipped, never sent, never missed")
    func firstStartSkips() async throws {
        let now = utc("2026-11-15T00:00:00Z")
        let overdue = deadline(obligation: "rapport", nominal: "2026-10-01", due: "2026-10-01T09:00:00Z")
        let report = try await store.reconcile(plan: [overdue, Self.review], window: wideWindow, now: now)
        #expect(report.skipped.sorted() == [Self.review.id + "/-30d", overdue.id + "/due"])
        #expect(
            try await store.noticeStates(Self.review.id) == [
                Self.review.id + "/-30d": .skipped, Self.review.id + "/due": .pending,
            ])
        let skipped = try #require(try await store.deadline(id: overdue.id)?.notices.first)
        #expect(skipped.reason == .beforeFirstSeen)

        let catchUp = try await store.catchUp(now: now)
        #expect(catchUp.isEmpty)
        #expect(try await store.claimDue(now: now, limit: 10).isEmpty)
        #expect(try await store.nextDue() == utc("2026-12-01T09:00:00Z"))
        // Still listed: an overdue deadline that is not done.
        let upcoming = try await store.deadlines(DeadlineQuery(dueFrom: now, includeOverdue: true))
        #expect(upcoming.map(\.deadline.id) == [overdue.id, Self.review.id])
    }

    @Test("a rule change never fires a notice: a pending notice moved into the past is skipped")
    func ruleChangeNeverFires() async throws {
        _ = try await store.reconcile(plan: [Self.review], window: wideWindow, now: utc("2026-06-01T00:00:00Z"))
        let now = utc("2026-10-20T00:00:00Z")
        let earlier = deadline(
            nominal: "2026-12-01", due: "2026-11-16T09:00:00Z", reminders: [("-30d", "2026-10-17T09:00:00Z")])
        let report = try await store.reconcile(plan: [earlier], window: wideWindow, now: now)
        #expect(report.skipped == [Self.review.id + "/-30d"])
        #expect(report.summary == "1 moved (avesta-falun/arlig-uppfoljning/2026-12-01 from 2026-12-01 to 2026-11-16)")
        #expect(try await store.claimDue(now: now, limit: 10).isEmpty)
        #expect(try await store.catchUp(now: now).isEmpty)
        let reminder = try #require(try await store.deadline(id: Self.review.id)?.notices.first)
        #expect(reminder.state == .skipped)
        #expect(reminder.reason == .movedIntoPast)

        // Moved back into the future, it is pending again.
        let back = try await store.reconcile(plan: [Self.review], window: wideWindow, now: now)
        #expect(back.noticesRescheduled == 2)
        #expect(try await store.noticeStates(Self.review.id).values.allSatisfy { $0 == .pending })
    }

    @Test("a cancelled deadline that comes back is restored, a dropped notice that comes back is pending")
    func restores() async throws {
        let now = utc("2026-06-01T00:00:00Z")
        _ = try await store.reconcile(plan: [Self.review, Self.meeting], window: wideWindow, now: now)
        _ = try await store.reconcile(plan: [Self.review], window: wideWindow, now: now)
        let back = try await store.reconcile(plan: [Self.review, Self.meeting], window: wideWindow, now: now)
        #expect(back.restored == [Self.meeting.id])
        #expect(back.summary == "1 restored")
        #expect(try await store.deadline(id: Self.meeting.id)?.deadline.state == .planned)
        #expect(try await store.noticeStates(Self.meeting.id) == [Self.meeting.id + "/due": .pending])

        let noReminder = deadline(nominal: "2026-12-01", due: "2026-12-01T09:00:00Z")
        let dropped = try await store.reconcile(plan: [noReminder, Self.meeting], window: wideWindow, now: now)
        #expect(dropped.noticesCancelled == 1)
        #expect(dropped.summary == "1 changed")
        #expect(try await store.noticeStates(Self.review.id)[Self.review.id + "/-30d"] == .cancelled)
        _ = try await store.reconcile(plan: [Self.review, Self.meeting], window: wideWindow, now: now)
        #expect(try await store.noticeStates(Self.review.id)[Self.review.id + "/-30d"] == .pending)
    }

    @Test("a done deadline stays done when its rule changes; its new notices are born cancelled")
    func doneStaysDone() async throws {
        let now = utc("2026-06-01T00:00:00Z")
        _ = try await store.reconcile(plan: [Self.renewal], window: wideWindow, now: now)
        _ = try await store.complete(deadlineID: Self.renewal.id, at: now)
        let withReminder = deadline(
            obligation: "avtalets-slut", nominal: "2027-03-01", due: "2027-02-26T09:00:00Z",
            reminders: [("-7d", "2027-02-19T09:00:00Z")])
        let report = try await store.reconcile(plan: [withReminder], window: wideWindow, now: now)
        #expect(report.moved.isEmpty)
        let detail = try #require(try await store.deadline(id: Self.renewal.id))
        #expect(detail.deadline.state == .done)
        #expect(detail.deadline.due == utc("2027-02-26T09:00:00Z"))
        #expect(detail.notices.map(\.state) == [.cancelled, .cancelled])
        #expect(try await store.nextDue() == nil)
    }

    @Test("reconcile leaves a case's deadline alone and stamps the config fingerprint")
    func casesAndStamp() async throws {
        let now = utc("2026-06-01T10:00:00Z")
        #expect(try await store.lastReconcile() == nil)
        let opened = try await store.openCase(
            CaseOpening(
                reference: nil, agreement: "avesta-falun", window: "smadit", openedAt: now, referenceYear: 2026),
            now: now
        ) { reference in
            deadline(obligation: "smadit", nominal: "2026-06-01", due: "2026-06-02T10:00:00Z", kind: "smadit")
                .withID("avesta-falun/smadit/\(reference)")
        }
        let report = try await store.reconcile(plan: [Self.review], window: wideWindow, now: now, fingerprint: "cfg-1")
        #expect(report.cancelled.isEmpty)
        #expect(try await store.deadline(id: opened.record.deadlineID)?.deadline.state == .planned)
        let stamp = try #require(try await store.lastReconcile())
        #expect(stamp == ReconcileStamp(fingerprint: "cfg-1", window: wideWindow, at: now))
    }
}

extension Deadline {
    /// The same deadline under another id, notices renamed to match.
    func withID(_ newID: String) -> Deadline {
        var copy = self
        copy.id = newID
        copy.notices = notices.map { notice in
            var renamed = notice
            renamed.id = newID + "/" + notice.slot
            return renamed
        }
        return copy
    }
}
