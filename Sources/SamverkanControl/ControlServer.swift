import CSystemd
public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP/1.1 on a Unix socket: either a path we bind, or a listening socket inherited from
/// systemd socket activation (platform.md 3).
public final class ControlServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    struct Accepted: Sendable {
        var connection: Connection
        var peer: PeerCredentials?
    }

    /// The largest request body accepted (64 KiB, `design.md`).
    public static let maximumBodySize = 64 * 1024
    /// Connections served at once; more get 503 and are closed.
    public static let maximumConnections = 256
    /// The whole request must arrive within this time; an idle keep-alive connection is closed after the other.
    public static let requestTimeout = TimeAmount.seconds(10)
    public static let idleTimeout = TimeAmount.seconds(60)

    private let active = Atomic<Int>(0)

    private let server: NIOAsyncChannel<Accepted, Never>
    private let handler: any ControlHandler
    private let logger: Logger
    /// Where the socket is, for messages: the path, or "inherited socket".
    public let address: String

    private init(server: NIOAsyncChannel<Accepted, Never>, handler: any ControlHandler, logger: Logger, address: String)
    {
        self.server = server
        self.handler = handler
        self.logger = logger
        self.address = address
    }

    /// Binds (or adopts) the listening socket. When this returns, clients can connect: the
    /// kernel queues them until `run()` accepts.
    public static func start(
        path: String, inheritedSocket: Int32?, group: any EventLoopGroup, handler: any ControlHandler, logger: Logger
    ) async throws -> ControlServer {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Accepted> = { channel in
            let credentials: EventLoopFuture<PeerCredentials?>
            if let provider = channel as? any SocketOptionProvider {
                let raw: EventLoopFuture<cs_ucred> = provider.unsafeGetSocketOption(
                    level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
                credentials = raw.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
                    .recover { _ in nil }
            } else {
                credentials = channel.eventLoop.makeSucceededFuture(nil)
            }
            return credentials.flatMapThrowing { peer in
                var limits = NIOHTTPDecoderLimitConfiguration()
                limits.maxHeaderFieldSize = 8 * 1024
                limits.maxHeaderListSize = 32 * 1024
                limits.maxHeaderFieldCount = 100
                // The server pipeline of NIO, with our guard between the decoder and the pipelining
                // handler: the guard's own answers (400, 408, 431) must not pass the pipelining
                // handler, which only expects answers to requests it has seen.
                let pipeline = channel.pipeline.syncOperations
                try pipeline.addHandler(HTTPResponseEncoder())
                try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(limitConfiguration: limits)))
                try pipeline.addHandler(ConnectionGuard(requestTimeout: requestTimeout, idleTimeout: idleTimeout))
                try pipeline.addHandler(HTTPServerPipelineHandler())
                // Half-closure: `finish()` shuts the output once every byte is written, so a large
                // answer is never cut off by closing the connection under it.
                return Accepted(
                    connection: try Connection(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true)),
                    peer: peer)
            }
        }
        let server: NIOAsyncChannel<Accepted, Never>
        let address: String
        if let fd = inheritedSocket {
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
            address = "inherited socket (fd \(fd))"
        } else {
            server = try await bootstrap.bind(
                unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            // NIO never sets the mode; under UMask=0077 only the owner could connect (unix(7)).
            chmod(path, 0o660)
            address = path
        }
        return ControlServer(server: server, handler: handler, logger: logger, address: address)
    }

    /// Accepts and serves connections until the task is cancelled.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await accepted in inbound {
                        group.addTask { await self.serve(accepted) }
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    /// `{"error": {"code", "message"}}` as bytes.
    static func errorBody(code: String, message: String) -> [UInt8] {
        ControlResponse.error(status: 400, code: code, message: message).body
    }

    private func serve(_ accepted: Accepted) async {
        let count = active.wrappingAdd(1, ordering: .relaxed).newValue
        defer { active.wrappingSubtract(1, ordering: .relaxed) }
        let overCapacity = count > Self.maximumConnections
        do {
            try await accepted.connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var tooLarge = false
                // After the last answer: the output is shut once it is all written, and the
                // connection ends when the client closes (or the idle time-out closes it).
                var closing = false
                for try await part in inbound {
                    if closing { continue }
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body = []
                        tooLarge = false
                        // Refuse a declared oversized body at once instead of reading it.
                        if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init),
                            length > Self.maximumBodySize
                        {
                            let response = ControlResponse(
                                status: 413,
                                body: Self.errorBody(code: "body_too_large", message: "request body over 64 KiB"))
                            try await Self.write(response, version: requestHead.version, keepAlive: false, to: outbound)
                            outbound.finish()
                            closing = true
                        }
                    case .body(let buffer):
                        if body.count + buffer.readableBytes > Self.maximumBodySize {
                            tooLarge = true
                        } else {
                            body.append(contentsOf: buffer.readableBytesView)
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        let response: ControlResponse
                        if overCapacity {
                            // Answered once the request is read: a response before its request
                            // would break HTTP/1.1 pipelining.
                            response = ControlResponse(
                                status: 503,
                                body: Self.errorBody(code: "busy", message: "too many connections; try again"))
                        } else if tooLarge {
                            response = ControlResponse(
                                status: 413,
                                body: Self.errorBody(code: "body_too_large", message: "request body over 64 KiB"))
                        } else {
                            let (path, query) = ControlRequest.split(target: requestHead.uri)
                            let request = ControlRequest(
                                method: requestHead.method.rawValue, path: path, query: query,
                                headers: requestHead.headers.map { ($0.name, $0.value) }, body: body,
                                peer: accepted.peer)
                            response = await handler.handle(request)
                        }
                        let keepAlive = requestHead.isKeepAlive && !tooLarge && !overCapacity
                        try await Self.write(response, version: requestHead.version, keepAlive: keepAlive, to: outbound)
                        if !keepAlive {
                            outbound.finish()
                            closing = true
                        }
                        head = nil
                    }
                }
            }
        } catch {
            logger.debug("control connection ended: \(error)")
        }
    }

    private static func write(
        _ response: ControlResponse, version: HTTPVersion, keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Server", value: "samverkand")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        // One write of all three parts: one flush, one syscall for a small answer.
        try await outbound.write(contentsOf: [
            .head(
                HTTPResponseHead(
                    version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)),
            .body(.byteBuffer(ByteBuffer(bytes: response.body))),
            .end(nil),
        ])
    }
}
