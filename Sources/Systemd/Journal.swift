import CSystemd
public import Foundation

/// Writes structured entries to the systemd journal with `sd_journal_sendv`.
///
/// Field names must be 1–64 characters of `[A-Z0-9_]`, not starting with `_` or a digit;
/// journald silently drops any other (platform.md 1.3), so names are sanitised here.
public enum Journal {
    /// Sends one entry. Returns 0 or a negative errno; journal errors are never fatal (with no
    /// journald at all libsystemd returns 0 and the entry is lost, platform.md 1.4).
    @discardableResult
    public static func send(_ fields: [(name: String, value: String)]) -> Int32 {
        let lines = fields.map { "\(fieldName($0.name))=\($0.value)" }
        let total = lines.reduce(0) { $0 + $1.utf8.count }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(total, 1)) { buffer in
            withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(lines.count, 1)) { iov in
                guard let base = buffer.baseAddress else { return -EINVAL }
                var offset = 0
                for (index, line) in lines.enumerated() {
                    let count = UnsafeMutableBufferPointer(rebasing: buffer[offset...]).initialize(
                        fromContentsOf: line.utf8)
                    iov[index] = iovec(iov_base: UnsafeMutableRawPointer(base + offset), iov_len: count)
                    offset += count
                }
                return sd_journal_sendv(iov.baseAddress, Int32(lines.count))
            }
        }
    }

    /// Makes a journal field name out of any key: upper-case, other characters to `_`, no
    /// leading `_` or digit, at most 64 characters.
    public static func fieldName(_ key: String) -> String {
        var name = String(
            key.uppercased().unicodeScalars.map { scalar -> Character in
                let ok = ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
                return ok ? Character(scalar) : "_"
            })
        while name.hasPrefix("_") { name.removeFirst() }
        if name.isEmpty { name = "FIELD" }
        if let first = name.unicodeScalars.first, ("0"..."9").contains(first) { name = "F" + name }
        return String(name.prefix(64))
    }

    /// Whether stderr is connected to the journal: `JOURNAL_STREAM` names the device and inode
    /// of our stderr (systemd.exec(5)).
    public static func stderrIsJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let raw = environment["JOURNAL_STREAM"] else { return false }
        let parts = raw.split(separator: ":").compactMap { UInt64($0) }
        var info = stat()
        guard parts.count == 2, fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == parts[0] && UInt64(info.st_ino) == parts[1]
    }
}
