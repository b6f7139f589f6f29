import ArgumentParser
import Foundation
import SamverkanClient
import SamverkanConfig
import SamverkanCore

/// Exit codes of `design.md`: 0 ok, 1 user error, 2 daemon unreachable, 3 daemon error.
enum Exit {
    static let userError: Int32 = 1
    static let unreachable: Int32 = 2
    static let daemonError: Int32 = 3
}

struct SocketOptions: ParsableArguments {
    @Option(
        help: "The control socket (default: $SAMVERKAN_SOCKET, /run/samverkan/control.sock, ./.samverkan/control.sock)."
    )
    var socket: String?

    @Flag(help: "Print JSON for scripts.")
    var json = false

    var path: String {
        if let socket { return socket }
        if let env = ProcessInfo.processInfo.environment["SAMVERKAN_SOCKET"], !env.isEmpty { return env }
        let system = "/run/samverkan/control.sock"
        if FileManager.default.fileExists(atPath: system) { return system }
        let local = "./.samverkan/control.sock"
        return FileManager.default.fileExists(atPath: local) ? local : system
    }

    /// Sends a request; maps failures to the exit codes and a helpful message.
    func call(_ method: String, _ target: String, body: Data? = nil) throws -> Data {
        let client = ControlClient(socketPath: path)
        let response: ControlClient.Response
        do {
            response = try client.request(method, target, body: body)
        } catch let error as ControlClient.ConnectError {
            throw Failure(message: error.description, code: Exit.unreachable)
        } catch {
            throw Failure(message: "\(error)", code: Exit.unreachable)
        }
        guard (200..<300).contains(response.status) else {
            if json { FileHandle.standardOutput.write(response.body) }
            let detail = try? JSONDecoder().decode(ErrorView.self, from: response.body)
            var message =
                "samverkand answered \(response.status): \(detail?.error.message ?? String(decoding: response.body, as: UTF8.self))"
            if let details = detail?.error.details, !details.isEmpty {
                message += "\n" + details.joined(separator: "\n")
            }
            throw Failure(
                message: message, code: (400..<500).contains(response.status) ? Exit.userError : Exit.daemonError)
        }
        return response.body
    }
}

/// An error with its exit code and a message for stderr.
struct Failure: Error, CustomStringConvertible {
    var message: String
    var code: Int32
    var description: String { message }
}

func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch {
        throw Failure(
            message: "samverkand sent an answer this samverkanctl cannot read: \(error)", code: Exit.daemonError)
    }
}

/// Writes all of `bytes` to standard output with write(2), for output too large to go through
/// `FileHandle` in one piece.
func writeToStandardOutput(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
        let written = write(STDOUT_FILENO, base + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            throw Failure(message: "cannot write to standard output: \(String(cString: strerror(errno)))", code: 1)
        }
        offset += written
    }
}

func printJSON(_ data: Data) {
    FileHandle.standardOutput.write(data)
    if data.last != 0x0A { FileHandle.standardOutput.write(Data([0x0A])) }
}

protocol FailingCommand: ParsableCommand {
    func execute() throws
}

extension FailingCommand {
    func run() throws {
        do {
            try execute()
        } catch let failure as Failure {
            FileHandle.standardError.write(Data("samverkanctl: \(failure.message)\n".utf8))
            throw ExitCode(failure.code)
        }
    }
}

@main
struct Samverkanctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samverkanctl",
        abstract: "Ask samverkand what is due, and tell it what is done.",
        version: SamverkanVersion.current,
        subcommands: [
            Status.self, Upcoming.self, Show.self, Agreements.self, Done.self, CaseCommand.self, Cases.self,
            Reload.self,
            Undelivered.self, Retry.self, TestSink.self, Calendar.self, Backup.self,
            CheckConfig.self, Plan.self,
        ])

    /// `--socket PATH` and `--json` may also come before the subcommand
    /// (`samverkanctl --socket /run/x.sock status`): they are moved after it.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var leading: [String] = []
        while let first = arguments.first, first.hasPrefix("--socket") || first == "--json" {
            leading.append(arguments.removeFirst())
            if first == "--socket", let value = arguments.first {
                leading.append(value)
                arguments.removeFirst()
            }
        }
        if !leading.isEmpty, !arguments.isEmpty {
            // After the subcommand, and after `open`/`close` of `case`.
            let depth = arguments.first == "case" && arguments.count > 1 ? 2 : 1
            arguments.insert(contentsOf: leading, at: depth)
        } else {
            arguments = leading + arguments
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            // A mistake on the command line is a user error: exit 1 (design.md), where
            // ArgumentParser would say 64; help and --version still exit 0.
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(Exit.userError)
            }
            exit(withError: error)
        }
    }
}

