import Foundation
import SamverkanClient
import SamverkanCore
import SamverkanTestSupport
import Testing

/// The real daemon binary under a stand-in for systemd's notify socket: readiness, reload,
/// stop and watchdog as `design.md` and platform.md 2 define them.
@Suite("samverkand lifecycle (sd_notify)")
struct DaemonLifecycleTests {
    func start(
        _ name: String, agreements: [String: String] = [:], environment: [String: String] = [:]
    ) async throws -> (DaemonProcess, NotifyListener, TestConfig, URL) {
        let running = try await RunningDaemon.start(
            name,
            agreements: agreements.isEmpty
                ? [
                    "prov.yaml": TestConfig.agreement(
                        dueDate: TestConfig.inAFewMonths, time: "09:00", remind: "[30d, 1d]")
                ]
                : agreements,
            environment: environment, waitForReady: false)
        return (running.daemon, running.listener, running.config, running.root)
    }

    @Test("READY=1 arrives only once the control socket answers, with a STATUS")
    func readyAfterSocket() async throws {
        let (daemon, listener, _, _) = try await start("ready")
        defer { Task { await daemon.stop() } }
        let ready = await listener.waitFor("READY=1")
        let message = try #require(ready.match, "no READY=1; stderr:\n\(daemon.stderr)")
        #expect(message.contains("STATUS=Generation 1"))
        // The socket must answer at once: it was bound before READY=1 was sent.
        let response = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 5).request("GET", "/v1/status")
        #expect(response.status == 200)
        let status = try JSONDecoder().decode(StatusView.self, from: response.body)
        #expect(status.config.generation == 1)
        #expect(status.deadlines.planned == 1)
        #expect(status.nextDue?.id == "prov/uppgift/\(TestConfig.inAFewMonths)")
        await daemon.stop()
    }

    @Test("SIGHUP sends RELOADING=1 with MONOTONIC_USEC, then READY=1, and bumps the generation")
    func reloadSequence() async throws {
        let (daemon, listener, _, _) = try await start("reload")
        #expect(await listener.waitFor("READY=1").match != nil)
        daemon.signal(SIGHUP)
        let reloading = try #require(await listener.waitFor("RELOADING=1").match, "stderr:\n\(daemon.stderr)")
        let monotonic = reloading.split(separator: "\n").first { $0.hasPrefix("MONOTONIC_USEC=") }
        #expect(monotonic.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) } != nil)
        let ready = try #require(await listener.waitFor("READY=1").match)
        #expect(ready.contains("Generation 2"))
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
    }

    @Test("SIGTERM sends STOPPING=1 and exits 0; SIGINT too")
    func stopSequence() async throws {
        for signal in [SIGTERM, SIGINT] {
            let (daemon, listener, _, _) = try await start("stop")
            #expect(await listener.waitFor("READY=1").match != nil)
            daemon.signal(signal)
            #expect(await listener.waitFor("STOPPING=1").match != nil)
            #expect(await daemon.waitForExit() == 0, "signal \(signal); stderr:\n\(daemon.stderr)")
            #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "a bound socket is removed on exit")
        }
    }

    @Test("a notify socket nobody reads never stalls the daemon: the socket still answers")
    func unreadNotifySocket() async throws {
        // Pings every 100 ms; the listener is not read, so its queue (10 datagrams) is full
        // within a second and sd_notify blocks: on the notifier's own thread, not on an event loop.
        let (daemon, listener, _, _) = try await start("unread", environment: ["WATCHDOG_USEC": "200000"])
        defer { Task { await daemon.stop() } }
        #expect(await listener.waitFor("READY=1").match != nil)
        // Requests one after another for 2 s (by then 20 pings are queued unread), and one more:
        // every one is answered. Before the notifier had its own thread, they hung.
        let clock = ContinuousClock()
        let until = clock.now + .seconds(2)
        var answers: [Int32] = []
        repeat {
            let status = try await ProcessRunner.run(
                TestEnvironment.ctl, ["status", "--json", "--socket", daemon.socketPath], timeout: .seconds(10))
            answers.append(status.status)
        } while clock.now < until
        let last = try await ProcessRunner.run(
            TestEnvironment.ctl, ["status", "--json", "--socket", daemon.socketPath], timeout: .seconds(10))
        answers.append(last.status)
        let answered = answers.filter { $0 == 0 }.count
        #expect(answered == answers.count, "\(answers) with the notify socket unread")
        await daemon.stop()
    }

    @Test("with WATCHDOG_USEC, WATCHDOG=1 arrives every half interval; a wedged scheduler stops it")
    func watchdog() async throws {
        let (daemon, listener, _, _) = try await start(
            "watchdog", environment: ["WATCHDOG_USEC": "1000000", "SAMVERKAN_FAULT_INJECTION": "1"])
        defer { Task { await daemon.stop() } }
        #expect(await listener.waitFor("READY=1").match != nil)
        let clock = ContinuousClock()
        let before = clock.now
        #expect(await listener.waitFor("WATCHDOG=1", timeout: .seconds(2)).match != nil)
        #expect(await listener.waitFor("WATCHDOG=1", timeout: .seconds(2)).match != nil)
        // About 1 s at a 1 s interval; the bound leaves room for a machine running the whole
        // suite on two cores, and still tells pings that repeat from a single one.
        #expect(clock.now - before < .seconds(6), "two pings within ~1 s at a 1 s interval")
        let wedge = try ControlClient(socketPath: daemon.socketPath).request("POST", "/v1/_test/wedge-scheduler")
        #expect(wedge.status == 200)
        // Pings sent before the wedge took effect may still be queued (more of them when the
        // machine is busy); drain until the socket has been quiet for over an interval, then
        // expect silence for two full intervals. If pings went on, the drain would end after 20.
        for _ in 0..<40 {
            guard await listener.next(timeout: .milliseconds(1500)) != nil else { break }
        }
        let late = await listener.waitFor("WATCHDOG=1", timeout: .seconds(2))
        #expect(late.match == nil, "a wedged scheduler must stop the watchdog pings")
        // Status still answers: the control socket does not wait on the scheduler loop.
        #expect(try ControlClient(socketPath: daemon.socketPath).request("GET", "/v1/status").status == 200)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
    }

    @Test("the test-only fault switch is off without SAMVERKAN_FAULT_INJECTION")
    func faultSwitchOff() async throws {
        let (daemon, listener, _, _) = try await start("nofault")
        defer { Task { await daemon.stop() } }
        #expect(await listener.waitFor("READY=1").match != nil)
        let wedge = try ControlClient(socketPath: daemon.socketPath).request("POST", "/v1/_test/wedge-scheduler")
        #expect(wedge.status == 404)
        await daemon.stop()
    }
}
