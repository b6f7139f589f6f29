import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A failed SMTP conversation, classified so the sink can say whether to retry.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        /// The TCP connection could not be made (refused, unreachable, timed out).
        public static let connect = Code(name: "connect")
        /// The server did not answer in time.
        public static let timeout = Code(name: "timeout")
        /// The server closed the connection or it broke.
        public static let connection = Code(name: "connection")
        /// The server sent something that is not SMTP.
        public static let protocolViolation = Code(name: "protocol")
        /// TLS failed for a reason other than the certificate.
        public static let tls = Code(name: "tls")
        /// The server's certificate did not verify against the trust roots or the host name.
        public static let certificate = Code(name: "certificate")
        /// TLS is required and the server does not offer STARTTLS.
        public static let startTLSUnavailable = Code(name: "starttls-unavailable")
        /// Logging in failed, or cannot be done safely.
        public static let authentication = Code(name: "authentication")
        /// The server refused the session, the sender or the message.
        public static let rejected = Code(name: "rejected")
        /// Something on this side: an unreadable password file, an invalid setting.
        public static let configuration = Code(name: "configuration")
        public var description: String { name }
    }

    public var code: Code
    /// What went wrong, for logs: never holds the password.
    public var message: String
    /// The server's reply, when one caused the error.
    public var reply: SMTPReply?
    /// True when trying again later may succeed.
    public var isTransient: Bool

    public init(_ code: Code, _ message: String, reply: SMTPReply? = nil, isTransient: Bool) {
        self.code = code
        self.message = message
        self.reply = reply
        self.isTransient = isTransient
    }

    public var description: String { message }
}

/// What happened to each recipient of a message the server was given.
public struct SMTPDelivery: Sendable, Hashable {
    public struct Refusal: Sendable, Hashable {
        public var address: String
        public var reply: SMTPReply
    }

    /// Recipients the server took the message for.
    public var accepted: [String]
    /// Recipients the server refused (4xx: for now; 5xx: for good), with its reply.
    public var refused: [Refusal]
    /// The server's reply to the end of the message; nil when no recipient was accepted and
    /// no message was sent.
    public var dataReply: SMTPReply?
}

/// A minimal SMTP client (RFC 5321) over SwiftNIO, for one message a connection: EHLO (HELO
/// when EHLO is refused), STARTTLS (RFC 3207) or implicit TLS (RFC 8314), AUTH PLAIN or LOGIN
/// (RFC 4954), MAIL, one RCPT per recipient, DATA with dot-stuffing, QUIT. No pipelining.
///
/// The password is read from a file at each delivery (so a rotated password needs no reload),
/// held only as bytes, and never written to the trace, an error or a description.
public struct SMTPClient: Sendable {
    public struct Configuration: Sendable {
        /// How the connection is protected.
        public enum Security: String, Sendable {
            /// STARTTLS, required: a server that does not offer it is an error.
            case startTLS = "starttls"
            /// TLS from the first byte (port 465, RFC 8314).
            case implicitTLS = "tls"
            /// Plain TCP, never STARTTLS: for a relay on this machine.
            case none
            /// STARTTLS when the server offers it, plain TCP when it does not. A certificate
            /// that does not verify is still an error, and no password is sent in clear text
            /// except to a loopback address.
            case startTLSIfOffered = "starttls-if-offered"
        }

        public var host: String
        public var port: Int
        public var security: Security
        /// The name this client gives in EHLO: this machine's name.
        public var heloName: String
        public var username: String?
        /// A file holding the password (its trailing line break is dropped).
        public var passwordFile: String?
        /// PEM files of CAs trusted besides the system's roots (a private relay's CA; tests).
        public var additionalTrustRootFiles: [String]
        public var connectTimeout: Duration
        /// How long to wait for each reply, and for a command to be written.
        public var replyTimeout: Duration

        public init(
            host: String, port: Int, security: Security, heloName: String, username: String? = nil,
            passwordFile: String? = nil, additionalTrustRootFiles: [String] = [],
            connectTimeout: Duration = .seconds(30),
            replyTimeout: Duration = .seconds(60)
        ) {
            self.host = host
            self.port = port
            self.security = security
            self.heloName = heloName
            self.username = username
            self.passwordFile = passwordFile
            self.additionalTrustRootFiles = additionalTrustRootFiles
            self.connectTimeout = connectTimeout
            self.replyTimeout = replyTimeout
        }

