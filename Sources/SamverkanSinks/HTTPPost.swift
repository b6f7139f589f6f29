import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SamverkanConfig
import Synchronization

/// One HTTP/1.1 POST on a connection of its own (`Connection: close`), over SwiftNIO, with one
/// time limit for the whole exchange: connecting, the TLS handshake, sending, and reading the
/// response. Redirects are not followed. The response body is read up to `responseLimit`
/// bytes, for an excerpt in errors, and the rest is not waited for.
struct HTTPPost: Sendable {
    struct Response: Sendable {
        var status: Int
        var reason: String
        var headers: [(name: String, value: String)]
        /// The first `responseLimit` bytes of the body.
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    static let responseLimit = 64 * 1024

    var url: SinkConfig.WebhookURL
    /// Sent as given, after `Host`, `Content-Length` and `Connection: close`.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var timeout: Duration
    /// For https; nil for http.
    var tlsContext: NIOSSLContext?

    /// The response, whatever its status; throws when there was none (with the error
    /// classified: a refused connection and a time-out are transient, a certificate that does
    /// not verify permanent).
    func send() async throws(SinkError) -> Response {
        let origin = url.origin
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let tlsContext = self.tlsContext
        let serverName = SMTPClient.sniName(url.host)
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if let tlsContext {
                            try pipeline.addHandler(
                                NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                        }
                        try pipeline.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch ChannelError.connectTimeout {
            throw SinkError(.transient, "cannot connect to \(origin) within \(timeout)")
        } catch {
            throw SinkError(.transient, "cannot connect to \(origin): \(SMTPClient.describe(error))")
        }

        // The rest of the time limit: closing the connection ends a write or a read at once.
        let timedOut = TimedOut()
        let timer = channel.channel.eventLoop.scheduleTask(deadline: deadline) { [channel = channel.channel] in
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: url.target)
        head.headers.add(name: "Host", value: url.hostHeader)
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let request = head
        let body = ByteBuffer(bytes: self.body)

        do {
            return try await channel.executeThenClose { inbound, outbound in
                // A server may answer (413, 401) and close before it has read the whole body:
                // its answer still counts, so a failed write is only reported without one.
                var writeError: (any Error)?
                do {
                    try await outbound.write(.head(request))
                    try await outbound.write(.body(.byteBuffer(body)))
                    try await outbound.write(.end(nil))
                } catch {
                    writeError = error
                }
                var response: Response?
                do {
                    reading: for try await part in inbound {
                        switch part {
                        case .head(let head):
                            response = Response(
                                status: Int(head.status.code), reason: head.status.reasonPhrase,
                                headers: head.headers.map { ($0.name, $0.value) }, body: [])
                        case .body(let chunk):
                            let room = Self.responseLimit - (response?.body.count ?? 0)
                            response?.body += chunk.readableBytesView.prefix(max(room, 0))
                            if chunk.readableBytes >= room { break reading }
                        case .end:
                            break reading
                        }
                    }
                } catch  where response != nil {
                    // The status and headers arrived; a broken body (a TLS peer that closed
                    // without close_notify) does not change what the server said.
                }
                if let response { return response }
                throw writeError ?? ChannelError.eof
            }
        } catch {
            if timedOut.isSet {
                throw SinkError(.transient, "\(origin) did not answer within \(timeout)")
            }
            if case ChannelError.eof = error {
                throw SinkError(.transient, "\(origin) closed the connection without an answer")
            }
            let classified = SMTPClient.classify(error, where: origin)
            throw SinkError(classified.isTransient ? .transient : .permanent, classified.message)
        }
    }
}

/// Set by the timer before it closes the connection, so the failure can say why.
private final class TimedOut: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
