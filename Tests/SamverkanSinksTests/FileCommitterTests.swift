import Foundation
import SamverkanCore
import Testing

@testable import SamverkanSinks

#if canImport(Glibc)
    import Glibc
#endif

/// The file sink's group commit: many notices in one commit, each file durable and in place
/// before it is reported, a failure confined to its own file.
@Suite("File sink group commit", .timeLimit(.minutes(1)))
struct FileCommitterTests {
    static func scratch() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "samverkan-committer-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("one commit writes a batch: every file in place with its bytes and mode, no temporary file left")
    func batch() throws {
        let directory = try Self.scratch() + "/outbox"  // created by the commit
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let committer = FileCommitter(directory: directory, mode: 0o640)
        let files = (0..<40).map { (content: Array("notice \($0)\n".utf8), fileName: "n\($0).json") }
        let results = committer.commit(files)
        #expect(results.count == 40)
        for (file, result) in zip(files, results) {
            #expect((try? result.get()) != nil, "\(file.fileName): \(result)")
            let written = FileManager.default.contents(atPath: directory + "/" + file.fileName)
            #expect(written.map(Array.init) == file.content)
            var info = stat()
            #expect(stat(directory + "/" + file.fileName, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o640)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(names.count == 40)
        #expect(names.allSatisfy { !$0.hasPrefix(".tmp") })
    }

    @Test("a file that cannot be written fails alone, transiently; the rest of its batch is delivered")
    func failureIsConfined() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let committer = FileCommitter(directory: directory, mode: 0o640)
        let files: [(content: [UInt8], fileName: String)] = [
            (Array("a".utf8), "a.json"),
            (Array("b".utf8), "no-such-directory/b.json"),
            (Array("c".utf8), "c.json"),
        ]
        let results = committer.commit(files)
        #expect((try? results[0].get()) != nil)
        #expect((try? results[2].get()) != nil)
        guard case .failure(let error) = results[1] else {
            Issue.record("b.json was reported written")
            return
        }
        #expect(error.code == .transient)
        #expect(error.message.contains("no-such-directory"), "\(error)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(names == ["a.json", "c.json"])
    }

    @Test("notices written at once through the sink share commits, and each is in place when reported")
    func concurrentDeliveriesShareCommits() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sink = FileSink(name: "outbox", directory: directory, format: .txt, hostname: "prov.example")
        #expect(sink.concurrentDeliveries > 16)
        let count = 300
        let reported = await withTaskGroup(of: (String, Bool).self) { group in
            for k in 0..<count {
                let notice = Notices.make(
                    id: "prov/uppgift/2027-01-\(k)/due", recipients: [("samordnare", "samordnare@avesta.example")])
                group.addTask {
                    guard let receipt = try? await sink.deliver(notice) else { return (notice.id, false) }
                    // Reported: the file must be there under its final name already.
                    return (notice.id, FileManager.default.fileExists(atPath: receipt.detail))
                }
            }
            var reported: [String: Bool] = [:]
            for await (id, present) in group { reported[id] = present }
            return reported
        }
        #expect(reported.count == count)
        #expect(reported.values.allSatisfy { $0 })
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(names.count == count)
        #expect(names.allSatisfy { !$0.hasPrefix(".tmp") })
        let commits = sink.commitCount
        #expect(commits >= 1)
        #expect(commits < count, "every file had a sync of the directory of its own")
    }

    @Test("staged files are renamed together; one whose staged file is gone fails alone, transiently")
    func stagedBatch() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let committer = FileCommitter(directory: directory, mode: 0o640)
        var staged: [FileCommitter.Staged] = []
        for name in ["a", "b", "c"] {
            staged.append(try await committer.stage(Array(name.utf8), as: name + ".json").get())
        }
        // Staged: hidden, nothing under the final names yet.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { $0.hasPrefix(".tmp-") })
        #expect(unlink(staged[1].temporary) == 0)
        let results = await committer.commit(staged)
        #expect((try? results[0].get()) != nil)
        #expect((try? results[2].get()) != nil)
        guard case .failure(let error) = results[1] else {
            Issue.record("b.json was reported written")
            return
        }
        #expect(error.code == .transient)
        #expect(error.message.contains("cannot rename"), "\(error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["a.json", "c.json"])
        #expect(committer.commitCount == 1, "one sync of the directory for the batch")
    }

    @Test("temporary files of a process that is gone are removed when the directory's first sink starts")
    func leftoversRemoved() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A pid that is surely gone: a child that has exited and been reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let gone = child.processIdentifier
        let names = [
            ".tmp-\(gone)-7-prov.rapport.json",  // a crashed daemon's
            ".tmp-1-3-prov.mote.json",  // a live process's (pid 1): not ours to remove
            "prov.klar.json",  // a delivered notice
        ]
        for name in names {
            #expect(FileManager.default.createFile(atPath: directory + "/" + name, contents: Data("x".utf8)))
        }
        _ = FileCommitter(directory: directory, mode: 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == Array(names[1...]).sorted())
    }
}
