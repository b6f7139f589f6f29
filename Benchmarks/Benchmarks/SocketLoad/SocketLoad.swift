import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A load generator for samverkand's control socket (issue 8): `connections` keep-alive HTTP/1.1
/// connections over the Unix socket, each sending `GET path` one after another until `requests`
/// have been answered in all, or `seconds` have passed. Prints throughput and latency
/// percentiles as one line of JSON.
///
///     SocketLoad SOCKET [--connections 32] [--requests 50000] [--path /v1/status]
@main
struct SocketLoad {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(
                Data("usage: SocketLoad SOCKET [--connections N] [--requests N] [--path P]\n".utf8))
            exit(2)
        }
        let socket = arguments.removeFirst()
        var connections = 32
        var requests = 50_000
        var path = "/v1/status"
        while arguments.count >= 2 {
            let (flag, value) = (arguments.removeFirst(), arguments.removeFirst())
            switch flag {
            case "--connections": connections = Int(value) ?? connections
            case "--requests": requests = Int(value) ?? requests
            case "--path": path = value
            default:
                FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
                exit(2)
            }
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let perConnection = requests / connections
        let started = ContinuousClock.now
        let latencies = try await load(
            socket: socket, path: path, connections: connections, perConnection: perConnection, group: group)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
        let line = String(
            format:
                #"{"requests": %d, "connections": %d, "seconds": %.3f, "rps": %.0f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}"#,
            sorted.count, connections, seconds, Double(sorted.count) / seconds, percentile(0.50) * 1000,
            percentile(0.99) * 1000, (sorted.last ?? 0) * 1000)
        print(line)
        try await group.shutdownGracefully()
    }

    nonisolated static func load(
        socket: String, path: String, connections: Int, perConnection: Int, group: MultiThreadedEventLoopGroup
    ) async throws -> [Double] {
        try await withThrowingTaskGroup(of: [Double].self) { tasks in
            for _ in 0..<connections {
                tasks.addTask { try await run(socket: socket, path: path, count: perConnection, group: group) }
            }
            var all: [Double] = []
            for try await part in tasks { all += part }
            return all
        }
    }

    /// One connection: `count` requests in a row, each timed from write to the end of its answer.
    nonisolated static func run(socket: String, path: String, count: Int, group: MultiThreadedEventLoopGroup)
        async throws
        -> [Double]
    {
        let channel = try await ClientBootstrap(group: group)
            .connect(unixDomainSocketPath: socket) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "Host", value: "localhost")
            for _ in 0..<count {
                let sent = ContinuousClock.now
                try await outbound.write(.head(head))
                try await outbound.write(.end(nil))
                var status = 0
                while let part = try await responses.next() {
                    if case .head(let response) = part { status = Int(response.status.code) }
                    if case .end = part { break }
                }
                guard status == 200 else { throw LoadError(status: status) }
                let took = ContinuousClock.now - sent
                latencies.append(Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
            }
        }
        return latencies
    }

    struct LoadError: Error, CustomStringConvertible {
        var status: Int
        var description: String { "the daemon answered \(status)" }
    }
}
