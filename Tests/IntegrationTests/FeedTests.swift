import Foundation
import SamverkanClient
import SamverkanCore
import SamverkanTestSupport
import Testing

/// `GET /v1/calendar.ics` and `GET /metrics`, read back by independent parsers (Python's
/// icalendar and prometheus_client).
@Suite("calendar and metrics feeds")
struct FeedTests {
    func python(_ script: String, input: Data) async throws -> (status: Int32, output: String) {
        let result = try await ProcessRunner.run("/usr/bin/python3", ["-c", script], input: input)
        return (result.status, result.output)
    }

    func start(_ name: String) async throws -> DaemonProcess {
        let agreement = TestConfig.agreement(dueDate: TestConfig.inAFewMonths, time: "09:00", remind: "[30d, 7d]")
            .replacingOccurrences(
                of: "title: Provöverenskommelse",
                with: "title: \"Avesta & Falun; prov, med en mycket lång titel som måste vikas i kalenderfilen åäö\"")
        return try await RunningDaemon.start(name, agreements: ["prov.yaml": agreement]).daemon
    }

    @Test("the calendar parses with icalendar; UIDs are deadline ids; alarms are the reminders; lines are folded")
    func calendar() async throws {
        let daemon = try await start("ics")
        defer { Task { await daemon.stop() } }
        let response = try ControlClient(socketPath: daemon.socketPath).request("GET", "/v1/calendar.ics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/calendar") == true)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.hasSuffix("END:VCALENDAR\r\n"))
        for line in text.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 75, "unfolded: \(line)") }
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF only")
        let script = """
            import sys, icalendar
            cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
            for tz in cal.walk('VTIMEZONE'): print('TZ', tz['TZID'])
            for ev in cal.walk('VEVENT'):
                print('EV', ev['UID'], ev['DTSTART'].dt.isoformat(), ev['SUMMARY'])
                for al in ev.walk('VALARM'): print('AL', al['TRIGGER'].dt.isoformat())
            """
        let parsed = try await python(script, input: response.body)
        #expect(parsed.status == 0, "\(parsed.output)")
        let due = TestConfig.inAFewMonths
        #expect(parsed.output.contains("TZ Europe/Stockholm"))
        #expect(parsed.output.contains("EV prov/uppgift/\(due)@samverkan \(due)T09:00:00+0"), "\(parsed.output)")
        #expect(parsed.output.contains("Provuppgift"))
        #expect(
            parsed.output.components(separatedBy: "\nAL ").count - 1 == 2, "two reminders as alarms: \(parsed.output)")
        // samverkanctl calendar prints the same.
        let printed = try await ProcessRunner.run(TestEnvironment.ctl, ["calendar", "--socket", daemon.socketPath])
        #expect(printed.status == 0)
        #expect(printed.output.contains("UID:prov/uppgift/\(due)@samverkan"))
        await daemon.stop()
    }

    @Test("/metrics is valid Prometheus text with HELP and TYPE for every family")
    func metrics() async throws {
        let daemon = try await start("metrics")
        defer { Task { await daemon.stop() } }
        _ = try ControlClient(socketPath: daemon.socketPath).request("POST", "/v1/reload")
        let response = try ControlClient(socketPath: daemon.socketPath).request("GET", "/metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            text = sys.stdin.read()
            for line in text.splitlines():
                if line.startswith('# TYPE'):
                    name, kind = line.split()[2], line.split()[3]
                    assert ('# HELP ' + name + ' ') in text, name
                    if kind == 'counter': assert name.endswith('_total'), name
            for fam in text_string_to_metric_families(text):
                for s in fam.samples: print(s.name, sorted(s.labels.items()), s.value)
            """
        let parsed = try await python(script, input: response.body)
        #expect(parsed.status == 0, "\(parsed.output)")
        #expect(parsed.output.contains("samverkan_config_generation [] 2.0"))
        #expect(parsed.output.contains("samverkan_deadlines [('state', 'upcoming')] 1.0"))
        #expect(parsed.output.contains("samverkan_config_reloads_total [('outcome', 'applied')] 1.0"))
        #expect(parsed.output.contains("samverkan_notices [('state', 'pending')] 3.0"))
        #expect(parsed.output.contains("samverkan_next_notice_seconds"))
        await daemon.stop()
    }
}
