public import Foundation
public import SamverkanCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Sends each notice as one email to all its recipients, over SMTP (`SMTPClient`) or through a
/// sendmail-compatible program (`msmtp`).
///
/// Outcomes (issue 7):
/// - SMTP, per recipient: 2xx accepted, 4xx transient, 5xx permanent. All accepted: sent. Any
///   transient: the notice is transient, so the dispatcher retries it; the recipients already
///   accepted are remembered (in memory) and not sent to again, and after a restart a second
///   copy carries the same Message-ID, which a receiver can drop. Some permanent and none
///   transient: the rest got it, and the notice is reported permanent for those refused.
///   Connection failures, timeouts and an unreadable password file (a credential being
///   replaced) are transient; a missing STARTTLS that `tls: starttls` requires, a certificate
///   that does not verify, and a refused login (5xx) are permanent: trying again fails the
///   same way until someone changes the server or the config.
/// - sendmail (`platform.md` §5, measured with msmtp 1.8.23): exit 0 sent; 75 (cannot
///   connect) and 69 (msmtp's 4xx) transient; 65 (5xx) and any other exit permanent; killed
///   by a signal or stopped at the time limit: transient.
///
/// Errors, receipts and the trace name roles, never addresses (`domain.md` §8: logs record
/// the role id), and never hold the password.
public struct EmailSink: NoticeSink {
    public enum Transport: Sendable {
        case smtp(SMTPClient.Configuration)
        /// A sendmail-compatible program, run as `PATH -t -i -f FROM` with LF line endings.
        case sendmail(path: String)
    }

    /// A sink option that cannot be used, with what to write instead.
    public typealias OptionError = SinkOptionError

    public let name: String
    public var type: String { "email" }
    public let transport: Transport
    public let from: EmailAddress
    public let replyTo: EmailAddress?
    public let zone: Zone
    /// This machine's name, for the Message-ID (`<ID@samverkan.HOSTNAME>`).
    public let hostname: String
    public let clock: any WallClock
    /// How long the sendmail program may run.
    public let sendmailTimeout: Duration
    /// Receives the SMTP conversation (no password, no message text) and the sendmail
    /// command's outcome, for debug logging.
    public let trace: (@Sendable (String) -> Void)?
    private let progress = DeliveryProgress()

    public init(
        name: String, transport: Transport, from: EmailAddress, replyTo: EmailAddress?, zone: Zone,
        hostname: String = EmailSink.systemHostname(), clock: any WallClock = SystemWallClock(),
        sendmailTimeout: Duration = .seconds(60), trace: (@Sendable (String) -> Void)? = nil
    ) {
        self.name = name
        self.transport = transport
        self.from = from
        self.replyTo = replyTo
        self.zone = zone
        self.hostname = hostname
        self.clock = clock
        self.sendmailTimeout = sendmailTimeout
        self.trace = trace
    }

    /// The option keys this sink takes (`design.md`, sink keys), and `ca_file`: a PEM file of
    /// a CA trusted besides the system's, for a relay with a private certificate.
    public static let optionKeys = [
        "transport", "host", "port", "tls", "username", "password_file", "from", "reply_to", "sendmail_path", "ca_file",
    ]