struct Status: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Version, uptime, loaded config and the next deadline.")
    @OptionGroup var options: SocketOptions

    func execute() throws {
        let data = try options.call("GET", "/v1/status")
        if options.json { return printJSON(data) }
        let status = try decode(StatusView.self, data)
        let now = Date()
        var rows: [[String]] = [
            ["samverkand", "\(status.version) (pid \(status.pid))"],
            ["uppe sedan", HumanFormat.when(status.startedAt, now: now)],
            [
                "konfiguration",
                "\(status.config.directory), generation \(status.config.generation), laddad \(HumanFormat.when(status.config.loadedAt, now: now))",
            ],
            ["överenskommelser", "\(status.config.agreements)"],
            [
                "planerade",
                "\(status.deadlines.planned) tidsfrister (\(status.deadlines.done) klara), \(status.deadlines.pendingNotices) meddelanden väntar, \(status.deadlines.sentNotices) skickade, \(status.deadlines.failedNotices) försöks igen",
            ],
        ]
        if status.deadlines.deadLetters > 0 {
            let count = status.deadlines.deadLetters
            rows.append([
                "olevererade", "\(count) \(count == 1 ? "meddelande" : "meddelanden") gick inte att leverera",
            ])
        }
        if let next = status.nextDue {
            rows.append(["nästa", "\(HumanFormat.when(next.due, now: now))  \(next.title)  [\(next.id)]"])
        } else {
            rows.append(["nästa", "inga planerade tidsfrister"])
        }
        if let notice = status.nextNotice {
            rows.append(["nästa meddelande", "\(HumanFormat.when(notice.at, now: now))  \(notice.id)"])
        }
        if let error = status.lastReloadError {
            rows.append(["senaste omladdning", "vägrad: \(error.split(separator: "\n").first ?? "")"])
        }
        print(HumanFormat.table(rows))
    }
}

struct Upcoming: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "upcoming", abstract: "The next deadlines, and those overdue and not done.")
    @OptionGroup var options: SocketOptions
    @Option(help: "How far ahead: 30d, 12h, 2w.") var within = "30d"
    @Option(help: "Only this agreement.") var agreement: String?
    @Option(help: "Only this kind (renewal, review, lagesbild, report, meeting, promise, custom).") var kind: String?
    @Option(help: "At most this many.") var limit: Int?

    func execute() throws {
        func encoded(_ value: String) -> String {
            value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~")))
                ?? value
        }
        var query = "within=\(encoded(within))"
        if let agreement { query += "&agreement=\(encoded(agreement))" }
        if let kind { query += "&kind=\(encoded(kind))" }
        if let limit { query += "&limit=\(limit)" }
        let data = try options.call("GET", "/v1/deadlines?\(query)")
        if options.json { return printJSON(data) }
        let deadlines = try decode([DeadlineView].self, data)
        guard !deadlines.isEmpty else {
            print("Inga tidsfrister inom \(within).")
            return
        }
        let now = Date()
        var rows = [["SISTA DAG", "LÄGE", "ÖVERENSKOMMELSE", "UPPGIFT", "ID"]]
        for deadline in deadlines {
            let state = deadline.state == "overdue" ? "försenad" : "kommande"
            rows.append([
                HumanFormat.when(deadline.due, now: now), state, deadline.agreement, deadline.title, deadline.id,
            ])
        }
        print(HumanFormat.table(rows, header: true) { _, _, cell in cell == "försenad" ? .red : nil })
    }
}

