import Foundation
import SamverkanTestSupport
import Testing

/// An answer larger than the socket's buffer, to a request that says `Connection: close` (as
/// samverkanctl's do), arrives whole: the connection is shut only once every byte is written.
@Suite("large answers")
struct LargeAnswerTests {
    @Test("a calendar of about a megabyte arrives whole with Connection: close, every time")
    func largeCalendar() async throws {
        var agreements: [String: String] = [:]
        for n in 0..<40 {
            agreements["a\(n).yaml"] = """
                id: moten-\(n)
                title: Möten \(n)
                roles:
                  samordnare: {email: samordnare@prov.example}
                obligations:
                  - id: veckomote
                    kind: meeting
                    title: Veckomöte \(n)
                    schedule: {rrule: "FREQ=WEEKLY;BYDAY=TU", start: 2026-01-06, time: "10:00"}
                    remind: [2d, 1d]
                    notify: [samordnare]

                """
        }
        let running = try await RunningDaemon.start("large", agreements: agreements)
        let daemon = running.daemon
        defer { Task { await daemon.stop() } }
        for _ in 0..<5 {
            let result = try await ProcessRunner.run(
                "/usr/bin/curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{size_download} %{http_code}", "-H", "Connection: close",
                    "--unix-socket", daemon.socketPath, "http://localhost/v1/calendar.ics",
                ])
            let parts = result.stdout.split(separator: " ")
            let size = Int(parts.first ?? "") ?? 0
            #expect(parts.last == "200")
            #expect(size > 500_000, "the calendar is \(size) bytes")
            // curl exits 18 (partial file) when the body is shorter than Content-Length.
            #expect(result.status == 0, "curl exit \(result.status): \(result.output)")
        }
        for _ in 0..<3 {
            let calendar = try await ProcessRunner.run(
                TestEnvironment.ctl, ["calendar", "--socket", daemon.socketPath])
            #expect(calendar.status == 0, "\(calendar.stderr)")
            #expect(calendar.stdout.hasSuffix("END:VCALENDAR\r\n"))
        }
        await daemon.stop()
    }
}
