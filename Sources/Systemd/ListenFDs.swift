import CSystemd

/// Sockets passed by systemd socket activation (sd_listen_fds(3)).
public enum ListenFDs {
    /// The first inherited stream socket, if systemd passed one. Clears `LISTEN_*` so children
    /// do not inherit them.
    public static func inheritedStreamSocket() -> Int32? {
        let count = sd_listen_fds(1)
        guard count >= 1 else { return nil }
        for fd in SD_LISTEN_FDS_START..<(SD_LISTEN_FDS_START + count) {
            if sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 { return fd }
        }
        return nil
    }
}