struct Show: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One deadline with its notices and how its time was derived.", aliases: ["explain"])
    @OptionGroup var options: SocketOptions
    @Argument(help: "The deadline id, e.g. avesta-falun/arlig-uppfoljning/2026-09-07.") var id: String

    func execute() throws {
        let data = try options.call("GET", "/v1/deadlines/\(id)")
        if options.json { return printJSON(data) }
        let deadline = try decode(DeadlineView.self, data)
        let now = Date()
        print(
            "\(deadline.title)\n  id:    \(deadline.id)\n  sista dag: \(HumanFormat.when(deadline.due, now: now))\n  läge:  \(deadline.state)"
        )
        print("  meddelanden:")
        print(
            HumanFormat.table(
                deadline.notices.map {
                    [
                        "   ", String($0.id.dropFirst(deadline.id.count + 1)), HumanFormat.when($0.at, now: now),
                        $0.state,
                    ]
                }
            ) { _, column, cell in column == 3 ? Self.paint(state: cell) : nil })
        if let explanation = deadline.explanation {
            print("  så räknades tiden ut:")
            for line in explanation { print("    \(line)") }
        }
        if let completions = deadline.completions, !completions.isEmpty {
            print("  klarmarkerat:")
            print(
                HumanFormat.table(
                    completions.map {
                        [
                            "   ", HumanFormat.when($0.at, now: now), $0.role ?? "hela",
                            $0.uid.map { "uid \($0)" } ?? "", $0.note ?? "",
                        ]
                    }))
        }
        if let deliveries = deadline.deliveries, !deliveries.isEmpty {
            print("  leveranser:")
            print(
                HumanFormat.table(
                    deliveries.map {
                        ["   ", HumanFormat.when($0.at, now: now), $0.notice, $0.sink, $0.outcome, $0.error ?? ""]
                    }))
        }
    }
}

extension Show {
    /// Notice states at a glance: what went out, what is waiting, what failed.
    static func paint(state: String) -> HumanFormat.Paint? {
        switch state {
        case "sent": .green
        case "failed", "dead": .red
        case "sending": .yellow
        case "cancelled", "skipped", "superseded": .dim
        default: nil
        }
    }
}

struct Agreements: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreements",
        abstract: "The configured agreements: parties, validity and the next deadlines.")
    @OptionGroup var options: SocketOptions
    @Argument(help: "One agreement id for all its deadlines (optional).") var id: String?

    func execute() throws {
        let data = try options.call("GET", id.map { "/v1/agreements/\($0)" } ?? "/v1/agreements")
        if options.json { return printJSON(data) }
        let agreements = id == nil ? try decode([AgreementView].self, data) : [try decode(AgreementView.self, data)]
        let now = Date()
        let states = ["in_force": "gäller", "ended": "har löpt ut", "not_yet": "har inte börjat"]
        for (index, agreement) in agreements.enumerated() {
            if index > 0 { print() }
            let validity = "\(agreement.validFrom ?? "?") – \(agreement.validUntil ?? "tills vidare")"
            let state = states[agreement.state] ?? agreement.state
            print(HumanFormat.paint(agreement.title, .bold))
            print(
                "  id: \(agreement.id)   giltig: \(validity) (\(HumanFormat.paint(state, agreement.state == "ended" ? .red : nil)))"
            )
            print("  parter: \(agreement.parties.map(\.name).joined(separator: ", "))")
            if agreement.next.isEmpty {
                print("  inga kommande tidsfrister")
            } else {
                print(
                    HumanFormat.table(
                        agreement.next.map {
                            [
                                "   ", HumanFormat.when($0.due, now: now), $0.state == "overdue" ? "försenad" : "",
                                $0.title, $0.id,
                            ]
                        }
                    ) { _, _, cell in cell == "försenad" ? .red : nil })
            }
        }
    }
}

