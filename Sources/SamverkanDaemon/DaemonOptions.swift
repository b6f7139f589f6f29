import Foundation

/// Where the daemon reads config, keeps state and listens, from flags, systemd's variables and
/// the development defaults (`design.md`, "Command line").
public struct DaemonOptions: Sendable {
    public var configDirectory: String
    public var stateDirectory: String
    public var socketPath: String
    /// Under systemd (`INVOCATION_ID` or `NOTIFY_SOCKET` set), or in the foreground in a terminal.
    public var underSystemd: Bool

    public static let usage = """
        usage: samverkand [--config DIR] [--state DIR] [--socket PATH]

        Keeps the deadlines of local crime-prevention cooperation agreements and sends reminders.
          --config DIR   config directory (samverkand.yaml, agreements.d/)
                         default: $CONFIGURATION_DIRECTORY, else ./Config
          --state DIR    state directory; default: $STATE_DIRECTORY, else ./.samverkan
          --socket PATH  control socket when not socket-activated;
                         default: $RUNTIME_DIRECTORY/control.sock, else ./.samverkan/control.sock
          --version      print the version
        """

    public struct UsageError: Error, CustomStringConvertible {
        public var description: String
    }

    public enum Parsed {
        case run(DaemonOptions)
        case help
        case version
    }

    public static func parse(arguments: [String], environment: [String: String]) throws(UsageError) -> Parsed {
        var config: String?
        var state: String?
        var socket: String?
        var index = 0
        func value(_ flag: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                throw UsageError(description: "\(flag) needs a value\n\n\(usage)")
            }
            return arguments[index]
        }
        func flagValue(_ inline: String?, _ flag: String) throws(UsageError) -> String {
            if let inline { return inline }
            return try value(flag)
        }
        while index < arguments.count {
            let argument = arguments[index]
            let (flag, inline) = splitFlag(argument)
            switch flag {
            case "--config": config = try flagValue(inline, flag)
            case "--state": state = try flagValue(inline, flag)
            case "--socket": socket = try flagValue(inline, flag)
            case "-h", "--help": return .help
            case "--version": return .version
            default: throw UsageError(description: "unknown argument '\(argument)'\n\n\(usage)")
            }
            index += 1
        }
        // systemd may pass several directories separated by ':'; the first is ours.
        func first(_ name: String) -> String? {
            environment[name].flatMap { $0.split(separator: ":").first.map(String.init) }
        }
        let stateDirectory = state ?? first("STATE_DIRECTORY") ?? "./.samverkan"
        let runtime = first("RUNTIME_DIRECTORY")
        return .run(
            DaemonOptions(
                configDirectory: config ?? first("CONFIGURATION_DIRECTORY") ?? "./Config",
                stateDirectory: stateDirectory,
                socketPath: socket ?? runtime.map { $0 + "/control.sock" } ?? stateDirectory + "/control.sock",
                underSystemd: environment["INVOCATION_ID"] != nil || environment["NOTIFY_SOCKET"] != nil))
    }

    private static func splitFlag(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}
