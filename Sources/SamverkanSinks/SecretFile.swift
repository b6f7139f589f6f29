#if canImport(Glibc)
    import Glibc
#endif

/// A file holding a secret (an SMTP password, a webhook's signing key): named in config by an
/// absolute path or by a systemd credential's name, and read at each use, so a rotated secret
/// needs no reload. Its bytes never reach a log, an error or a description.
enum SecretFile {
    /// The most a secret file may hold.
    static let limit = 4096

    /// Why a secret could not be read.
    enum Failure: Error, Sendable {
        /// Cannot be opened or read now (a credential being replaced): worth trying again.
        case unreadable(String)
        /// Empty, or only a line break: trying again gives the same.
        case empty
        /// Larger than `limit`.
        case tooLarge
    }

    /// The path of the file named by `value` of the option `key`: an absolute path as it is;
    /// a bare name is a systemd credential (`LoadCredential=NAME:…` in the unit), found in
    /// `$CREDENTIALS_DIRECTORY`. The file must be readable now, so a mistake shows at load.
    static func path(_ value: String, key: String, environment: [String: String]) throws(SinkOptionError) -> String {
        let path: String
        if value.hasPrefix("/") {
            path = value
        } else if !value.contains("/") && !value.isEmpty && value != "." && value != ".." {
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw SinkOptionError(
                    "\(key) '\(value)' is a credential name, but CREDENTIALS_DIRECTORY is not set; add "
                        + "LoadCredential=\(value):/path/to/file to the unit, or give an absolute path")
            }
            path = directory + "/" + value
        } else {
            throw SinkOptionError("\(key) must be an absolute path or a systemd credential name, found '\(value)'")
        }
        guard access(path, R_OK) == 0 else {
            throw SinkOptionError("cannot read \(key) \(path): \(String(cString: strerror(errno)))")
        }
        return path
    }

    /// The file's bytes without its trailing line break (LF or CRLF, and any number of them).
    static func read(_ path: String) -> Result<[UInt8], Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        defer { close(fd) }
        // One byte more than allowed, to tell a full file from a too large one.
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress.map { $0 + count }, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
            if n == 0 { break }
            count += n
        }
        guard count <= limit else { return .failure(.tooLarge) }
        bytes.removeSubrange(count...)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { return .failure(.empty) }
        return .success(bytes)
    }
}