struct Done: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "done",
        abstract: "Mark a deadline done; its pending reminders are cancelled.",
        discussion: """
            For a collection round (the monthly lägesbild), --role records that one respondent has \
            answered: only that respondent's reminders stop, and the round is done when all have \
            answered. Without --role the whole deadline is done.
            """)
    @OptionGroup var options: SocketOptions
    @Argument(help: "The deadline id, e.g. exempel/lagesbild/2026-11-30.") var id: String
    @Option(help: "The respondent of a collection round who has answered.") var role: String?
    @Option(help: "A short note for the record (no names or personal data).") var note: String?

    func execute() throws {
        var body: [String: String] = [:]
        if let role { body["role"] = role }
        if let note { body["note"] = note }
        let data = try options.call(
            "POST", "/v1/deadlines/\(id)/complete", body: try JSONSerialization.data(withJSONObject: body))
        if options.json { return printJSON(data) }
        let result = try decode(CompletionResultView.self, data)
        let who = result.role.map { " (\($0) har svarat)" } ?? ""
        if result.alreadyRecorded {
            print("\(result.id)\(who): redan registrerat, inget ändrat.")
        } else if result.state == "done" {
            print("\(result.id)\(who): klar. \(Self.stopped(result.cancelledNotices.count)).")
        } else {
            print(
                "\(result.id)\(who): registrerat. \(Self.stopped(result.cancelledNotices.count)); väntar på \(result.waitingFor.joined(separator: ", "))."
            )
        }
    }
}

extension Done {
    /// `1 påminnelse stoppad`, `3 påminnelser stoppade`.
    static func stopped(_ count: Int) -> String {
        count == 1 ? "1 påminnelse stoppad" : "\(count) påminnelser stoppade"
    }
}

struct Backup: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent copy of samverkand's store to FILE while it runs.",
        discussion:
            "Restore: stop samverkand, put the copy in place of samverkan.sqlite in the state directory (remove samverkan.sqlite-wal and -shm), start samverkand."
    )
    @OptionGroup var options: SocketOptions
    @Argument(help: "Where to write the copy; must not exist yet.") var file: String

    func execute() throws {
        guard !FileManager.default.fileExists(atPath: file) else {
            throw Failure(message: "\(file) exists already; give a new file name", code: Exit.userError)
        }
        let data = try options.call("POST", "/v1/backup")
        // Written next to the target and renamed: a half-written copy never has the final name.
        let temporary = file + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
        else {
            throw Failure(message: "cannot write \(temporary)", code: Exit.userError)
        }
        do {
            try FileManager.default.moveItem(atPath: temporary, toPath: file)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw Failure(message: "cannot write \(file): \(error.localizedDescription)", code: Exit.userError)
        }
        if options.json {
            printJSON(
                try JSONSerialization.data(
                    withJSONObject: ["file": file, "bytes": data.count], options: .withoutEscapingSlashes))
        } else {
            print("Kopia av lagret skriven till \(file) (\(data.count) byte).")
        }
    }
}

struct Reload: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Reload the config, like SIGHUP, and show what changed.")
    @OptionGroup var options: SocketOptions

    func execute() throws {
        let data = try options.call("POST", "/v1/reload")
        if options.json { return printJSON(data) }
        let view = try decode(ReloadView.self, data)
        print("Generation \(view.generation): \(view.summary)")
        for warning in view.warnings { print(warning) }
    }
}

struct CheckConfig: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate a config directory without a daemon (exit 0 valid, 1 invalid)."
    )
    @Argument(help: "The config directory.") var directory = "./Config"

    func execute() throws {
        switch Self.load(directory) {
        case .success(let config):
            for warning in config.warnings { FileHandle.standardError.write(Data("\(warning)\n".utf8)) }
            let obligations = config.agreements.reduce(0) { $0 + $1.obligations.count }
            print(
                "\(directory): ok — \(config.agreements.count) agreements, \(obligations) obligations, \(config.warnings.count) warnings"
            )
        case .failure(let error):
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(Exit.userError)
        }
    }

    /// Loads the directory with today's date (in the config's zone) for the date warnings.
    static func load(_ directory: String, warnAboutDates: Bool = true) -> Result<LoadedConfig, ConfigError> {
        let now = Date()
        return Result { () throws(ConfigError) in
            try ConfigLoader().load(directory: directory, today: { warnAboutDates ? $0.today(now) : nil })
        }
    }

    /// Loads the directory for a plan (no date warnings), or prints its errors and exits.
    /// `handOver`, when given, receives the agreements instead of the config keeping them.
    static func loadForPlan(_ directory: String, handingOver handOver: (Agreement) -> Void) throws -> LoadedConfig {
        do {
            return try ConfigLoader().load(directory: directory, today: { _ in nil }, handingOver: handOver)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(Exit.userError)
        }
    }
}

