import Foundation
import Logging
import SamverkanConfig
import SamverkanCore
import SamverkanStore
import Synchronization
import Systemd
import Testing

@testable import SamverkanDaemon

/// A clock the test sets by hand.
final class HandClock: WallClock {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    func now() -> Date { current.withLock { $0 } }
    func set(_ instant: Date) { current.withLock { $0 = instant } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The bundled `Config/` in a scratch state directory, with an injected clock, driven step by
/// step: at each sleep the clock jumps to the instant the scheduler asked to wake at, so years of
/// schedule run in moments and every notice is seen at exactly its time.
struct Harness {
    let clock: HandClock
    let state: String
    let store: SQLiteStore
    let runtime: Runtime
    let outbox: String

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    init(start: Date, config: String? = nil, store existing: SQLiteStore? = nil, state: String? = nil) async throws {
        let state =
            state
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("samverkan-scheduler-\(UUID().uuidString)").path
        let configDirectory = config ?? Self.repo + "/Config"
        clock = HandClock(start)
        self.state = state
        store = try existing ?? SQLiteStore.open(directory: state)
        outbox = state + "/outbox"
        let loaded = try ConfigLoader().load(directory: configDirectory, today: { $0.today(start) })
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        runtime = try Runtime(
            options: DaemonOptions(
                configDirectory: configDirectory, stateDirectory: state, socketPath: state + "/control.sock",
                underSystemd: false),
            config: loaded, store: store, clock: clock, notifier: InMemoryNotifier(), logger: logger)
        try await runtime.start()
    }

    /// Runs the scheduler until it would sleep past `end` (or has nothing to wait for); returns
    /// how many steps it took.
    @discardableResult
    func run(until end: Date) async -> Int {
        var steps = 0
        while steps < 1_000_000 {
            steps += 1
            switch await runtime.scheduler.step() {
            case .again: continue
            case .storeFailed:
                Issue.record("the store failed")
                return steps
            case .sleep(let until):
                guard let until, until <= end else {
                    clock.set(end)
                    return steps
                }
                clock.set(max(until, clock.now()))
            }
        }
        Issue.record("the scheduler did not settle")
        return steps
    }

    /// The files in the outbox, without hidden ones (notices written ahead of their time).
    var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The hidden files in the outbox: notices written ahead under a temporary name.
    var hiddenFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).filter { $0.hasPrefix(".") }.sorted()
    }

    func notices(_ states: Set<NoticeState>? = nil) async throws -> [StoredNotice] {
        try await store.deadlines(DeadlineQuery(states: Set(DeadlineState.allCases))).flatMap(\.notices)
            .filter { states?.contains($0.state) ?? true }
    }

    /// Closes the store and removes the state directory, on a thread of its own, without
    /// waiting (``SQLiteStore/closeOffExecutor()``: a read still in flight, such as the status
    /// line a reload sends, gives its connection back only on the cooperative pool). Called from
    /// `defer` in async tests, a `close` here blocked a pool thread; two tests ending at once
    /// blocked both, and the suite hung.
    func remove() {
        Thread.detachNewThread { [store, state] in
            try? store.close()
            try? FileManager.default.removeItem(atPath: state)
        }
    }
}

func utc(_ text: String) -> Date { Zone.parseRFC3339(text)! }

