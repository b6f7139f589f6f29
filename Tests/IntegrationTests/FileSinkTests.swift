import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

func hhmmss(_ time: LocalTime) -> String {
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(two(time.hour)):\(two(time.minute)):\(two(time.second))"
}

/// A notice falling due a few seconds after start reaches the file sink on time.
@Suite("file sink delivery")
struct FileSinkTests {
    @Test("a reminder due 3 s after start is written, named by the notice id, within 1 s of its time")
    func fileAppearsOnTime() async throws {
        let root = try TestEnvironment.scratch("filesink")
        let zone = try #require(Zone(identifier: "Europe/Stockholm"))
        // The due instant: whole seconds, 3 s from now, written as local wall time.
        let due = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 4).rounded(.down))
        let local = zone.local(due)
        let config = try TestConfig(
            in: root, settings: TestConfig.fileSinkSettings,
            agreements: ["prov.yaml": TestConfig.agreement(dueDate: "\(local.date)", time: hhmmss(local.time))])
        let state = root.appendingPathComponent("state")
        let daemon = try DaemonProcess(config: config.directory, state: state)
        defer { Task { await daemon.stop() } }
        let noticeID = "prov/uppgift/\(local.date)/due"
        let file = state.appendingPathComponent("outbox/\(NoticeID.fileName(noticeID)).json")
        let appeared = try await eventually(timeout: .seconds(15)) { FileManager.default.fileExists(atPath: file.path) }
        #expect(appeared, "no \(file.path); stderr:\n\(daemon.stderr)")
        // The content is written ahead under a hidden name; the rename at its time, which gives
        // the file its name, sets its status-change time. File times come from the kernel's
        // coarse clock, up to a tick (≤ 10 ms) behind.
        var info = stat()
        #expect(stat(file.path, &info) == 0)
        let named = Date(
            timeIntervalSince1970: TimeInterval(info.st_ctim.tv_sec) + TimeInterval(info.st_ctim.tv_nsec) / 1e9)
        #expect(named >= due.addingTimeInterval(-0.02), "named before its time: \(named) < \(due)")
        #expect(named.timeIntervalSince(due) < 1.0, "named \(named.timeIntervalSince(due)) s after its time")
        let notice = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        #expect(notice?["id"] as? String == noticeID)
        #expect(notice?["slot"] as? String == "due")
        #expect((notice?["subject"] as? String)?.hasPrefix("[Samverkan] Sista dag i dag: Provuppgift") == true)
        #expect((notice?["body"] as? String)?.contains("samverkanctl done prov/uppgift/\(local.date)") == true)
        // No temporary file is left behind by the atomic write.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path)
        #expect(leftovers.allSatisfy { !$0.hasPrefix(".tmp") })
        await daemon.stop()
    }
}
