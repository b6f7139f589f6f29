// Samverkan — planner benchmarks (issue 5, "Benchmarks").
//
// Run from Benchmarks/:  swift package benchmark
//
// 1. "Plan N agreements × 6 obligations, 12 months" for N = 1,000, 5,000 and 10,000: the planner
//    alone, on Agreement values built in memory with the mix of scripts/bench/gen_workload.py,
//    without explanations as `plan --json` plans; and at 10,000 with explanations. The
//    ns/agreement metric should stay flat across the three sizes (linear growth).
// 2. "Stream N agreements … as JSON": what `plan --json` does with the same agreements: a
//    DeadlineStream built from them and its JSON written to a sink that only counts the bytes.
//    The plan is never held, so mallocs stay in the thousands; the resident peak here is mostly
//    the Agreement values the setup builds (`plan --json` never holds those either).
// 3. "Load + validate 10,000 agreements": ConfigLoader over a directory that gen_workload.py
//    writes ($SAMVERKAN_BENCH_CONFIG may name one already generated), keeping the agreements,
//    and handing them over into a DeadlineStream as `plan --json` does.
//
// The whole command as users run it, against remind(1), is scripts/bench/planner-vs-remind.sh.

import Benchmark
import Foundation
import SamverkanConfig
import SamverkanCore

let benchmarks: @Sendable () -> Void = {
    // `.throughput` counts iterations per second, which rounds to 0 when an iteration takes
    // more than a second: agreements per second says more.
    let metrics: [BenchmarkMetric] = [
        .wallClock, .cpuTotal, Workload.agreementsPerSecond, Workload.nsPerAgreement, .peakMemoryResident,
        .mallocCountTotal,
    ]

    // As `plan --json` plans (no explanation strings), at three sizes to show linear growth;
    // and once with explanations, as the daemon and `plan --explain` plan.
    let plans = [(1_000, false), (5_000, false), (10_000, false), (10_000, true)]
    for (size, explains) in plans {
        Benchmark(
            "Plan \(size) agreements × 6 obligations, 12 months\(explains ? ", with explanations" : "")",
            configuration: .init(
                metrics: metrics + [Workload.deadlines],
                warmupIterations: 1,
                maxDuration: .seconds(20),
                maxIterations: 10,
                // Building the agreements is not measured; the planner's input is ready.
                setup: { Workload.prepare(agreements: size) },
                teardown: { Workload.release() }
            )
        ) { benchmark in
            let agreements = Workload.agreements
            let planner = Planner(zone: Workload.zone, explains: explains)
            for _ in benchmark.scaledIterations {
                let start = ContinuousClock.now
                let deadlines = try planner.plan(agreements, from: Workload.from, through: Workload.through)
                let elapsed = ContinuousClock.now - start
                Workload.record(elapsed, agreements: agreements.count, in: benchmark)
                benchmark.measurement(Workload.deadlines, deadlines.count)
                blackHole(deadlines)
            }
        }
    }

    // As `plan --json` plans and writes, never holding the plan.
    for size in [1_000, 5_000, 10_000] {
        Benchmark(
            "Stream \(size) agreements × 6 obligations, 12 months, as JSON (DeadlineStream)",
            configuration: .init(
                metrics: metrics + [Workload.deadlineBytes],
                warmupIterations: 1,
                maxDuration: .seconds(20),
                maxIterations: 10,
                setup: { Workload.prepare(agreements: size) },
                teardown: { Workload.release() }
            )
        ) { benchmark in
            let agreements = Workload.agreements
            let planner = Planner(zone: Workload.zone, explains: false)
            for _ in benchmark.scaledIterations {
                let start = ContinuousClock.now
                var builder = DeadlineStream.Builder(from: Workload.from, through: Workload.through)
                for agreement in agreements { builder.add(agreement) }
                let stream = try builder.build(planner: planner)
                var bytes = 0
                stream.writeJSON(state: "planned", noticeState: "planned") { bytes += $0.count }
                let elapsed = ContinuousClock.now - start
                Workload.record(elapsed, agreements: agreements.count, in: benchmark)
                benchmark.measurement(Workload.deadlineBytes, bytes)
            }
        }
    }

    Benchmark(
        "Load + validate 10000 agreements into a DeadlineStream (ConfigLoader, as plan --json)",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 1,
            maxDuration: .seconds(30),
            maxIterations: 10,
            setup: { try Workload.prepare(directoryOf: 10_000) },
            teardown: { Workload.release() }
        )
    ) { benchmark in
        let loader = ConfigLoader()
        for _ in benchmark.scaledIterations {
            let start = ContinuousClock.now
            var builder = DeadlineStream.Builder(from: Workload.from, through: Workload.through)
            var count = 0
            let config = try loader.load(directory: Workload.directory, today: { _ in Workload.from }) { agreement in
                builder.add(agreement)
                count += 1
            }
            let stream = try builder.build(
                planner: Planner(
                    zone: config.zone, calendar: SwedishCalendar(closedDays: config.settings.closedDays),
                    explains: false))
            let elapsed = ContinuousClock.now - start
            guard count == 10_000 else {
                benchmark.error("handed over \(count) agreements, expected 10000")
                return
            }
            Workload.record(elapsed, agreements: count, in: benchmark)
            blackHole(stream)
        }
    }

    Benchmark(
        "Load + validate 10000 agreements (ConfigLoader)",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 1,
            maxDuration: .seconds(30),
            maxIterations: 10,
            setup: { try Workload.prepare(directoryOf: 10_000) },
            teardown: { Workload.release() }
        )
    ) { benchmark in
        let loader = ConfigLoader()
        for _ in benchmark.scaledIterations {
            let start = ContinuousClock.now
            let config = try loader.load(directory: Workload.directory, today: Workload.from)
            let elapsed = ContinuousClock.now - start
            guard config.agreements.count == 10_000 else {
                benchmark.error("loaded \(config.agreements.count) agreements, expected 10000")
                return
            }
            Workload.record(elapsed, agreements: config.agreements.count, in: benchmark)
            blackHole(config)
        }
    }
}

