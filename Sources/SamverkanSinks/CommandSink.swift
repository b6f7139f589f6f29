public import Foundation
import SamverkanConfig
import SamverkanCore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program for each notice, with the notice's JSON (the file sink's `json` object) on
/// its standard input: directly, no shell (`argv[0]` an absolute path or a name looked up in
/// PATH), in a clean environment, and stopped at the time limit (`ChildProcess`).
///
/// Its environment is `PATH` (the daemon's, or a default), `LANG=C.UTF-8` and the notice's
/// `SAMVERKAN_NOTICE`, `SAMVERKAN_DEADLINE`, `SAMVERKAN_AGREEMENT`, `SAMVERKAN_KIND`,
/// `SAMVERKAN_SLOT`, `SAMVERKAN_DUE`, `SAMVERKAN_AT` and `SAMVERKAN_LATE` (0 or 1): the names
/// of the journal fields. Nothing else of the daemon's reaches it: no other variable, no
/// descriptor but its three standard ones (standard output is /dev/null), no blocked or
/// ignored signal.
///
/// Outcomes (issue 7), after sysexits(3): exit 0 sent; 75 (`EX_TEMPFAIL`) transient; any other
/// exit permanent; stopped at the time limit (SIGTERM to its process group, SIGKILL two
/// seconds later) or killed by a signal: transient; a program that cannot be started
/// (missing, not executable): permanent. The first lines of its standard error go into the
/// error.
public struct CommandSink: NoticeSink {
    public let name: String
    public var type: String { "command" }
    /// The program and its arguments, as configured.
    public let argv: [String]
    public let timeout: Duration
    /// The directories a bare program name is looked up in; also the program's `PATH`.
    public let searchPath: String
    /// How long the program may take to end after SIGTERM.
    let killGrace: Duration

    public static let optionKeys = ["argv", "timeout"]
    public static let defaultTimeout: Duration = .seconds(30)
    /// sysexits(3): "temporary failure; user is invited to retry".
    public static let temporaryFailure: Int32 = 75
    /// The PATH a daemon started without one gets (Debian's default for root).
    public static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public init(
        name: String, argv: [String], timeout: Duration = Self.defaultTimeout,
        searchPath: String = Self.defaultSearchPath
    ) {
        self.init(name: name, argv: argv, timeout: timeout, searchPath: searchPath, killGrace: .seconds(2))
    }

    init(name: String, argv: [String], timeout: Duration, searchPath: String, killGrace: Duration) {
        self.name = name
        self.argv = argv
        self.timeout = timeout
        self.searchPath = searchPath
        self.killGrace = killGrace
    }

    /// A sink from its `sinks:` entry in `samverkand.yaml`: `argv` (a list, required),
    /// `timeout` (default 30s). The program is looked up in the daemon's `PATH` now, so a
    /// mistake shows at load; it is looked up again at each delivery.
    public init(
        name: String, options: [String: String], listOptions: [String: [String]],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SinkOptionError) {
        func fail(_ message: String) -> SinkOptionError { SinkOptionError("sink '\(name)': \(message)") }
        for key in (Array(options.keys) + Array(listOptions.keys)).sorted() where !Self.optionKeys.contains(key) {
            throw fail("a command sink does not take '\(key)' (it takes: \(Self.optionKeys.joined(separator: ", ")))")
        }
        guard let argv = listOptions["argv"], let program = argv.first, !program.isEmpty else {
            throw fail("a command sink needs 'argv', the program and its arguments as a list")
        }
        guard program.hasPrefix("/") || !program.contains("/") else {
            throw fail("the program must be an absolute path or a name looked up in PATH, found '\(program)'")
        }
        var timeout = Self.defaultTimeout
        if let text = options["timeout"] {
            guard let parsed = SinkConfig.timeLimit(text) else {
                throw fail("timeout must be \(SinkConfig.timeLimitForm), found '\(text)'")
            }
            timeout = parsed
        }
        let path = environment["PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultSearchPath
        self.init(name: name, argv: argv, timeout: timeout, searchPath: path)
        do {
            _ = try executable()
        } catch {
            throw fail(error.message)
        }
    }

    public func deliver(_ notice: OutgoingNotice) async throws(SinkError) -> DeliveryReceipt {
        let input = try notice.jsonBytes()
        let path: String
        do {
            path = try executable()
        } catch {
            throw SinkError(.permanent, error.message)
        }
        let environment = [
            "PATH=\(searchPath)", "LANG=C.UTF-8",
            "SAMVERKAN_NOTICE=\(notice.id)", "SAMVERKAN_DEADLINE=\(notice.deadline.id)",
            "SAMVERKAN_AGREEMENT=\(notice.agreement)", "SAMVERKAN_KIND=\(notice.deadline.kind)",
            "SAMVERKAN_SLOT=\(notice.slot)", "SAMVERKAN_DUE=\(notice.deadline.due)", "SAMVERKAN_AT=\(notice.at)",
            "SAMVERKAN_LATE=\(notice.late ? 1 : 0)",
        ]
        let outcome = try await ChildProcess(
            path: path, arguments: argv, environment: environment, standardOutput: .discarded, timeout: timeout,
            killGrace: killGrace
        ).run(input: input)
        let said = Self.firstLines(outcome.output).map { ": " + $0 } ?? ""
        if outcome.cancelled {
            throw SinkError(.transient, "\(path) was stopped: the delivery was cancelled\(said)")
        }
        if outcome.timedOut {
            let how = outcome.killed ? "SIGKILL after SIGTERM" : "SIGTERM"
            throw SinkError(.transient, "\(path) did not finish within \(timeout) and was stopped (\(how))\(said)")
        }
        switch outcome.termination {
        case .exited(0):
            return DeliveryReceipt(detail: "\(path) exited 0")
        case .exited(Self.temporaryFailure):
            throw SinkError(.transient, "\(path) exited 75 (EX_TEMPFAIL), will retry\(said)")
        case .exited(let status):
            throw SinkError(.permanent, "\(path) exited \(status)\(said)")
        case .signalled(let signal):
            throw SinkError(.transient, "\(path) was killed by signal \(signal)\(said)")
        case .unknown(let error):
            throw SinkError(.transient, "\(path) ended, but how is not known (\(String(cString: strerror(error))))")
        }
    }

    /// The program's path: `argv[0]` when absolute, else the first executable regular file of
    /// that name in `searchPath` (as execvp would find it, without running a shell).
    func executable() throws(SinkOptionError) -> String {
        let program = argv.first ?? ""
        if program.hasPrefix("/") {
            guard access(program, X_OK) == 0 else {
                throw SinkOptionError("cannot run \(program): \(String(cString: strerror(errno)))")
            }
            return program
        }
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = directory + "/" + program
            var info = stat()
            if stat(candidate, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        throw SinkOptionError("no program '\(program)' in PATH (\(searchPath)); give an absolute path in argv")
    }

    /// The first five non-empty lines of the program's standard error, joined by ` / `, at
    /// most 500 characters, control characters as spaces; nil when it wrote nothing.
    static func firstLines(_ output: String) -> String? {
        let lines = output.split(whereSeparator: \.isNewline).map { WebhookSink.sanitised(String($0), limit: 500) }
            .filter { !$0.isEmpty }
        guard !lines.isEmpty else { return nil }
        let joined = lines.prefix(5).joined(separator: " / ") + (lines.count > 5 ? " / …" : "")
        return joined.count > 500 ? String(joined.prefix(500)) + "…" : joined
    }
}
