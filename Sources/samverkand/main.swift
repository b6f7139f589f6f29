import Foundation
import SamverkanDaemon

// Logs go to stderr (unbuffered) or to the journal's native protocol, never through stdout's
// block buffer, which the journal stream would only flush at exit (platform.md 2).
let status = await Daemon.main(
    arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(status)