struct Plan: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Every deadline of a config directory between two dates, without a daemon.")
    @Argument(help: "The config directory.") var directory = "./Config"
    @Option(help: "First due date (YYYY-MM-DD), inclusive.") var from: String
    @Option(help: "Last due date (YYYY-MM-DD), inclusive.") var to: String
    @Flag(help: "Print the deadline objects as a JSON array.") var json = false
    @Flag(help: "With each deadline, how its time was derived.") var explain = false

    func execute() throws {
        guard let first = LocalDate(iso: from), let last = LocalDate(iso: to) else {
            throw Failure(message: "--from and --to must be dates as YYYY-MM-DD", code: Exit.userError)
        }
        guard first <= last else { throw Failure(message: "--from \(from) is after --to \(to)", code: Exit.userError) }
        if json && !explain { return try streamJSON(from: first, through: last) }
        var agreements: [Agreement] = []
        let config = try CheckConfig.loadForPlan(directory) { agreements.append($0) }
        let planner = Planner(
            zone: config.zone, calendar: SwedishCalendar(closedDays: config.settings.closedDays),
            explains: explain || !json)
        let deadlines: [Deadline]
        do {
            deadlines = try planner.plan(agreements, from: first, through: last)
        } catch {
            throw Failure(message: error.message, code: Exit.userError)
        }
        let zone = config.zone
        if json {
            var writer = DeadlineJSON(zone: zone)
            writer.begin()
            for deadline in deadlines {
                writer.append(deadline, state: "planned", noticeState: "planned", explain: explain)
                if writer.bytes.count > 1 << 20 { FileHandle.standardOutput.write(Data(writer.drain())) }
            }
            writer.end()
            FileHandle.standardOutput.write(Data(writer.drain()))
            return
        }
        guard !deadlines.isEmpty else {
            print("Inga tidsfrister mellan \(first) och \(last).")
            return
        }
        let months = [
            "januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
            "november", "december",
        ]
        var output: [String] = []
        var currentMonth: (Int, Int)?
        var rows: [[String]] = []
        func flush() {
            if !rows.isEmpty { output.append(HumanFormat.table(rows)) }
            rows = []
        }
        for deadline in deadlines {
            let local = zone.local(deadline.due)
            if currentMonth.map({ $0 != (local.date.year, local.date.month) }) ?? true {
                flush()
                currentMonth = (local.date.year, local.date.month)
                output.append((output.isEmpty ? "" : "\n") + "\(months[local.date.month - 1]) \(local.date.year)")
            }
            let day = HumanFormat.when(zone.rfc3339(deadline.due), now: nil)
            rows.append([
                "  " + day, deadline.agreement, deadline.title, "\(deadline.notices.count) medd.", deadline.id,
            ])
            if explain { rows.append(contentsOf: deadline.explanation.map { ["", "", "    " + $0, "", ""] }) }
        }
        flush()
        print(output.joined(separator: "\n"))
    }
}

extension Plan {
    /// `--json` without explanations: the agreements go from the loader into a `DeadlineStream`
    /// and the deadlines from it to standard output, so neither the config nor the plan is ever
    /// held as values (10,000 agreements plan to 400 MB of JSON).
    private func streamJSON(from first: LocalDate, through last: LocalDate) throws {
        try makeStream(from: first, through: last).writeJSON(
            state: "planned", noticeState: "planned", to: writeToStandardOutput)
    }