        /// `localhost`, `127.0.0.0/8` or `::1`: traffic that never leaves the machine.
        public var isLoopback: Bool {
            if host == "localhost" || host == "::1" || host == "[::1]" { return true }
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.first == "127" && parts.allSatisfy { UInt8($0) != nil }
        }
    }

    public let configuration: Configuration
    /// Receives each line of the conversation (`C: MAIL FROM:<…>`, `S: 250 OK`), with AUTH
    /// payloads replaced by `<redacted>` and the message by its size: for debug logging.
    public let trace: (@Sendable (String) -> Void)?

    public init(configuration: Configuration, trace: (@Sendable (String) -> Void)? = nil) {
        self.configuration = configuration
        self.trace = trace
    }

    /// Sends one message to the recipients. `message` is the whole message with CRLF line
    /// endings (`EmailMessage.rendered(.crlf)`).
    ///
    /// Returns what happened to each recipient when the server took the envelope; throws
    /// when the session, the sender or the message failed as a whole.
    public func send(_ message: String, from sender: String, to recipients: [String]) async throws(SMTPError)
        -> SMTPDelivery
    {
        let config = configuration
        let where_ = "\(config.host):\(config.port)"
        let password = try readPassword()
        let tlsContext = try makeTLSContext()
        let serverName = Self.sniName(config.host)
        let implicitTLS = config.security == .implicitTLS
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let handshake: EventLoopFuture<Void>?
        do {
            (channel, handshake) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(config.connectTimeout))
                .connect(host: config.host, port: config.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        var handshake: EventLoopFuture<Void>?
                        if implicitTLS, let tlsContext {
                            handshake = try TLSHandshakeWaiter.addTLS(
                                to: channel, context: tlsContext, serverName: serverName)
                        }
                        let wrapped = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        return (wrapped, handshake)
                    }
                }
        } catch {
            throw SMTPError(.connect, "cannot connect to \(where_): \(Self.describe(error))", isTransient: true)
        }
        let timedOut = TimeoutFlag()
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var session = Session(
                    channel: channel.channel, iterator: inbound.makeAsyncIterator(), outbound: outbound,
                    timedOut: timedOut, config: config, trace: trace)
                return try await session.run(
                    message: message, sender: sender, recipients: recipients, password: password,
                    tlsContext: tlsContext, serverName: serverName, implicitHandshake: handshake)
            }
        } catch let error as SMTPError {
            throw error
        } catch {
            if timedOut.isSet {
                throw SMTPError(
                    .timeout, "\(where_) did not answer within \(config.replyTimeout)", isTransient: true)
            }
            throw Self.classify(error, where: where_)
        }
    }

    /// The password file's bytes without the trailing line break (`SecretFile`), read at each
    /// delivery. Unreadable is transient (a credential being replaced); empty is permanent.
    private func readPassword() throws(SMTPError) -> [UInt8]? {
        guard configuration.username != nil else { return nil }
        guard let path = configuration.passwordFile else {
            throw SMTPError(.configuration, "a username is set but no password_file", isTransient: false)
        }
        switch SecretFile.read(path) {
        case .success(let bytes):
            return bytes
        case .failure(.unreadable(let reason)):
            throw SMTPError(.configuration, "cannot read the password file \(path): \(reason)", isTransient: true)
        case .failure(.empty):
            throw SMTPError(.configuration, "the password file \(path) is empty", isTransient: false)
        case .failure(.tooLarge):
            throw SMTPError(
                .configuration, "the password file \(path) holds more than \(SecretFile.limit) bytes",
                isTransient: false)
        }
    }

    private func makeTLSContext() throws(SMTPError) -> NIOSSLContext? {
        guard configuration.security != .none else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .default
        tls.additionalTrustRoots = configuration.additionalTrustRootFiles.map { .file($0) }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            let files = configuration.additionalTrustRootFiles.joined(separator: ", ")
            throw SMTPError(
                .configuration, "cannot set up TLS (trust roots: system\(files.isEmpty ? "" : ", " + files)): \(error)",
                isTransient: false)
        }
    }

    /// The name sent in SNI and checked against the certificate; nil for an IP address, whose
    /// certificate is then checked for that address.
    static func sniName(_ host: String) -> String? {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if (try? SocketAddress(ipAddress: bare, port: 0)) != nil { return nil }
        return bare
    }

    static func classify(_ error: any Error, where place: String) -> SMTPError {
        if let error = error as? SMTPError { return error }
        if let ssl = error as? NIOSSLError {
            switch ssl {
            // BoringSSL names a failed chain or host name check so; NIOSSL has no case for it.
            case .handshakeFailed(let inner) where "\(inner)".contains("CERTIFICATE_VERIFY_FAILED"):
                return SMTPError(
                    .certificate,
                    "the certificate of \(place) does not verify against the trust roots: \(ssl)", isTransient: false)
            case .unableToValidateCertificate:
                return SMTPError(.certificate, "the certificate of \(place) cannot be validated", isTransient: false)
            default:
                return SMTPError(.tls, "TLS with \(place) failed: \(ssl)", isTransient: true)
            }
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return SMTPError(
                .certificate, "the certificate of \(place) is not for that host name: \(extra)", isTransient: false)
        }
        return SMTPError(.connection, "the connection to \(place) failed: \(describe(error))", isTransient: true)
    }

    static func describe(_ error: any Error) -> String {
        if let connection = error as? NIOConnectionError {
            let reasons = connection.connectionErrors.map { "\($0.target): \($0.error)" }
            return reasons.isEmpty ? "\(connection)" : reasons.joined(separator: "; ")
        }
        return "\(error)"
    }

    /// The message as DATA sends it: a line that starts with `.` gets a second one
    /// (RFC 5321 §4.5.2), the last line ends in CRLF, and `.` CRLF ends it.
    static func dotStuffed(_ message: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(message.utf8.count + 64)
        var atLineStart = true
        for byte in message.utf8 {
            if atLineStart && byte == UInt8(ascii: ".") { output.append(byte) }
            output.append(byte)
            atLineStart = byte == 0x0A
        }
        if !atLineStart { output += [0x0D, 0x0A] }
        output += Array(".\r\n".utf8)
        return output
    }
}

