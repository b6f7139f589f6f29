import Foundation
import SamverkanCore

/// Where the repository and the built binaries are, and scratch directories for each test.
enum TestEnvironment {
    /// The repository root, found from this file's path.
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()

    /// The directory with `samverkand` and `samverkanctl`: next to the test bundle that
    /// `swift test` runs (`.build/debug/samverkanPackageTests.xctest`).
    static let binDirectory: URL = {
        var candidates: [URL] = []
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        candidates.append(repositoryRoot.appendingPathComponent(".build/debug"))
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("samverkand").path)
        }
            ?? candidates[candidates.count - 1]
    }()

    static var daemon: String { binDirectory.appendingPathComponent("samverkand").path }
    static var ctl: String { binDirectory.appendingPathComponent("samverkanctl").path }

    static var isRoot: Bool { getuid() == 0 }

    /// Scratch directories of earlier runs (older than an hour) are removed once per run, so
    /// runs do not pile up in /tmp; this run's stay for a look after a failure.
    private static let sweptOldScratch: Bool = {
        let tmp = URL(fileURLWithPath: "/tmp")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        let cutoff = Date().addingTimeInterval(-3600)
        for name in names where name.hasPrefix("samv-") {
            let url = tmp.appendingPathComponent(name)
            let modified = (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate]) as? Date
            if let modified, modified < cutoff { try? FileManager.default.removeItem(at: url) }
        }
        return true
    }()

    /// A fresh directory under /tmp (short paths: a Unix socket path has at most 107 bytes).
    static func scratch(_ name: String) throws -> URL {
        _ = sweptOldScratch
        let url = URL(fileURLWithPath: "/tmp/samv-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories =
            path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/lib/systemd", "/usr/lib/systemd"]
        for directory in directories {
            let candidate = directory + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// A config directory written for one test.
struct TestConfig {
    let directory: URL

    init(in root: URL, settings: String, agreements: [String: String]) throws {
        directory = root.appendingPathComponent("config")
        let agreementsDirectory = directory.appendingPathComponent("agreements.d")
        try FileManager.default.createDirectory(at: agreementsDirectory, withIntermediateDirectories: true)
        try settings.write(to: directory.appendingPathComponent("samverkand.yaml"), atomically: true, encoding: .utf8)
        for (name, text) in agreements {
            try text.write(to: agreementsDirectory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    /// A date about three months ahead: inside the daemon's planning horizon whenever the
    /// suite runs.
    static var inAFewMonths: String {
        let today = Zone(identifier: "Europe/Stockholm").map { $0.today(Date()) } ?? LocalDate(dayNumber: 0)
        return today.adding(days: 90).description
    }

    static let fileSinkSettings = """
        timezone: Europe/Stockholm
        sinks:
          - {name: outbox, type: file, directory: outbox, format: json}
        routes:
          - sinks: [outbox]

        """

    /// An agreement with one one-off obligation due at a given local date and time.
    static func agreement(id: String = "prov", dueDate: String, time: String, remind: String = "[]") -> String {
        """
        id: \(id)
        title: Provöverenskommelse
        roles:
          samordnare: {email: samordnare@prov.example}
        obligations:
          - id: uppgift
            kind: report
            title: Provuppgift
            schedule: {date: \(dueDate), time: "\(time)"}
            remind: \(remind)
            notify: [samordnare]

        """
    }
}