    /// A sink from the `options` of its `sinks:` entry in `samverkand.yaml`.
    ///
    /// - `transport`: `smtp` (default) or `sendmail`.
    /// - smtp: `host` (required), `port` (default 465 with `tls: tls`, else 25), `tls`
    ///   (`starttls` requires STARTTLS, `tls` is TLS from the start, `none` never encrypts;
    ///   unset: `none` for a loopback host, otherwise STARTTLS when the server offers it),
    ///   `username` with `password_file` (an absolute path, or a systemd credential's name,
    ///   read from `$CREDENTIALS_DIRECTORY`), `ca_file`.
    /// - sendmail: `sendmail_path` (default `/usr/sbin/sendmail`).
    /// - Both: `from` (required; `Name <address>` or an address), `reply_to` (the coordinator).
    ///
    /// Checks that the password file and the program exist now, so a mistake shows at load.
    public init(
        name: String, options: [String: String], zone: Zone, hostname: String = EmailSink.systemHostname(),
        clock: any WallClock = SystemWallClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        trace: (@Sendable (String) -> Void)? = nil
    ) throws(OptionError) {
        func fail(_ message: String) -> OptionError { OptionError(message: "sink '\(name)': \(message)") }
        if options["password"] != nil {
            throw fail("never put a password in config; use password_file (a file or a systemd credential)")
        }
        for key in options.keys.sorted() where !Self.optionKeys.contains(key) {
            throw fail("an email sink does not take '\(key)' (it takes: \(Self.optionKeys.joined(separator: ", ")))")
        }
        guard let fromText = options["from"] else {
            throw fail("an email sink needs 'from', the sending function's address, e.g. samverkan@kommun.example")
        }
        guard let from = EmailAddress(parsing: fromText) else {
            throw fail("from '\(fromText)' is not an address (local@domain, or Name <local@domain>)")
        }
        var replyTo: EmailAddress?
        if let text = options["reply_to"] {
            guard let address = EmailAddress(parsing: text) else {
                throw fail("reply_to '\(text)' is not an address (local@domain, or Name <local@domain>)")
            }
            replyTo = address
        }
        let transport: Transport
        switch options["transport"] ?? "smtp" {
        case "smtp":
            if options["sendmail_path"] != nil {
                throw fail("sendmail_path is only for transport: sendmail")
            }
            transport = .smtp(try Self.smtpConfiguration(options, hostname: hostname, environment: environment, fail))
        case "sendmail":
            for key in ["host", "port", "tls", "username", "password_file", "ca_file"] where options[key] != nil {
                throw fail("\(key) is only for transport: smtp (sendmail takes its settings from its own config)")
            }
            let path = options["sendmail_path"] ?? "/usr/sbin/sendmail"
            guard path.hasPrefix("/") else { throw fail("sendmail_path must be an absolute path, found '\(path)'") }
            guard access(path, X_OK) == 0 else {
                throw fail(
                    "cannot run \(path): \(String(cString: strerror(errno)))"
                        + (options["sendmail_path"] == nil ? " (install msmtp-mta, or set sendmail_path)" : ""))
            }
            transport = .sendmail(path: path)
        case let other:
            throw fail("transport must be smtp or sendmail, found '\(other)'")
        }
        self.init(
            name: name, transport: transport, from: from, replyTo: replyTo, zone: zone, hostname: hostname,
            clock: clock, trace: trace)
    }

    private static func smtpConfiguration(
        _ options: [String: String], hostname: String, environment: [String: String], _ fail: (String) -> OptionError
    ) throws(OptionError) -> SMTPClient.Configuration {
        guard let host = options["host"], !host.isEmpty else {
            throw fail("transport smtp needs a 'host' (for a relay on this machine: host: 127.0.0.1)")
        }
        var security: SMTPClient.Configuration.Security
        switch options["tls"] {
        case nil: security = .startTLSIfOffered
        case "starttls": security = .startTLS
        case "tls": security = .implicitTLS
        case "none": security = .none
        case let other?: throw fail("tls must be starttls, tls or none, found '\(other)'")
        }
        var port = security == .implicitTLS ? 465 : 25
        if let text = options["port"] {
            guard let number = Int(text), (1...65535).contains(number) else {
                throw fail("port must be a number from 1 to 65535, found '\(text)'")
            }
            port = number
        }
        var config = SMTPClient.Configuration(host: host, port: port, security: security, heloName: hostname)
        if options["tls"] == nil && config.isLoopback { config.security = .none }
        switch (options["username"], options["password_file"]) {
        case (nil, nil):
            break
        case (let username?, let passwordFile?):
            config.username = username
            config.passwordFile = try passwordPath(passwordFile, environment: environment, fail)
        case (nil, _?):
            throw fail("password_file needs a username")
        case (_?, nil):
            throw fail("username needs a password_file (a file, or a systemd credential's name)")
        }
        if let caFile = options["ca_file"] {
            guard caFile.hasPrefix("/") else { throw fail("ca_file must be an absolute path, found '\(caFile)'") }
            guard access(caFile, R_OK) == 0 else {
                throw fail("cannot read ca_file \(caFile): \(String(cString: strerror(errno)))")
            }
            config.additionalTrustRootFiles = [caFile]
        }
        return config
    }

