import Foundation
import SamverkanTestSupport

/// A datagram socket standing in for systemd's `NOTIFY_SOCKET`: the test reads what the daemon
/// sends with sd_notify (platform.md 7.1).
final class NotifyListener: @unchecked Sendable {
    // @unchecked: `fd` is immutable after init; reads happen on one dispatch queue at a time.
    let path: String
    private let fd: Int32

    init(directory: URL) throws {
        path = directory.appendingPathComponent("notify.sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        let bound = UnixAddress.with(path) { bind(fd, $0, $1) }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    deinit { close(fd) }

    /// The next datagram, or nil when none arrives in time. Blocks a dispatch thread, never the
    /// cooperative pool or a dispatch queue.
    func next(timeout: Duration = .seconds(10)) async -> String? {
        let fd = self.fd
        let seconds = timeout.components.seconds
        let micros = timeout.components.attoseconds / 1_000_000_000_000
        let result = await ProcessRunner.onOwnThread(timeout: timeout + .seconds(5)) { () -> String? in
            var tv = timeval(tv_sec: Int(seconds), tv_usec: Int(micros))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }
        return result ?? nil
    }

    /// Reads datagrams until one contains `field` (e.g. `READY=1`); returns it with those skipped.
    func waitFor(_ field: String, timeout: Duration = .seconds(15)) async -> (match: String?, skipped: [String]) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var skipped: [String] = []
        while clock.now < deadline {
            guard let message = await next(timeout: deadline - clock.now) else { break }
            if message.split(separator: "\n").contains(Substring(field)) { return (message, skipped) }
            skipped.append(message)
        }
        return (nil, skipped)
    }
}
