import Foundation
import NIOCore
import NIOPosix
import SamverkanDaemon

// Swift concurrency runs on NIO's event loops rather than libdispatch's global queues: the first
// worker of those starts libdispatch's workqueue monitor, which would wake the daemon every
// second for good. Before any task is created; sleeps use `EventLoopSleep` for the same reason.
// It fails where the runtime is linked in statically (the hook is not exported): say so.
if !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
    FileHandle.standardError.write(
        Data(
            "samverkand: warning: Swift concurrency runs on libdispatch, not on SwiftNIO's event loops (a Swift runtime linked in statically?): the daemon will wake once a second; build it with `make build`\n"
                .utf8))
}

// Logs go to stderr (unbuffered) or to the journal's native protocol, never through stdout's
// block buffer, which the journal stream would only flush at exit (platform.md 2).
let status = await Daemon.main(
    arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(status)