    /// An absolute path as it is; a bare name is a systemd credential (`SecretFile`).
    private static func passwordPath(
        _ value: String, environment: [String: String], _ fail: (String) -> OptionError
    ) throws(OptionError) -> String {
        do {
            return try SecretFile.path(value, key: "password_file", environment: environment)
        } catch {
            throw fail(error.message)
        }
    }

    /// This machine's host name, for the Message-ID and EHLO.
    public static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// The message this sink sends for a notice, dated now.
    public func message(for notice: OutgoingNotice) throws(SinkError) -> EmailMessage {
        try EmailMessage(
            notice: notice, from: from, replyTo: replyTo, date: clock.now(), zone: zone, hostname: hostname)
    }

    public func deliver(_ notice: OutgoingNotice) async throws(SinkError) -> DeliveryReceipt {
        let message = try message(for: notice)
        let names = RoleNames(notice)
        switch transport {
        case .smtp(let configuration):
            return try await deliverSMTP(message, notice: notice, configuration: configuration, names: names)
        case .sendmail(let path):
            return try await deliverSendmail(message, path: path, names: names)
        }
    }

    private func deliverSMTP(
        _ message: EmailMessage, notice: OutgoingNotice, configuration: SMTPClient.Configuration, names: RoleNames
    ) async throws(SinkError) -> DeliveryReceipt {
        let place = "smtp \(configuration.host):\(configuration.port)"
        let earlier = progress.accepted(notice.id)
        let pending = message.to.filter { !earlier.contains($0.lowercased()) }
        if pending.isEmpty {
            progress.forget(notice.id)
            return DeliveryReceipt(detail: "\(place): accepted earlier for every recipient")
        }
        let delivery: SMTPDelivery
        // The conversation names addresses (RCPT TO, servers' echoes): the trace gets roles.
        let trace = self.trace.map { trace in { @Sendable (line: String) in trace(names.scrub(line)) } }
        do {
            delivery = try await SMTPClient(configuration: configuration, trace: trace).send(
                message.rendered(.crlf), from: from.address, to: pending)
        } catch {
            throw SinkError(error.isTransient ? .transient : .permanent, names.scrub("\(place): \(error.message)"))
        }
        progress.record(notice.id, accepted: delivery.accepted)
        let transient = delivery.refused.filter { !$0.reply.isPermanentFailure }
        let permanent = delivery.refused.filter { $0.reply.isPermanentFailure }
        func refusals(_ list: [SMTPDelivery.Refusal]) -> String {
            list.map { "\(names.roles($0.address)) (\($0.reply))" }.joined(separator: ", ")
        }
        let acceptedNow = delivery.accepted.map(names.roles).joined(separator: ", ")
        var accepted = acceptedNow.isEmpty ? "nobody" : acceptedNow
        if !earlier.isEmpty { accepted += " (earlier: \(earlier.count) address(es))" }
        if !transient.isEmpty {
            throw SinkError(
                .transient,
                names.scrub(
                    "\(place): not accepted for now for \(refusals(transient))"
                        + (permanent.isEmpty ? "" : "; refused for \(refusals(permanent))")
                        + "; accepted for \(accepted); will retry"))
        }
        progress.forget(notice.id)
        if !permanent.isEmpty {
            throw SinkError(
                .permanent,
                names.scrub("\(place): refused for \(refusals(permanent)); delivered to \(accepted)"))
        }
        let reply = delivery.dataReply.map { ": \($0)" } ?? ""
        return DeliveryReceipt(detail: names.scrub("\(place) accepted for \(accepted)\(reply)"))
    }

