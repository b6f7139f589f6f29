import Foundation
import SamverkanCore

/// One HTTP request on the control socket, decoded, with who sent it.
public struct ControlRequest: Sendable {
    public var method: String
    /// The path with percent-escapes decoded, without the query: `/v1/deadlines`.
    public var path: String
    public var query: [String: String]
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var peer: PeerCredentials?

    public init(
        method: String, path: String, query: [String: String] = [:], headers: [(name: String, value: String)] = [],
        body: [UInt8] = [], peer: PeerCredentials? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peer = peer
    }

    /// Splits a request target into a decoded path and query parameters.
    public static func split(target: String) -> (path: String, query: [String: String]) {
        let pieces = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = percentDecoded(String(pieces[0])) ?? String(pieces[0])
        var query: [String: String] = [:]
        if pieces.count == 2 {
            for pair in pieces[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = percentDecoded(String(kv[0]).plusAsSpace) ?? String(kv[0])
                let value = kv.count == 2 ? percentDecoded(String(kv[1]).plusAsSpace) ?? "" : ""
                query[key] = value
            }
        }
        return (path, query)
    }

    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// The answer to a control request.
public struct ControlResponse: Sendable {
    /// A 4xx or 5xx answer with the error object of `design.md`: `{"error": {"code", "message"}}`.
    public static func error(status: Int, code: String, message: String, details: [String]? = nil) -> ControlResponse {
        ControlResponse(status: status, body: json(ErrorView(code: code, message: message, details: details)))
    }

    /// A value as compact JSON with sorted keys and a final newline.
    public static func json(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)).map(Array.init)
        return (data ?? Array(#"{"error":{"code":"internal","message":"encoding failed"}}"#.utf8)) + [0x0A]
    }

    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Headers beyond Content-Type, Content-Length and Server (`Allow` of a 405).
    public var headers: [(name: String, value: String)]

    public init(
        status: Int, contentType: String = "application/json", body: [UInt8],
        headers: [(name: String, value: String)] = []
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }
}

/// The peer of a Unix socket connection, from `SO_PEERCRED`.
public struct PeerCredentials: Sendable, Hashable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// Maps requests to answers; the daemon implements it, the server only carries bytes.
public protocol ControlHandler: Sendable {
    func handle(_ request: ControlRequest) async -> ControlResponse
}

extension String {
    /// `application/x-www-form-urlencoded` writes a space as `+`.
    fileprivate var plusAsSpace: String { String(map { $0 == "+" ? " " : $0 }) }
}