/// One conversation on an open connection.
private struct Session {
    let channel: any Channel
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let timedOut: TimeoutFlag
    let config: SMTPClient.Configuration
    let trace: (@Sendable (String) -> Void)?
    var decoder = SMTPReplyDecoder()
    var isEncrypted = false

    var place: String { "\(config.host):\(config.port)" }

    mutating func run(
        message: String, sender: String, recipients: [String], password: [UInt8]?, tlsContext: NIOSSLContext?,
        serverName: String?, implicitHandshake: EventLoopFuture<Void>?
    ) async throws -> SMTPDelivery {
        do {
            return try await converse(
                message: message, sender: sender, recipients: recipients, password: password, tlsContext: tlsContext,
                serverName: serverName, implicitHandshake: implicitHandshake)
        } catch let error as SMTPError where error.reply != nil {
            // The server refused something and still listens: say goodbye (RFC 5321 §4.1.1.10).
            await quit()
            throw error
        }
    }

    private mutating func converse(
        message: String, sender: String, recipients: [String], password: [UInt8]?, tlsContext: NIOSSLContext?,
        serverName: String?, implicitHandshake: EventLoopFuture<Void>?
    ) async throws -> SMTPDelivery {
        if let implicitHandshake {
            try await awaitHandshake(implicitHandshake)
            isEncrypted = true
            trace?("-- TLS started")
        }
        try expect(await exchange(nil), "the greeting", success: 220)
        var capabilities = try await hello()

        if !isEncrypted && (config.security == .startTLS || config.security == .startTLSIfOffered) {
            if capabilities["STARTTLS"] != nil, let tlsContext {
                try expect(await exchange("STARTTLS"), "STARTTLS", success: 220)
                guard decoder.isEmpty else {
                    throw SMTPError(
                        .protocolViolation,
                        "\(place) sent data after agreeing to STARTTLS and before TLS began; refusing to go on",
                        isTransient: true)
                }
                let handshake = try await channel.eventLoop.submit { [channel] in
                    try TLSHandshakeWaiter.addTLS(to: channel, context: tlsContext, serverName: serverName, first: true)
                }.get()
                try await awaitHandshake(handshake)
                isEncrypted = true
                trace?("-- TLS started")
                // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
                capabilities = try await hello()
            } else if config.security == .startTLS {
                throw SMTPError(
                    .startTLSUnavailable,
                    "\(place) does not offer STARTTLS, and tls: starttls requires it; use tls: none only for a relay "
                        + "on this machine", isTransient: false)
            }
        }

        if let username = config.username, let password {
            try await authenticate(username: username, password: password, capabilities: capabilities)
        }

        try expect(await exchange("MAIL FROM:<\(sender)>"), "the sender (MAIL FROM)", success: 250)
        var delivery = SMTPDelivery(accepted: [], refused: [], dataReply: nil)
        for recipient in recipients {
            let reply = try await exchange("RCPT TO:<\(recipient)>")
            if reply.code == 250 || reply.code == 251 {
                delivery.accepted.append(recipient)
            } else if reply.isTransientFailure || reply.isPermanentFailure {
                delivery.refused.append(SMTPDelivery.Refusal(address: recipient, reply: reply))
            } else {
                throw SMTPError(
                    .protocolViolation, "\(place) answered RCPT with an unexpected \(reply)", reply: reply,
                    isTransient: true)
            }
        }
        guard !delivery.accepted.isEmpty else {
            await quit()
            return delivery
        }
        try expect(await exchange("DATA"), "DATA", success: 354)
        let bytes = SMTPClient.dotStuffed(message)
        let reply = try await exchange(raw: bytes, shown: "<message, \(bytes.count) bytes>")
        try expect(reply, "the message", success: 250)
        delivery.dataReply = reply
        await quit()
        return delivery
    }