    private func deliverSendmail(_ message: EmailMessage, path: String, names: RoleNames) async throws(SinkError)
        -> DeliveryReceipt
    {
        let outcome = try await Sendmail(path: path, timeout: sendmailTimeout).run(
            message: Array(message.rendered(.lf).utf8), sender: from.address)
        let output = outcome.output.split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }.joined(separator: " / ")
        let said = output.isEmpty ? "" : ": " + String(output.prefix(1000))
        let to = message.to.map(names.roles).joined(separator: ", ")
        trace?(names.scrub("\(path) -t -i: exit \(outcome.exitStatus.map(String.init) ?? "-")\(said)"))
        if outcome.timedOut {
            throw SinkError(.transient, names.scrub("\(path) did not finish within \(sendmailTimeout) and was stopped"))
        }
        let status: Int32
        switch outcome.termination {
        case .exited(let code):
            status = code
        case .signalled(let signal):
            throw SinkError(.transient, names.scrub("\(path) was killed by signal \(signal)\(said)"))
        case .unknown(let error):
            throw SinkError(
                .transient,
                names.scrub("\(path) ended, but how is not known (\(String(cString: strerror(error))))\(said)"))
        }
        switch status {
        case 0:
            return DeliveryReceipt(detail: names.scrub("sendmail \(path) took it for \(to)"))
        case 75, 69:
            // EX_TEMPFAIL: msmtp could not connect; EX_UNAVAILABLE: msmtp's mapping of a 4xx.
            throw SinkError(.transient, names.scrub("\(path) exited \(status), try again later\(said)"))
        default:
            // EX_DATAERR (65) is msmtp's mapping of a 5xx; other codes are setup errors.
            throw SinkError(.permanent, names.scrub("\(path) exited \(status)\(said)"))
        }
    }
}

/// Roles by address, to name recipients in logs without their addresses.
private struct RoleNames: Sendable {
    private var byAddress: [String: [String]] = [:]

    init(_ notice: OutgoingNotice) {
        for recipient in notice.recipients {
            guard let address = recipient.address?.trimmingCharacters(in: .whitespaces).lowercased(),
                !address.isEmpty
            else { continue }
            if byAddress[address]?.contains(recipient.role) != true {
                byAddress[address, default: []].append(recipient.role)
            }
        }
    }

    /// `samordnare`, or `samordnare+kommunpolis` when two roles share an address.
    func roles(_ address: String) -> String {
        byAddress[address.lowercased()]?.joined(separator: "+") ?? "a recipient"
    }

    /// The text with every recipient address replaced by its roles: servers echo addresses
    /// in their replies (`550 5.1.1 <x@y>: Recipient address rejected`).
    func scrub(_ text: String) -> String {
        var result = text
        for (address, roles) in byAddress.sorted(by: { $0.key.count > $1.key.count }) {
            result = result.replacingOccurrences(
                of: address, with: "[" + roles.joined(separator: "+") + "]", options: .caseInsensitive)
        }
        return result
    }
}

/// Which recipients of a notice the server already took, so a retry after a 4xx for one
/// recipient does not send the others a second copy. In memory only, and bounded: after a
/// restart the retry goes to all, and the same Message-ID lets receivers drop the copy.
private final class DeliveryProgress: Sendable {
    private static let limit = 10_000
    private let state = Mutex<[String: Set<String>]>([:])

    func accepted(_ noticeID: String) -> Set<String> {
        state.withLock { $0[noticeID] ?? [] }
    }

    func record(_ noticeID: String, accepted: [String]) {
        guard !accepted.isEmpty else { return }
        state.withLock { state in
            if state[noticeID] == nil && state.count >= Self.limit { state.removeAll() }
            state[noticeID, default: []].formUnion(accepted.map { $0.lowercased() })
        }
    }

    func forget(_ noticeID: String) {
        _ = state.withLock { $0.removeValue(forKey: noticeID) }
    }
}
