import Foundation
import SamverkanClient
import SamverkanCore
import SamverkanTestSupport
import Testing

/// Reads for anyone who can open the socket; writes only for root, the daemon's user and the
/// admin group, told apart by SO_PEERCRED (`design.md`).
@Suite("who may write")
struct PermissionTests {
    @Test(
        "an unprivileged uid may read but gets 403 on a write, and the refusal is audited with its uid",
        .enabled(if: TestEnvironment.isRoot && TestEnvironment.which("setpriv") != nil, "needs root and setpriv"))
    func unprivilegedWrite() async throws {
        let running = try await RunningDaemon.start("perm")
        let (daemon, root) = (running.daemon, running.root)
        defer { Task { await daemon.stop() } }
        // Let uid 65534 reach the socket at all (in production: membership of group samverkan).
        chmod(root.path, 0o755)
        chmod(root.appendingPathComponent("state").path, 0o755)
        chmod(daemon.socketPath, 0o666)

        let setpriv = try #require(TestEnvironment.which("setpriv"))
        func asNobody(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            let result = try await ProcessRunner.run(
                setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", TestEnvironment.ctl] + arguments)
            return (result.status, result.output)
        }
        let read = try await asNobody(["status", "--json", "--socket", daemon.socketPath])
        #expect(read.status == 0, "\(read.output)")
        #expect(read.output.contains(#""generation":1"#))
        let write = try await asNobody(["reload", "--socket", daemon.socketPath])
        #expect(write.status == 1, "a refused write is a user error")
        #expect(write.output.contains("403"), "\(write.output)")
        #expect(write.output.contains("uid 65534 may read but not write"))
        #expect(daemon.stderr.contains("control write: refused POST /v1/reload by uid 65534"), "\(daemon.stderr)")
        // Root may.
        let reload = try ControlClient(socketPath: daemon.socketPath).request("POST", "/v1/reload")
        #expect(reload.status == 200)
        #expect(daemon.stderr.contains("control write: reload by uid 0"))
        await daemon.stop()
    }
}
