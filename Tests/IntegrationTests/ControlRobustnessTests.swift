import Foundation
import SamverkanClient
import SamverkanCore
import SamverkanTestSupport
import Testing

/// Malformed, oversized, slow and numerous requests on the control socket: the daemon answers
/// what it can with a JSON error, closes what it must, keeps serving everyone else, and leaks no
/// file descriptors.
@Suite("control socket robustness")
struct ControlRobustnessTests {
    func start(_ name: String) async throws -> DaemonProcess {
        try await RunningDaemon.start(name).daemon
    }

    /// Sixteen status requests at once, so the store's reader connections (opened on demand, up
    /// to a fixed number) are all open before descriptors are counted.
    func warmUp(_ daemon: DaemonProcess) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    guard let socket = try? RawSocket(path: daemon.socketPath, receiveTimeout: 5) else { return }
                    socket.send("GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    _ = await socket.readAll()
                }
            }
        }
    }

    func statusAnswers(_ daemon: DaemonProcess) -> Bool {
        (try? ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 5).request("GET", "/v1/status").status)
            == 200
    }

    @Test("garbage, truncation, huge bodies, too many headers, unknown routes: the right 4xx and a JSON error")
    func malformedRequests() async throws {
        let daemon = try await start("robust")
        defer { Task { await daemon.stop() } }
        await warmUp(daemon)
        let baseline = openDescriptors(daemon.pid)

        let garbage = try RawSocket(path: daemon.socketPath)
        garbage.send([0x00, 0xFF, 0x13, 0x37] + Array("\r\n\r\n".utf8))
        let garbageAnswer = await garbage.readAll()
        #expect(garbageAnswer.hasPrefix("HTTP/1.1 400"), "\(garbageAnswer)")
        #expect(garbageAnswer.contains(#""code":"bad_request""#))

        let manyHeaders = try RawSocket(path: daemon.socketPath)
        var request = "GET /v1/status HTTP/1.1\r\nHost: x\r\n"
        for i in 0..<1000 { request += "X-Header-\(i): \(i)\r\n" }
        manyHeaders.send(request + "\r\n")
        let headersAnswer = await manyHeaders.readAll()
        #expect(headersAnswer.hasPrefix("HTTP/1.1 431"), "\(headersAnswer.prefix(200))")

        let huge = try RawSocket(path: daemon.socketPath)
        huge.send("POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: \(10 * 1024 * 1024)\r\n\r\n")
        huge.send([UInt8](repeating: 0x41, count: 1024 * 1024))  // the daemon may close before all of it
        let hugeAnswer = await huge.readAll()
        #expect(hugeAnswer.hasPrefix("HTTP/1.1 413"), "\(hugeAnswer.prefix(200))")
        #expect(hugeAnswer.contains(#""code":"body_too_large""#))

        let chunkedHuge = try RawSocket(path: daemon.socketPath)
        chunkedHuge.send("POST /v1/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = [UInt8](repeating: 0x42, count: 65_536)
        for _ in 0..<3 { chunkedHuge.send(Array("10000\r\n".utf8) + chunk + Array("\r\n".utf8)) }
        chunkedHuge.send("0\r\n\r\n")
        let chunkedAnswer = await chunkedHuge.readAll()
        #expect(chunkedAnswer.hasPrefix("HTTP/1.1 413"), "\(chunkedAnswer.prefix(200))")

        let unknown = try ControlClient(socketPath: daemon.socketPath).request("GET", "/v1/nothing-here")
        #expect(unknown.status == 404)
        #expect(try JSONDecoder().decode(ErrorView.self, from: unknown.body).error.code == "not_found")
        let wrongMethod = try ControlClient(socketPath: daemon.socketPath).request("DELETE", "/v1/status")
        #expect(wrongMethod.status == 405)
        for (request, allow) in [
            ("DELETE /v1/status", "GET"), ("PUT /v1/cases", "GET, POST"), ("GET /v1/reload", "POST"),
            ("GET /v1/cases/2026-1/close", "POST"),
        ] {
            let raw = try RawSocket(path: daemon.socketPath)
            raw.send("\(request) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answer = await raw.readAll()
            #expect(answer.hasPrefix("HTTP/1.1 405"), "\(request): \(answer.prefix(120))")
            #expect(answer.contains("\r\nAllow: \(allow)\r\n"), "\(request): \(answer.prefix(300))")
        }
        let badQuery = try ControlClient(socketPath: daemon.socketPath).request("GET", "/v1/deadlines?within=forever")
        #expect(badQuery.status == 400)

        let truncated = try RawSocket(path: daemon.socketPath, receiveTimeout: 1)
        truncated.send("GET /v1/sta")
        // Half a request line and silence: nothing to answer yet; the daemon keeps serving others.
        #expect(statusAnswers(daemon))
        #expect(daemon.process.isRunning)

        // Every connection above is closed by now or soon; no descriptor is left behind.
        let settled = try await eventually(timeout: .seconds(15)) { openDescriptors(daemon.pid) <= baseline + 1 }
        #expect(settled, "descriptors: \(baseline) before, \(openDescriptors(daemon.pid)) after")
        await daemon.stop()
    }

    @Test("a client sending one byte a second gets 408 and is closed; others are served meanwhile")
    func slowClient() async throws {
        let daemon = try await start("slow")
        defer { Task { await daemon.stop() } }
        let slow = try RawSocket(path: daemon.socketPath, receiveTimeout: 30)
        let clock = ContinuousClock()
        let started = clock.now
        let request = Array("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let answer = Task { await slow.readAll() }
        var closedEarly = false
        for byte in request {
            if !slow.send([byte]) {
                closedEarly = true
                break
            }
            #expect(statusAnswers(daemon), "a normal request still gets its answer")
            try await Task.sleep(for: .seconds(1))  // the slow client's pace, not a wait for an event
            if clock.now - started > .seconds(14) { break }
        }
        let text = await answer.value
        #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
        #expect(clock.now - started < .seconds(14), "closed after the 10 s request time-out")
        _ = closedEarly
        await daemon.stop()
    }

    @Test("500 connections opened at once: the daemon survives, a normal request is answered, no fd leak")
    func manyConnections() async throws {
        let daemon = try await start("many")
        defer { Task { await daemon.stop() } }
        // The store opens its reader connections on demand, up to a fixed number: open them
        // all before counting, so the baseline is the daemon's steady state.
        await warmUp(daemon)
        let baseline = openDescriptors(daemon.pid)
        var sockets: [RawSocket] = []
        for _ in 0..<500 {
            if let socket = try? RawSocket(path: daemon.socketPath, receiveTimeout: 5) { sockets.append(socket) }
        }
        #expect(sockets.count >= 256, "the listen backlog and the server take at least 256 at once")
        do {
            _ = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 5).request("GET", "/v1/status")
        } catch {
            Issue.record("status while 500 connections are open: \(error); stderr:\n\(daemon.stderr)")
        }
        // Each of them asks for status; all get an answer (200, or 503 beyond the cap).
        let answers = await withTaskGroup(of: String.self) { group in
            for socket in sockets {
                group.addTask {
                    socket.send("GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    return await socket.readAll()
                }
            }
            var all: [String] = []
            for await answer in group { all.append(answer) }
            return all
        }
        #expect(answers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") || $0.hasPrefix("HTTP/1.1 503") })
        // Up to the cap of 256 at once are served; the 16 warm-up connections may still count
        // against it until the daemon has read their end.
        let served = answers.filter { $0.hasPrefix("HTTP/1.1 200") }.count
        #expect(served >= 256 - 16, "\(served) answered 200")
        sockets.removeAll()
        let settled = try await eventually(timeout: .seconds(15)) { openDescriptors(daemon.pid) <= baseline + 1 }
        #expect(settled, "descriptors: \(baseline) before, \(openDescriptors(daemon.pid)) after")
        #expect(statusAnswers(daemon))
        await daemon.stop()
    }
}
