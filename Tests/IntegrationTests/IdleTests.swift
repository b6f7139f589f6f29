import Foundation
import SamverkanTestSupport
import Testing

/// Issue 6: an idle daemon makes no wake-ups (but the watchdog's, which is off here). Measured
/// without ptrace: each thread's voluntary context switches (`/proc/PID/task/TID/status`) count
/// how often it blocked again after waking; over a quiet window they must not move.
@Suite("idle daemon")
struct IdleTests {
    /// Voluntary context switches per thread that lives through the window (libdispatch's
    /// workers for the store's serial queues leave after 5 s idle; they are not periodic).
    static func switches(_ pid: Int32) -> [String: (name: String, count: Int)] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var result: [String: (String, Int)] = [:]
        for tid in tasks {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8)
            else { continue }
            var name = ""
            var count = 0
            for line in status.split(separator: "\n") {
                if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("voluntary_ctxt_switches:") {
                    count = Int(line.split(separator: "\t").last ?? "") ?? 0
                }
            }
            result[tid] = (name, count)
        }
        return result
    }

    @Test("no thread of an idle daemon wakes up during a quiet window of 8 seconds")
    func noPeriodicWakeups() async throws {
        // The bundled agreements: several files, loaded and planned on every core (on threads of
        // their own: libdispatch's workers would start its monitor, which wakes every second).
        let bundled = TestEnvironment.repositoryRoot.appendingPathComponent("Config/agreements.d")
        var agreements: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: bundled.path) where name.hasSuffix(".yaml") {
            agreements[name] = try String(contentsOf: bundled.appendingPathComponent(name), encoding: .utf8)
        }
        #expect(agreements.count >= 3)
        let running = try await RunningDaemon.start("idle", agreements: agreements)
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        // READY=1 has come, and the last thing start-up does is log that it is ready (after
        // reading the store's counts): from then on the daemon has nothing to do.
        let settled = try await eventually(timeout: .seconds(10)) { daemon.stderr.contains(" ready: config ") }
        #expect(settled, "\(daemon.stderr)")
        let before = Self.switches(daemon.pid)
        // The observation window itself, not a wait for an event.
        try await Task.sleep(for: .seconds(8))
        let after = Self.switches(daemon.pid)
        // A timer cancelled before the window (a connection's time-out) may still wake an event
        // loop once at its old deadline: one wake is not a period. libdispatch's monitor wakes
        // its thread 8 times in 8 s, a 1 s poll would too.
        var woke: [String] = []
        for (tid, end) in after {
            guard let start = before[tid], end.count > start.count + 1 else { continue }
            woke.append("\(end.name) (\(tid)): \(end.count - start.count)")
        }
        #expect(woke.isEmpty, "threads that woke more than once while idle: \(woke.sorted())")
        #expect(after.values.contains { $0.name.hasPrefix("NIO-") }, "the event loops were seen")
        await daemon.stop()
    }
}