    /// EHLO, or HELO when the server refuses EHLO; the extensions it offers, by keyword.
    private mutating func hello() async throws -> [String: [String]] {
        let reply = try await exchange("EHLO \(config.heloName)")
        if reply.code == 250 {
            var capabilities: [String: [String]] = [:]
            for line in reply.lines.dropFirst() {
                let words = line.split(separator: " ").map(String.init)
                guard var keyword = words.first?.uppercased() else { continue }
                var parameters = Array(words.dropFirst())
                // Old servers write `AUTH=LOGIN PLAIN`.
                if keyword.hasPrefix("AUTH=") {
                    parameters.insert(String(keyword.dropFirst(5)), at: 0)
                    keyword = "AUTH"
                }
                capabilities[keyword, default: []] += parameters.map { $0.uppercased() }
            }
            return capabilities
        }
        guard reply.isPermanentFailure else {
            try expect(reply, "EHLO", success: 250)
            return [:]
        }
        try expect(await exchange("HELO \(config.heloName)"), "HELO", success: 250)
        return [:]
    }

    private mutating func authenticate(username: String, password: [UInt8], capabilities: [String: [String]])
        async throws
    {
        guard isEncrypted || config.isLoopback else {
            throw SMTPError(
                .authentication,
                "refusing to send the password unencrypted to \(place); use tls: starttls or tls: tls",
                isTransient: false)
        }
        guard let mechanisms = capabilities["AUTH"] else {
            throw SMTPError(
                .authentication,
                "\(place) offers no AUTH (after \(isEncrypted ? "TLS" : "EHLO")); "
                    + "remove username and password_file, or check the server", isTransient: false)
        }
        let user = Array(username.utf8)
        let reply: SMTPReply
        if mechanisms.contains("PLAIN") {
            let payload = Data([0] + user + [0] + password).base64EncodedString()
            reply = try await exchange(
                raw: Array("AUTH PLAIN \(payload)\r\n".utf8), shown: "AUTH PLAIN <redacted>")
        } else if mechanisms.contains("LOGIN") {
            try expect(await exchange("AUTH LOGIN"), "AUTH LOGIN", success: 334)
            let userLine = Data(user).base64EncodedString() + "\r\n"
            try expect(await exchange(raw: Array(userLine.utf8), shown: "<username>"), "AUTH LOGIN", success: 334)
            let passwordLine = Data(password).base64EncodedString() + "\r\n"
            reply = try await exchange(raw: Array(passwordLine.utf8), shown: "<redacted>")
        } else {
            throw SMTPError(
                .authentication,
                "\(place) offers AUTH \(mechanisms.joined(separator: " ")) but not PLAIN or LOGIN", isTransient: false)
        }
        guard reply.code == 235 else {
            throw SMTPError(
                .authentication, "\(place) refused the login of user \(username): \(reply)", reply: reply,
                isTransient: reply.isTransientFailure)
        }
    }

