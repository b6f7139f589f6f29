import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One daemon per state directory (`design.md`): an exclusive, non-blocking `flock` on
/// `STATE_DIR/samverkand.lock`, holding the owner's pid so a second daemon can say who is in
/// the way.
///
/// `flock` belongs to the open file description, so the kernel drops it when the process dies,
/// however it dies: a stale lock file is never a problem, and no pid is ever checked for
/// liveness. A second open file description conflicts even inside one process, which the tests
/// rely on.
final class StateDirectoryLock: Sendable {
    static let fileName = "samverkand.lock"

    /// The locked descriptor, or -1 once released.
    private let descriptor: Mutex<Int32>

    /// Takes the lock or throws `StoreError.locked` naming the holder's pid.
    init(directory: String) throws(StoreError) {
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw StoreError(
                .io, "cannot open the lock file \(path): \(reason); check the state directory's owner and mode")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(fd)
            close(fd)
            if code == EWOULDBLOCK {
                let who = holder.map { "pid \($0)" } ?? "pid unknown"
                throw StoreError(
                    .locked,
                    "another samverkand (\(who)) uses \(directory); stop it first, or give this one another state directory (--state)"
                )
            }
            throw StoreError(.io, "cannot lock \(path): \(String(cString: strerror(code)))")
        }
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) != 0 || pwrite(fd, text, text.count, 0) != text.count {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StoreError(.io, "cannot write the pid into \(path): \(reason)")
        }
        descriptor = Mutex(fd)
    }

    /// Releases the lock (idempotent). Closing the descriptor drops the `flock`; the file stays,
    /// since removing it would race with a daemon that just opened it.
    func release() {
        descriptor.withLock { fd in
            if fd >= 0 {
                close(fd)
                fd = -1
            }
        }
    }

    deinit { release() }

    private static func readPID(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int(text)
    }
}
