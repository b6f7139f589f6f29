import NIOCore
import NIOHTTP1

/// Sits after the HTTP decoder: answers protocol errors (garbage, oversized headers) with a
/// JSON error instead of a bare 400, and closes a connection whose request does not arrive in
/// time (a client sending a byte a second) or that stays idle between requests.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var inRequest = false
    /// The request clock runs from the first byte of a request until its end.
    private var requestClockRunning = false
    private var answered = false

    init(requestTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, after: idleTimeout, status: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, after: idleTimeout, status: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head:
            inRequest = true
            // The whole request (head and body) must be in within the request time-out.
            if !requestClockRunning {
                requestClockRunning = true
                arm(context, after: requestTimeout, status: 408)
            }
        case .body:
            break
        case .end:
            inRequest = false
            requestClockRunning = false
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes arrived but no request head yet: the first bytes start the request clock too.
        if !inRequest, !requestClockRunning {
            requestClockRunning = true
            arm(context, after: requestTimeout, status: 408)
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), !inRequest, !requestClockRunning {
            arm(context, after: idleTimeout, status: nil)
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let (status, code, message): (Int, String, String)
        switch parserError {
        case .headerOverflow:
            (status, code, message) = (431, "headers_too_large", "request headers are too large or too many")
        case .invalidContentLength, .unexpectedContentLength:
            (status, code, message) = (400, "bad_content_length", "the Content-Length is invalid")
        default:
            (status, code, message) = (400, "bad_request", "the request is not valid HTTP/1.1 (\(parserError))")
        }
        respondAndClose(context, status: status, code: code, message: message)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    private func arm(_ context: ChannelHandlerContext, after delay: TimeAmount, status: Int?) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            if let status {
                handler.respondAndClose(
                    context, status: status, code: "request_timeout", message: "the request did not arrive in time")
            } else {
                context.close(promise: nil)
            }
        }
    }

    private func respondAndClose(_ context: ChannelHandlerContext, status: Int, code: String, message: String) {
        guard !answered else { return }
        answered = true
        timer?.cancel()
        let body = ControlServer.errorBody(code: code, message: message)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}