/// The input of the benchmarks, prepared by the setup hooks outside the measured part.
///
/// Benchmarks run one after another, so plain globals are enough.
enum Workload {
    static let zone: Zone = {
        guard let zone = Zone(identifier: "Europe/Stockholm") else { fatalError("no tz data for Europe/Stockholm") }
        return zone
    }()
    static let from = date(2027, 1, 1)
    static let through = date(2027, 12, 31)

    static let nsPerAgreement = BenchmarkMetric.custom(
        "ns/agreement", polarity: .prefersSmaller, useScalingFactor: false)
    static let agreementsPerSecond = BenchmarkMetric.custom(
        "throughput (agreements/s)", polarity: .prefersLarger, useScalingFactor: false)
    static let deadlines = BenchmarkMetric.custom("deadlines", polarity: .prefersLarger, useScalingFactor: false)
    static let deadlineBytes = BenchmarkMetric.custom(
        "JSON bytes", polarity: .prefersLarger, useScalingFactor: false)

    nonisolated(unsafe) static var agreements: [Agreement] = []
    nonisolated(unsafe) static var directory = ""
    nonisolated(unsafe) private static var temporary: URL?

    static func record(_ elapsed: Duration, agreements: Int, in benchmark: Benchmark) {
        let nanoseconds =
            Int(elapsed.components.seconds) * 1_000_000_000 + Int(elapsed.components.attoseconds / 1_000_000_000)
        benchmark.measurement(nsPerAgreement, nanoseconds / max(agreements, 1))
        benchmark.measurement(agreementsPerSecond, agreements * 1_000_000_000 / max(nanoseconds, 1))
    }

    static func prepare(agreements count: Int) {
        agreements = makeAgreements(count: count)
    }

