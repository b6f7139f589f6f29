public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small synchronous HTTP/1.1 client for the control socket: one request per connection,
/// no dependencies, so `samverkanctl` starts in milliseconds.
public struct ControlClient: Sendable {
    public let socketPath: String
    public var timeoutSeconds: Int

    public init(socketPath: String, timeoutSeconds: Int = 30) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
    }

    /// Why the daemon could not be reached, with the errno that said so.
    public struct ConnectError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var errno: Int32
        public var description: String {
            let reason = String(cString: strerror(errno))
            var hint = ""
            switch errno {
            case EACCES, EPERM: hint = " — are you in group samverkan?"
            case ENOENT: hint = " — is samverkand running? (systemctl status samverkand)"
            case ECONNREFUSED: hint = " — the socket exists but nobody listens; is samverkand running?"
            default: break
            }
            return "cannot reach samverkand at \(path): \(reason.lowercased())\(hint)"
        }
    }

    public struct ProtocolError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public func request(_ method: String, _ target: String, body: Data? = nil) throws -> Response {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ConnectError(path: socketPath, errno: errno) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ProtocolError(description: "socket path is too long: \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw ConnectError(path: socketPath, errno: errno) }

        var head =
            "\(method) \(target) HTTP/1.1\r\nHost: samverkand\r\nConnection: close\r\nUser-Agent: samverkanctl\r\n"
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        } else if method == "POST" {
            head += "Content-Length: 0\r\n"
        }
        var message = Array((head + "\r\n").utf8)
        if let body { message.append(contentsOf: body) }
        try writeAll(fd, message)

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ProtocolError(
                    description: "reading the answer from \(socketPath) failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            received.append(contentsOf: buffer[0..<n])
            if let response = Self.parse(received) { return response }
        }
        guard let response = Self.parse(received, complete: true) else {
            throw ProtocolError(description: "samverkand closed the connection without a complete answer")
        }
        return response
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(fd, base + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ProtocolError(description: "sending to \(socketPath) failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Parses a full response once its head and `Content-Length` bytes of body are in.
    static func parse(_ bytes: [UInt8], complete: Bool = false) -> Response? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.dropLast(3).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            return nil
        }
        let headText = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let body = bytes[(end + 4)...]
        if let length = headers["content-length"].flatMap(Int.init) {
            guard body.count >= length else { return nil }
            return Response(status: status, headers: headers, body: Data(body.prefix(length)))
        }
        return complete ? Response(status: status, headers: headers, body: Data(body)) : nil
    }
}
