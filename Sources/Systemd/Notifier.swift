import CSystemd
import Foundation
import Synchronization

/// Tells the service manager how the daemon is doing (sd_notify(3)).
///
/// One protocol with the real implementation below and an in-memory one for tests, as swift-log
/// does for its backends.
public protocol ServiceNotifier: Sendable {
    func send(_ message: NotifyMessage)
}

/// One sd_notify datagram: `READY=1`, `STATUS=…`, ….
public struct NotifyMessage: Sendable, Hashable, CustomStringConvertible {
    public var fields: [(String, String)] {
        get { storage }
        set { storage = newValue }
    }
    private var storage: [(String, String)]

    public init(_ fields: [(String, String)]) {
        self.storage = fields
    }

    public static func ready(status: String) -> NotifyMessage { NotifyMessage([("READY", "1"), ("STATUS", status)]) }
    public static func status(_ text: String) -> NotifyMessage { NotifyMessage([("STATUS", text)]) }
    public static let watchdog = NotifyMessage([("WATCHDOG", "1")])

    /// `RELOADING=1` with the CLOCK_MONOTONIC time in µs, which systemd 253's `Type=notify-reload`
    /// requires and 252 ignores (platform.md 2).
    public static func reloading(status: String) -> NotifyMessage {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let micros = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        return NotifyMessage([("RELOADING", "1"), ("MONOTONIC_USEC", String(micros)), ("STATUS", status)])
    }

    public static func stopping(status: String) -> NotifyMessage {
        NotifyMessage([("STOPPING", "1"), ("STATUS", status)])
    }

    /// Asks for more time to start or stop, for a long migration or reconcile.
    public static func extendTimeout(seconds: Int) -> NotifyMessage {
        NotifyMessage([("EXTEND_TIMEOUT_USEC", String(seconds * 1_000_000))])
    }

    public var description: String { storage.map { "\($0.0)=\($0.1)" }.joined(separator: "\n") }

    public static func == (lhs: NotifyMessage, rhs: NotifyMessage) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

/// sd_notify through libsystemd. Without `NOTIFY_SOCKET` (not under systemd) every call is a
/// no-op, as libsystemd defines it.
///
/// The datagram is sent from a thread of the notifier's own, in order: `sd_notify` writes to a
/// blocking socket, and when the receiver does not read (a busy systemd, a test's listener)
/// it blocks once the queue is full. The daemon runs Swift concurrency on two event loops, and a
/// watchdog ping must never stall one of them.
public final class SystemdNotifier: ServiceNotifier, Sendable {
    private struct State {
        var queue: [String] = []
        var sending = false
    }

    /// Shared with the sending thread.
    private final class Outbox: Sendable {
        let state = Mutex(State())
        let available = DispatchSemaphore(value: 0)
        let drained = DispatchSemaphore(value: 0)
    }

    private let outbox = Outbox()

    public init() {
        let outbox = self.outbox
        let thread = Thread {
            let available = outbox.available
            let drained = outbox.drained
            while true {
                available.wait()
                let next = outbox.state.withLock { state -> String? in
                    guard !state.queue.isEmpty else { return nil }
                    state.sending = true
                    return state.queue.removeFirst()
                }
                guard let next else { continue }
                // unset_environment = 0: a non-zero value would mute every later message.
                _ = sd_notify(0, next)
                let empty = outbox.state.withLock { state -> Bool in
                    state.sending = false
                    return state.queue.isEmpty
                }
                if empty { drained.signal() }
            }
        }
        thread.name = "samverkand-notify"
        thread.start()
    }

    public func send(_ message: NotifyMessage) {
        // A message already waiting to go out (a watchdog ping while systemd is slow to read) is
        // not queued twice: the queue stays short, and no stale pings arrive after a stall.
        let text = message.description
        let queued = outbox.state.withLock { state -> Bool in
            if state.queue.contains(text) { return false }
            state.queue.append(text)
            return true
        }
        if queued { outbox.available.signal() }
    }

    /// Waits until every message sent so far has gone out, at most `timeout` (before exit, so
    /// that STOPPING=1 is not lost).
    public func flush(timeout: Duration = .seconds(2)) {
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout.components.seconds * 1000))
        while outbox.state.withLock({ !$0.queue.isEmpty || $0.sending }) {
            if outbox.drained.wait(timeout: deadline) == .timedOut { return }
        }
    }

    /// The watchdog interval systemd asked for (`WATCHDOG_USEC`), if it is meant for this process.
    public static func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }
}

/// Collects messages in memory, for tests.
public final class InMemoryNotifier: ServiceNotifier {
    private let lock = NSLock()
    private var messages: [NotifyMessage] = []

    public init() {}

    public func send(_ message: NotifyMessage) {
        lock.withLock { messages.append(message) }
    }

    public var sent: [NotifyMessage] { lock.withLock { messages } }
}

// NSLock guards every access to `messages`.
extension InMemoryNotifier: @unchecked Sendable {}