    /// Uses `$SAMVERKAN_BENCH_CONFIG` when set, else runs gen_workload.py into a temporary directory.
    static func prepare(directoryOf count: Int) throws {
        if let given = ProcessInfo.processInfo.environment["SAMVERKAN_BENCH_CONFIG"], !given.isEmpty {
            directory = given
            return
        }
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench/gen_workload.py")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("samverkan-bench-\(UUID().uuidString)")
        let process = Process()
        // Debian's python3-dateutil is installed for /usr/bin/python3 (platform.md).
        process.executableURL = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["PYTHON"] ?? "/usr/bin/python3")
        process.arguments = [script.path, String(count), out.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GenerationFailed(status: process.terminationStatus, script: script.path)
        }
        temporary = out
        directory = out.appendingPathComponent("config").path
    }

    static func release() {
        agreements = []
        if let temporary { try? FileManager.default.removeItem(at: temporary) }
        temporary = nil
    }

    struct GenerationFailed: Error, CustomStringConvertible {
        var status: Int32
        var script: String
        var description: String { "\(script) exited with \(status) (is python3-dateutil installed?)" }
    }

    /// `count` agreements valid 2020-01-01 to 2035-12-31, each with one obligation of each of
    /// the six shapes of gen_workload.py and one reminder of 1–14 days (1–6 for the weekly one,
    /// shorter than k for every-k-days): the same mix, from a seeded generator of its own.
    static func makeAgreements(count: Int, seed: UInt64 = 5) -> [Agreement] {
        var rng = SplitMix64(seed: seed)
        let calendar = SwedishCalendar()
        let validFrom = FuzzyDate(precision: .day, date: date(2020, 1, 1), text: "2020-01-01")
        let validUntil = FuzzyDate(precision: .day, date: date(2035, 12, 31), text: "2035-12-31")
        guard let thirteen = LocalTime(hour: 13, minute: 0) else { fatalError("13:00 is a time") }
        let weekdays = ["MO", "TU", "WE", "TH", "FR"]
        func rule(_ text: String) -> RecurrenceRule {
            do { return try RecurrenceRule(parsing: text) } catch { fatalError("\(text): \(error)") }
        }
        func day(between first: LocalDate, _ last: LocalDate) -> LocalDate {
            LocalDate(dayNumber: Int.random(in: first.dayNumber...last.dayNumber, using: &rng))
        }
        func obligation(_ id: String, _ kind: ObligationKind, _ schedule: Schedule, lead: Int) -> Obligation {
            Obligation(
                id: id, kind: kind, title: id, schedule: schedule, remind: [.days(lead)], notify: ["samordnare"])
        }
        let earliest = date(2026, 7, 1)
        let midway = date(2027, 6, 30)
        let latest = date(2028, 6, 30)

        return (1...count).map { index in
            let id = "avtal-\(index)"
            var obligations: [Obligation] = []
            let month = Int.random(in: 1...12, using: &rng)
            let yearlyDay = Int.random(in: 1...28, using: &rng)
            obligations.append(
                obligation(
                    "arlig", .report,
                    Schedule(
                        rule: .recurring(rule("FREQ=YEARLY;BYMONTH=\(month);BYMONTHDAY=\(yearlyDay)"), start: nil)),
                    lead: Int.random(in: 1...14, using: &rng)))
            let monthDay = Int.random(in: 1...28, using: &rng)
            obligations.append(
                obligation(
                    "manatlig", .lagesbild,
                    Schedule(rule: .recurring(rule("FREQ=MONTHLY;BYMONTHDAY=\(monthDay)"), start: nil)),
                    lead: Int.random(in: 1...14, using: &rng)))
            let weekday = weekdays[Int.random(in: 0..<weekdays.count, using: &rng)]
            obligations.append(
                obligation(
                    "veckomote", .meeting,
                    Schedule(rule: .recurring(rule("FREQ=WEEKLY;BYDAY=\(weekday)"), start: nil), time: thirteen),
                    lead: Int.random(in: 1...6, using: &rng)))
            let k = Int.random(in: 7...30, using: &rng)
            let start = day(between: earliest, midway)
            let until = day(between: midway.adding(days: 1), latest)
            let untilText = String(until.description.filter { $0 != "-" })
            obligations.append(
                obligation(
                    "uppfoljning", .review,
                    Schedule(rule: .recurring(rule("FREQ=DAILY;INTERVAL=\(k);UNTIL=\(untilText)"), start: start)),
                    lead: Int.random(in: 1...min(14, k - 1), using: &rng)))
            var once = day(between: earliest, latest)
            while (try? calendar.isWorkingDay(once)) != true { once = day(between: earliest, latest) }
            obligations.append(
                obligation(
                    "engangs", .promise,
                    Schedule(rule: .date(FuzzyDate(precision: .day, date: once, text: once.description))),
                    lead: Int.random(in: 1...14, using: &rng)))
            obligations.append(
                obligation(
                    "sista-vardag", .report,
                    Schedule(
                        rule: .recurring(rule("FREQ=MONTHLY;BYMONTHDAY=-1"), start: nil), workingDay: .previous),
                    lead: Int.random(in: 1...14, using: &rng)))
            return Agreement(
                id: id, title: "Samverkansöverenskommelse \(index) (genererad)",
                valid: Validity(from: validFrom, until: validUntil),
                roles: ["samordnare": Role(id: "samordnare", email: "samordnare@\(id).example")],
                obligations: obligations)
        }
    }
}

/// A date spelled out in this file; one that does not exist is a programming error.
func date(_ year: Int, _ month: Int, _ day: Int) -> LocalDate {
    guard let date = LocalDate(year: year, month: month, day: day) else { fatalError("\(year)-\(month)-\(day)") }
    return date
}

/// A small seeded generator (SplitMix64), so every run plans the same agreements.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