    /// The stream of the directory's plan. The loaded config (its list of files, its templates)
    /// is let go before the stream is built, so that its memory is free again for the stream's.
    private func makeStream(from first: LocalDate, through last: LocalDate) throws -> DeadlineStream {
        var builder = DeadlineStream.Builder(from: first, through: last)
        let planner = try { () throws -> Planner in
            let config = try CheckConfig.loadForPlan(directory) { builder.add($0) }
            return Planner(
                zone: config.zone, calendar: SwedishCalendar(closedDays: config.settings.closedDays), explains: false)
        }()
        do {
            return try builder.build(planner: planner)
        } catch {
            throw Failure(message: error.message, code: Exit.userError)
        }
    }
}

struct Calendar: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "The upcoming deadlines as iCalendar, for a calendar client: samverkanctl calendar > samverkan.ics")
    @OptionGroup var options: SocketOptions

    func execute() throws {
        FileHandle.standardOutput.write(try options.call("GET", "/v1/calendar.ics"))
    }
}

struct Undelivered: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "undelivered",
        abstract: "Notices that could not be delivered (dead letters), with the last error.")
    @OptionGroup var options: SocketOptions

    func execute() throws {
        let data = try options.call("GET", "/v1/notices?state=dead")
        if options.json { return printJSON(data) }
        let letters = try decode([UndeliveredView].self, data)
        guard !letters.isEmpty else {
            print("Alla meddelanden har levererats.")
            return
        }
        let now = Date()
        var rows = [["TID", "MEDDELANDE", "FÖRSÖK", "SENASTE FEL"]]
        for letter in letters {
            let error = [letter.lastSink, letter.lastError].compactMap { $0 }.joined(separator: ": ")
            rows.append([HumanFormat.when(letter.notice.at, now: now), letter.notice.id, "\(letter.attempts)", error])
        }
        print(HumanFormat.table(rows, header: true) { _, column, _ in column == 3 ? .red : nil })
        print("Försök igen: samverkanctl retry ID")
    }
}

struct Retry: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Deliver an undelivered notice again, now (to the sinks that have not taken it, then the fallback).")
    @OptionGroup var options: SocketOptions
    @Argument(help: "The notice id, from samverkanctl undelivered.") var id: String

    func execute() throws {
        let data = try options.call("POST", "/v1/notices/\(id)/retry")
        let result = try decode(RetryResultView.self, data)
        if options.json {
            printJSON(data)
            if result.state != "sent" { throw ExitCode(Exit.daemonError) }
            return
        }
        if result.state == "sent" {
            print("\(result.id): levererat.")
        } else {
            let errors = result.attempts.filter { $0.outcome != "ok" }.map { "\($0.sink): \($0.error ?? $0.outcome)" }
            throw Failure(
                message: "\(result.id) could not be delivered: \(errors.joined(separator: "; "))",
                code: Exit.daemonError)
        }
    }
}

struct TestSink: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-sink",
        abstract: "Send a test notice through one sink now, and show what it said.",
        discussion: "Exit 0 delivered, 3 failed for now (it would be retried), 1 refused or no such sink.")
    @OptionGroup var options: SocketOptions
    @Argument(help: "The sink's name in samverkand.yaml.") var name: String
    @Option(help: "An address for email (default: the operator's).") var to: String?

    func execute() throws {
        let body = try JSONSerialization.data(withJSONObject: to.map { ["to": $0] } ?? [:])
        let data: Data
        do {
            data = try options.call("POST", "/v1/sinks/\(name)/test", body: body)
        } catch var failure as Failure {
            // 502: the sink refused the notice, which is for the user to fix, not the daemon.
            if failure.message.hasPrefix("samverkand answered 502") { failure.code = Exit.userError }
            throw failure
        }
        if options.json { return printJSON(data) }
        let view = try decode(SinkTestAnswer.self, data)
        print("\(name): levererat (\(view.detail)).")
    }

    struct SinkTestAnswer: Decodable {
        var sink: String
        var outcome: String
        var detail: String
    }
}