    /// Waits for the TLS handshake, within the reply timeout, so a certificate error is
    /// reported as such and not as the failed write that would follow it.
    private func awaitHandshake(_ handshake: EventLoopFuture<Void>) async throws {
        let timedOut = self.timedOut
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(config.replyTimeout)) {
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        try await handshake.get()
    }

    /// QUIT, waiting at most 5 seconds for the goodbye: nothing depends on it.
    private mutating func quit() async {
        _ = try? await exchange(
            raw: Array("QUIT\r\n".utf8), shown: "QUIT", timeout: min(config.replyTimeout, .seconds(5)))
    }

    /// Fails unless `reply` has the expected code: 4xx (and anything unexpected) for now,
    /// 5xx for good.
    private func expect(_ reply: SMTPReply, _ what: String, success code: Int) throws {
        guard reply.code != code else { return }
        if code == 250 && reply.isPositive { return }
        let transient = !reply.isPermanentFailure
        throw SMTPError(
            reply.isTransientFailure || reply.isPermanentFailure ? .rejected : .protocolViolation,
            "\(place) refused \(what): \(reply)", reply: reply, isTransient: transient)
    }

    private mutating func exchange(_ command: String?) async throws -> SMTPReply {
        guard let command else { return try await exchange(raw: nil, shown: nil) }
        return try await exchange(raw: Array((command + "\r\n").utf8), shown: command)
    }

    /// Writes `raw` (when given) and reads one reply, all within the reply timeout: the timer
    /// closes the connection, which ends the read.
    private mutating func exchange(raw: [UInt8]?, shown: String?, timeout: Duration? = nil) async throws -> SMTPReply {
        let timedOut = self.timedOut
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout ?? config.replyTimeout)) {
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        if let raw {
            if let shown { trace?("C: " + shown) }
            try await outbound.write(ByteBuffer(bytes: raw))
        }
        while true {
            do {
                if let reply = try decoder.next() {
                    for (index, line) in reply.lines.enumerated() {
                        trace?("S: \(reply.code)\(index == reply.lines.count - 1 ? " " : "-")\(line)")
                    }
                    return reply
                }
            } catch {
                throw SMTPError(.protocolViolation, "\(place): \(error)", isTransient: true)
            }
            guard let chunk = try await iterator.next() else {
                if timedOut.isSet {
                    throw SMTPError(
                        .timeout, "\(place) did not answer within \(config.replyTimeout)", isTransient: true)
                }
                throw SMTPError(.connection, "\(place) closed the connection", isTransient: true)
            }
            decoder.append(chunk.readableBytesView)
        }
    }
}

/// Set by the reply timer before it closes the connection, so the ended read can say why.
/// A `Mutex` makes it safe to set on the event loop and read in the task.
private final class TimeoutFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// Added right after the TLS handler: completes when the handshake is done, fails with the
/// handshake's error (a certificate that does not verify) or when the connection closes.
private final class TLSHandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private var done = false

    private init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    /// Adds a TLS client handler and a waiter behind it; call on the channel's event loop.
    static func addTLS(to channel: any Channel, context: NIOSSLContext, serverName: String?, first: Bool = false)
        throws -> EventLoopFuture<Void>
    {
        let tls = try NIOSSLClientHandler(context: context, serverHostname: serverName)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(tls, position: first ? .first : .last)
        try pipeline.addHandler(TLSHandshakeWaiter(promise: promise), position: .after(tls))
        return promise.futureResult
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
    }
}
