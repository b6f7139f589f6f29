import CSystemd
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Sleeps until a wall-clock instant without polling: a `CLOCK_REALTIME` timerfd armed with
/// `TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET` (timerfd_create(2)). It fires at the instant,
/// and at once when the wall clock is set (the read fails with `ECANCELED`), so a clock step,
/// a suspend or an NTP jump is noticed immediately and the schedule is looked at again.
///
/// One thread blocks in `read(2)` on the timer; it costs no CPU and makes no wake-ups of its own.
final class WallTimer: Sendable {
    enum Event: Sendable {
        case expired
        case clockChanged
    }

    private let fd: Int32
    private let offsetSeconds: Double

    /// `offsetSeconds` is the test-only shift of the daemon's view of time: an instant `t` of the
    /// daemon is real time `t - offset`.
    init(offsetSeconds: Double = 0, onEvent: @escaping @Sendable (Event) -> Void) throws {
        let fd = timerfd_create(CLOCK_REALTIME, Int32(TFD_CLOEXEC))
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        self.fd = fd
        self.offsetSeconds = offsetSeconds
        let thread = Thread {
            var expirations: UInt64 = 0
            while true {
                let n = read(fd, &expirations, 8)
                if n == 8 {
                    onEvent(.expired)
                } else if n < 0 && errno == ECANCELED {
                    onEvent(.clockChanged)
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && errno == EBADF {
                    return
                }
            }
        }
        thread.name = "samverkand-timer"
        thread.start()
    }

    /// Arms the timer for an instant of the daemon's clock, or far ahead when there is nothing
    /// to wait for (still armed, so a clock change is still reported).
    func arm(at instant: Date?) {
        let real = (instant?.timeIntervalSince1970 ?? Date().timeIntervalSince1970 + 365 * 86_400) - offsetSeconds
        let clamped = max(real, 1)  // 0 would disarm the timer
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(clamped.rounded(.down))
        spec.it_value.tv_nsec = Int((clamped - clamped.rounded(.down)) * 1_000_000_000)
        timerfd_settime(fd, Int32(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET), &spec, nil)
    }
}