@Suite("scheduler on the store, with an injected clock")
struct SchedulerTests {
    @Test("two years of the bundled config: every notice once, at its time, none late, the horizon rolls on")
    func yearsOfSchedule() async throws {
        let start = utc("2026-11-27T00:00:00Z")
        let end = utc("2028-12-31T23:00:00Z")
        let harness = try await Harness(start: start)
        defer { harness.remove() }
        let began = ContinuousClock.now
        let steps = await harness.run(until: end)
        let elapsed = ContinuousClock.now - began

        let sent = try await harness.notices([.sent])
        let waiting = try await harness.notices([.pending, .failed, .sending])
        #expect(sent.count > 150, "sent \(sent.count)")
        #expect(sent.allSatisfy { !$0.late }, "a notice went out late: \(sent.filter(\.late).map(\.id))")
        #expect(sent.allSatisfy { $0.attempts == 1 })
        #expect(
            waiting.allSatisfy { $0.nextAttempt > end },
            "left behind: \(waiting.filter { $0.nextAttempt <= end }.map(\.id))")
        // One file per notice, named by its id; no downtime report in a run with no gap.
        let files = harness.files
        #expect(files.count == sent.count)
        #expect(Set(files) == Set(sent.map { $0.id.replacingOccurrences(of: "/", with: ".") + ".json" }))
        #expect(!files.contains { $0.hasPrefix("samverkand.downtime") })
        // Notices more than 400 days after the start exist only because the horizon moved on.
        #expect(sent.contains { $0.at > start.addingTimeInterval(410 * 86_400) })
        print("two years of schedule: \(sent.count) notices in \(steps) steps, \(elapsed)")
    }

    @Test("seven days down: the latest missed notice of each deadline is sent late, the others superseded, one report")
    func catchUpAfterAWeek() async throws {
        let start = utc("2027-01-01T00:00:00Z")
        let stop = utc("2027-01-23T00:00:00Z")
        let first = try await Harness(start: start)
        defer { first.remove() }
        await first.run(until: stop)
        let sentBefore = try await first.notices([.sent]).count

        // The same store, a new daemon, a week later.
        let restart = stop.addingTimeInterval(7 * 86_400)
        let second = try await Harness(start: restart, store: first.store, state: first.state)
        await second.run(until: restart)
        let all = try await second.notices()
        let missed = all.filter { $0.at >= stop && $0.at < restart }
        let superseded = missed.filter { $0.state == .superseded }
        let late = missed.filter { $0.state == .sent && $0.late }
        #expect(!superseded.isEmpty, "the lägesbild round's reminders of 2027-01-28 are superseded")
        #expect(!late.isEmpty)
        #expect(superseded.count + late.count == missed.count, "every missed notice is accounted for")
        // Per deadline, only notices at the latest missed time went out.
        for (deadline, notices) in Dictionary(grouping: missed, by: \.deadlineID) {
            let latest = notices.map(\.at).max()
            #expect(notices.filter { $0.state == .sent }.allSatisfy { $0.at == latest }, "\(deadline)")
        }
        let reports = second.files.filter { $0.hasPrefix("samverkand.downtime") }
        #expect(reports.count == 1)
        let report = try String(contentsOfFile: second.outbox + "/" + reports[0], encoding: .utf8)
        for notice in missed { #expect(report.contains(notice.id)) }
        #expect(try await second.notices([.sent]).count == sentBefore + late.count)
    }

    @Test(
        "the clock set forward by hours: what fell due in the jump is caught up and reported; set back: nothing twice")
    func clockJumps() async throws {
        let start = utc("2027-01-01T00:00:00Z")
        let harness = try await Harness(start: start)
        defer { harness.remove() }
        await harness.run(until: utc("2027-01-20T00:00:00Z"))
        guard let next = try await harness.store.nextDue() else {
            Issue.record("nothing planned")
            return
        }
        // Forward: the clock lands three hours past the next notice.
        harness.clock.set(next.addingTimeInterval(3 * 3600))
        await harness.runtime.scheduler.noteClockChange()
        await harness.run(until: harness.clock.now())
        let caught = try await harness.notices().filter { $0.at == next }
        #expect(!caught.isEmpty)
        #expect(caught.allSatisfy { $0.state == .sent && $0.late })
        #expect(harness.files.filter { $0.hasPrefix("samverkand.downtime") }.count == 1)

        // Back: six hours earlier. Nothing already sent goes out again.
        let sentBefore = try await harness.notices([.sent])
        let filesBefore = harness.files
        harness.clock.advance(-6 * 3600)
        await harness.runtime.scheduler.noteClockChange()
        let step = await harness.runtime.scheduler.step()
        guard case .sleep(let wake?) = step else {
            Issue.record("expected a sleep, got \(step)")
            return
        }
        #expect(wake > next, "the next wake is after what was sent")
        await harness.run(until: next.addingTimeInterval(3 * 3600))
        #expect(try await harness.notices([.sent]).map(\.id).sorted() == sentBefore.map(\.id).sorted())
        #expect(harness.files == filesBefore)
        #expect(try await harness.notices([.sent]).allSatisfy { $0.attempts == 1 })
    }

    @Test("a reload that moves a meeting answers with the move and fires nothing")
    func reloadDiff() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent(
            "samverkan-config-\(UUID().uuidString)"
        ).path
        try FileManager.default.copyItem(atPath: Harness.repo + "/Config", toPath: config)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let start = utc("2027-01-01T00:00:00Z")
        let harness = try await Harness(start: start, config: config)
        defer { harness.remove() }
        await harness.run(until: utc("2027-01-05T00:00:00Z"))
        let sentBefore = try await harness.notices([.sent]).count

        let file = config + "/agreements.d/exempel.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let moved = text.replacingOccurrences(
            of: "start: 2025-02-11, time: \"13:00\"", with: "start: 2025-02-11, time: \"15:00\"")
        #expect(moved != text)
        try moved.write(toFile: file, atomically: true, encoding: .utf8)
        guard case .success(let view) = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("reload refused")
            return
        }
        #expect(view.changed)
        #expect(view.summary.contains("moved"), "\(view.summary)")
        #expect(
            view.summary.contains("exempel/styrgrupp/2027-02-09 from 2027-02-09 13:00 to 2027-02-09 15:00"),
            "\(view.summary)")
        #expect(await harness.runtime.scheduler.step() != .again, "nothing is due because of the reload")
        #expect(try await harness.notices([.sent]).count == sentBefore)

        // A broken file is refused and the running plan stays.
        try "id: [".write(toFile: file, atomically: true, encoding: .utf8)
        guard case .failure(let failure) = await harness.runtime.reload(requestedBy: "test") else {
            Issue.record("a broken config was accepted")
            return
        }
        #expect(failure.details.contains { $0.contains("exempel.yaml:2:1: error:") }, "\(failure.details)")
        #expect(try await harness.store.deadline(id: "exempel/styrgrupp/2027-02-09")?.deadline.state == .planned)
    }
}
