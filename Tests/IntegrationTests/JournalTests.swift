import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

/// Entries reach a real systemd-journald with MESSAGE_ID, PRIORITY and the SAMVERKAN_* fields,
/// when stderr is the journal stream (`JOURNAL_STREAM`, platform.md 7.3).
@Suite("journal entries under a private systemd-journald")
struct JournalTests {
    @Test(
        "the started, notice and stopping events carry their fields",
        .enabled(if: TestEnvironment.isRoot, "a private journald needs root (mount namespaces)"))
    func journalFields() async throws {
        let root = try TestEnvironment.scratch("journal")
        let zone = try #require(Zone(identifier: "Europe/Stockholm"))
        let due = zone.local(Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3).rounded(.down)))
        let config = try TestConfig(
            in: root, settings: TestConfig.fileSinkSettings,
            agreements: ["prov.yaml": TestConfig.agreement(dueDate: "\(due.date)", time: hhmmss(due.time))])
        let state = root.appendingPathComponent("state")
        let out = root.appendingPathComponent("journal")
        // The daemon runs under systemd-cat (stderr is a journal stream) with JOURNAL_STREAM set
        // as systemd would; it is stopped (SIGTERM) once its notice went out and was recorded sent.
        let noticeFile = state.appendingPathComponent(
            "outbox/\(NoticeID.fileName("prov/uppgift/\(due.date)/due")).json")
        let script = """
            systemd-cat -t samverkand sh -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/$$/fd/2) exec \(TestEnvironment.daemon) --config \(config.directory.path) --state \(state.path) --socket \(state.path)/control.sock' &
            pid=$!
            for i in $(seq 1500); do [ -e \(noticeFile.path) ] && break; sleep 0.01; done
            # The file is in place before the delivery is recorded and logged: wait for that too.
            for i in $(seq 1500); do
                curl -s --unix-socket \(state.path)/control.sock http://localhost/v1/deadlines/prov/uppgift/\(due.date) | grep -q '"state":"sent"' && break
                sleep 0.01
            done
            kill -TERM $pid; wait $pid
            """
        let run = try await ProcessRunner.run(
            TestEnvironment.repositoryRoot.path + "/Tests/IntegrationTests/Support/with-journald.sh",
            [out.path, "/bin/sh", "-c", script])
        #expect(run.status == 0, "with-journald failed: \(run.output)")
        let journal = try await ProcessRunner.run(
            "/bin/journalctl",
            ["-D", out.path + "/logs/journal", "-o", "json", "--no-pager", "SYSLOG_IDENTIFIER=samverkand"])
        let data = Data(journal.output.utf8)
        let entries = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        func entry(_ id: String) -> [String: Any]? { entries.first { $0["MESSAGE_ID"] as? String == id } }

        let started = try #require(entry("48425e9ac6fa4580a0e28df5f0e74b99"), "entries: \(entries.count)")
        #expect(started["PRIORITY"] as? String == "5")
        #expect(started["SAMVERKAN_GENERATION"] as? String == "1")
        #expect(started["_TRANSPORT"] as? String == "journal", "native protocol, not the stream")

        let sent = try #require(entry("d8991c9c69734f3abfdc698ae484b805"))
        #expect(sent["SAMVERKAN_AGREEMENT"] as? String == "prov")
        #expect(sent["SAMVERKAN_DEADLINE"] as? String == "prov/uppgift/\(due.date)")
        #expect(sent["SAMVERKAN_NOTICE"] as? String == "prov/uppgift/\(due.date)/due")
        #expect(sent["SAMVERKAN_KIND"] as? String == "report")
        #expect(sent["SAMVERKAN_SINK"] as? String == "outbox")
        #expect((sent["SAMVERKAN_DUE"] as? String)?.hasPrefix("\(due.date)T") == true)
        #expect(sent["PRIORITY"] as? String == "5")

        #expect(entry("3b17d90d98da4703afb0d7563d55061c") != nil, "stopping event")
        // No plain-text duplicates on the stream: everything went through the native protocol.
        #expect(entries.allSatisfy { $0["_TRANSPORT"] as? String == "journal" })
    }
}
