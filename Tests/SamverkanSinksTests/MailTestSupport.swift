import Foundation
import SamverkanCore
import SamverkanSinks
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Scratch directories, helper programs and fixtures for the email tests.
enum MailTest {
    static let python = "/usr/bin/python3"
    static let msmtp = "/usr/bin/msmtp"
    static let openssl = "/usr/bin/openssl"

    /// `Servers/` beside this file: the Python helpers.
    static let servers: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Servers").path

    /// The Debian packages the tests need: python3-aiosmtpd, msmtp, openssl. Checked by their
    /// files, so deciding whether a suite runs starts no process and blocks no thread.
    static let hasAiosmtpd = FileManager.default.fileExists(
        atPath: "/usr/lib/python3/dist-packages/aiosmtpd/__init__.py")
    static let hasMsmtp = FileManager.default.isExecutableFile(atPath: msmtp)
    /// In CI (`CI` set) the server tests always run, so a missing package fails them instead
    /// of skipping them unseen; elsewhere they are skipped without the packages.
    static let isCI = ProcessInfo.processInfo.environment["CI"] != nil

    /// Scratch directories of earlier runs (older than an hour) are removed once per run; this
    /// run's stay for a look after a failure.
    private static let sweptOldScratch: Bool = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        let cutoff = Date().addingTimeInterval(-3600)
        for name in names where name.hasPrefix("samv-mail-") {
            let path = "/tmp/" + name
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
            if let modified, modified < cutoff { try? FileManager.default.removeItem(atPath: path) }
        }
        return true
    }()

    static func scratch(_ name: String) throws -> String {
        _ = sweptOldScratch
        let path = "/tmp/samv-mail-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, to path: String, mode: Int = 0o600) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// An executable `/bin/sh` script in a scratch directory of its own. `install` writes it in
    /// a process of its own: a program started meanwhile by another test cannot inherit a
    /// descriptor open for writing on it, which would make running it fail with ETXTBSY.
    static func script(_ body: String, named name: String) async throws -> String {
        let directory = try scratch("script")
        try write("#!/bin/sh\n" + body + "\n", to: directory + "/source")
        let (status, output) = try await run(
            "/usr/bin/install", ["-m", "755", directory + "/source", directory + "/" + name])
        guard status == 0 else { throw TestFailure("install: \(output)") }
        return directory + "/" + name
    }

    /// Runs a program to its end and returns its exit status and output (stdout and stderr).
    static func run(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let (exits, exited) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.finish() }
        try process.run()
        let handle = pipe.fileHandleForReading
        let data = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: handle.readDataToEndOfFile()) }
        }
        for await _ in exits {}
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Parses message files with Python's `email` package (`Servers/parse_mail.py`).
    static func parse(_ files: [String]) async throws -> [ParsedMail] {
        let (status, output) = try await run(python, [servers + "/parse_mail.py"] + files)
        guard status == 0 else { throw TestFailure("parse_mail.py failed: \(output)") }
        return try JSONDecoder().decode([ParsedMail].self, from: Data(output.utf8))
    }

    /// Parses one rendered message.
    static func parse(_ message: String, in directory: String) async throws -> ParsedMail {
        let file = directory + "/rendered-\(UUID().uuidString.prefix(6)).eml"
        try write(message, to: file)
        let parsed = try await parse([file])
        return try #require(parsed.first)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A message as Python's `email` package read it.
struct ParsedMail: Decodable {
    var headers: [String: [String]]
    var raw_headers: [String]
    var body: String
    var defects: [String]
    var line_endings: String
    var longest_line: Int
    var date: String?
    var is_ascii: Bool

    func header(_ name: String) -> String? { headers[name]?.first }
}

/// One line of the server's `events.jsonl`.
struct ServerEvent: Decodable {
    var event: String
    var address: String?
    var code: Int?
    var mechanism: String?
    var login: String?
    var ok: Bool?
    var file: String?
    var mail_from: String?
    var rcpt_tos: [String]?
    var tls: Bool?
}

/// `Servers/smtp_server.py` on 127.0.0.1, started for one test.
final class TestSMTPServer: Sendable {
    private let server: TestServerProcess
    var directory: String { server.directory }
    var port: Int { server.port }

    private init(server: TestServerProcess) {
        self.server = server
    }

    /// Starts the server and waits for it to print its port: an event with a deadline.
    static func start(_ name: String, _ arguments: [String] = []) async throws -> TestSMTPServer {
        TestSMTPServer(server: try await TestServerProcess.start("smtp_server.py", name: name, arguments: arguments))
    }

    /// SIGTERM, then its exit status once it has exited; SIGKILL if it has not within 10 s.
    @discardableResult
    func stop() async -> Int32 { await server.stop() }

    func events() throws -> [ServerEvent] {
        guard let text = try? String(contentsOfFile: directory + "/events.jsonl", encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(ServerEvent.self, from: Data($0.utf8)) }
    }

    /// The messages it stored, parsed with Python's `email` package, in order of arrival.
    func messages() async throws -> [ParsedMail] {
        let files = try events().filter { $0.event == "message" }.compactMap(\.file)
        return files.isEmpty ? [] : try await MailTest.parse(files)
    }
}

/// A CA made for this test run, and a server certificate it signed for localhost and
/// 127.0.0.1 (ECDSA P-256, valid two days).
struct TestCertificates: Sendable {
    var caFile: String
    var certificateFile: String
    var keyFile: String
    /// A second CA that signed nothing here: trusting only it must fail.
    var otherCAFile: String
    /// Signed by the test CA for another name (mx.other.example) only.
    var wrongNameCertificateFile: String
    var wrongNameKeyFile: String

    static let shared = Task<TestCertificates, any Error> { try await make() }

    private static func make() async throws -> TestCertificates {
        let directory = try MailTest.scratch("ca")
        let openssl = MailTest.openssl
        func step(_ arguments: [String]) async throws {
            let (status, output) = try await MailTest.run(openssl, arguments)
            guard status == 0 else { throw TestFailure("openssl \(arguments.first ?? ""): \(output)") }
        }
        for name in ["ca", "other-ca"] {
            try await step([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).pem", "-days", "2",
                "-subj", "/CN=Samverkan test \(name)", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        for (name, names) in [("server", "DNS:localhost,IP:127.0.0.1"), ("wrong-name", "DNS:mx.other.example")] {
            try await step([
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr", "-subj", "/CN=\(name)",
            ])
            try MailTest.write(
                "subjectAltName=\(names)\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
                to: "\(directory)/\(name).ext")
            try await step([
                "x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", "\(directory)/ca.pem", "-CAkey",
                "\(directory)/ca.key", "-CAcreateserial", "-out", "\(directory)/\(name).pem", "-days", "2",
                "-extfile", "\(directory)/\(name).ext",
            ])
        }
        return TestCertificates(
            caFile: "\(directory)/ca.pem", certificateFile: "\(directory)/server.pem",
            keyFile: "\(directory)/server.key", otherCAFile: "\(directory)/other-ca.pem",
            wrongNameCertificateFile: "\(directory)/wrong-name.pem", wrongNameKeyFile: "\(directory)/wrong-name.key")
    }
}

/// Collects what a sink or client traced, for assertions (the in-memory backend of
/// `style.md`).
final class TraceLog: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var handler: @Sendable (String) -> Void { { [self] line in lines.withLock { $0.append(line) } } }
}

struct FixedClock: WallClock {
    var date: Date
    func now() -> Date { date }
}

/// Notices as the dispatcher hands them to sinks.
enum Notices {
    /// Falls back to UTC only so a missing zone shows as failed dates, not a crash.
    static let stockholm = Zone(identifier: "Europe/Stockholm") ?? Zone(TimeZone.gmt)
    /// Saturday 2026-03-28 09:00 in Stockholm (+01:00).
    static let saturdayMorning = Date(timeIntervalSince1970: 1_774_684_800)

    /// 95 characters, with å, ä, ö, an en dash and an ampersand.
    static let subject =
        "[Samverkan] Årlig uppföljning Avesta & Falun – lägesbilden från LPO Falun senast 2026-09-07 (ö)"

    static let body = """
        Hej!

        Överenskommelsen säger: "Arbetet ska följas upp årligen och utvecklas i det lokala brottsförebyggande rådet." Nästa uppföljning ska vara gjord senast måndag 2026-09-07.
        – boka in punkten på ett möte i lokala BRÅ före dess (Avesta & Falun)
        .
        From the coordinator's point of view this line starts with From.
        .. två punkter, och = likhetstecken och blanksteg sist  \("")
        Markera som klar: samverkanctl done avesta-falun/uppfoljning/2026-09-07

        Vänliga hälsningar
        Påminnelsetjänsten för brottsförebyggande samverkan

        """

    static func make(
        id: String = "avesta-falun/uppfoljning/2026-09-07/-30d", recipients: [(String, String?)],
        subject: String = Notices.subject, body: String = Notices.body
    ) -> OutgoingNotice {
        let deadline = DeadlineView(
            id: "avesta-falun/uppfoljning/2026-09-07", agreement: "avesta-falun", obligation: "uppfoljning",
            kind: "follow_up", title: "Årlig uppföljning", due: "2026-09-07T09:00:00+02:00", state: "pending",
            notices: [])
        return OutgoingNotice(
            id: id, slot: "-30d", at: "2026-08-07T09:00:00+02:00", late: false, agreement: "avesta-falun",
            agreementTitle: "Avesta kommun – LPO Falun", deadline: deadline,
            recipients: recipients.map { OutgoingNotice.Recipient(role: $0.0, address: $0.1) }, subject: subject,
            body: body)
    }
}
