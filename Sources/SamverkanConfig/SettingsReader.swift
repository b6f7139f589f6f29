import SamverkanCore

/// Reads `samverkand.yaml` into `DaemonSettings`.
struct SettingsReader {
    let file: String

    static let keys = [
        "timezone", "language", "state_directory", "socket", "closed_days", "sinks", "routes", "admin_group",
        "operator",
    ]

    /// The keys each sink type takes besides `name`, `type` and `retry` (`design.md`).
    static let sinkKeys: [String: [String]] = [
        "file": ["directory", "format", "mode"],
        "email": [
            "transport", "host", "port", "tls", "username", "password_file", "from", "reply_to", "sendmail_path",
            "ca_file",
        ],
        // ca_file: a PEM file of a CA trusted besides the system's, for https to a private CA.
        "webhook": ["url", "secret_file", "timeout", "ca_file"],
        "command": ["argv", "timeout"],
        "journal": [],
    ]

    func read(_ value: YAMLValue, _ log: inout DiagnosticLog) -> DaemonSettings {
        var settings = DaemonSettings()
        guard let map = value.mapping(&log, what: "samverkand.yaml", allowed: Self.keys) else { return settings }
        if let node = map["timezone"], let zone = node.string(&log, what: "timezone") {
            if Zone(identifier: zone) == nil {
                log.error(file, node.position, "unknown time zone '\(zone)'; use an IANA name such as Europe/Stockholm")
            } else {
                settings.timezone = zone
            }
        }
        if let node = map["language"], let language = node.string(&log, what: "language") {
            if ["sv", "en"].contains(language) {
                settings.language = language
            } else {
                log.error(file, node.position, "language must be 'sv' or 'en', found '\(language)'")
            }
        }
        if let node = map["state_directory"] { settings.stateDirectory = node.string(&log, what: "state_directory") }
        if let node = map["socket"] { settings.socket = node.string(&log, what: "socket") }
        if let node = map["admin_group"], let group = node.string(&log, what: "admin_group") {
            settings.adminGroup = group
        }
        if let node = map["operator"] { settings.operator = node.string(&log, what: "operator") }
        if let node = map["closed_days"], let items = node.list(&log, what: "closed_days") {
            for item in items {
                guard let text = item.string(&log, what: "a closed day") else { continue }
                if let date = LocalDate(iso: text) {
                    settings.closedDays.insert(date)
                } else {
                    log.error(file, item.position, "'\(text)' is not a valid date (YYYY-MM-DD)")
                }
            }
        }
        if let node = map["sinks"], let items = node.list(&log, what: "sinks") {
            for item in items {
                if let sink = readSink(item, &log) {
                    if settings.sinks.contains(where: { $0.name == sink.name }) {
                        log.error(file, item.position, "duplicate sink name '\(sink.name)'")
                    } else {
                        settings.sinks.append(sink)
                    }
                }
            }
        }
        if let node = map["routes"], let items = node.list(&log, what: "routes") {
            // Every sink named in the file counts, even one with errors of its own, so a route
            // naming it gets no second, misleading error.
            var names = settings.sinks.map(\.name)
            for item in map["sinks"]?.items ?? [] {
                if let name = item["name"]?.text, !names.contains(name) { names.append(name) }
            }
            for item in items {
                if let route = readRoute(item, sinkNames: names, &log) { settings.routes.append(route) }
            }
        }
        return settings
    }

    private func readSink(_ value: YAMLValue, _ log: inout DiagnosticLog) -> SinkConfig? {
        // First pass with every key any sink may take, to find the type; then check by type.
        let allKeys = ["name", "type", "retry"] + Set(Self.sinkKeys.values.flatMap { $0 }).sorted() + ["password"]
        guard let map = value.mapping(&log, what: "a sink", allowed: allKeys),
            let name = map.required("name", &log, what: "a sink")?.string(&log, what: "sink name"),
            let typeNode = map.required("type", &log, what: "sink '\(name)'"),
            let type = typeNode.string(&log, what: "sink type")
        else { return nil }
        guard let typeKeys = Self.sinkKeys[type] else {
            var message = "unknown sink type '\(type)'"
            if let close = suggestion(for: type, among: Self.sinkKeys.keys) { message += "; did you mean '\(close)'?" }
            log.error(
                file, typeNode.position, message + " (types: \(Self.sinkKeys.keys.sorted().joined(separator: ", ")))")
            return nil
        }
        var sink = SinkConfig(name: name, type: type)
        for entry in map.entries where !["name", "type"].contains(entry.key) {
            if entry.key == "password" {
                log.error(
                    file, entry.keyPosition,
                    "sink '\(name)': never put a password in config; use password_file (or a systemd credential)")
                continue
            }
            if entry.key == "retry" {
                readRetry(entry.value, into: &sink, &log)
                continue
            }
            guard typeKeys.contains(entry.key) else {
                log.error(
                    file, entry.keyPosition,
                    "sink '\(name)' of type \(type) does not take '\(entry.key)'"
                        + (typeKeys.isEmpty ? "" : " (it takes: \(typeKeys.joined(separator: ", ")))"))
                continue
            }
            if entry.key == "argv" {
                // A list, never one string: nothing splits it into words (there is no shell).
                if let items = entry.value.list(&log, what: "argv of sink '\(name)' (the program and its arguments)") {
                    sink.listOptions[entry.key] = items.compactMap { $0.string(&log, what: "each entry of argv") }
                }
            } else if let text = entry.value.string(&log, what: "\(entry.key) of sink '\(name)'") {
                sink.options[entry.key] = text
            }
        }
        if type == "file" {
            if sink.options["directory"] == nil {
                log.error(file, map.position, "file sink '\(name)' needs a 'directory'")
            }
            let format = sink.options["format"] ?? "eml"
            if !["eml", "json", "txt"].contains(format) {
                log.error(
                    file, map["format"]?.position ?? map.position, "format must be eml, json or txt, found '\(format)'")
            }
        }
        checkWebhookAndCommand(sink, map, &log)
        return sink
    }

    /// `retry: {initial: 30s, max: 1h}`: durations like a time limit, up to a day, initial ≤ max.
    private func readRetry(_ value: YAMLValue, into sink: inout SinkConfig, _ log: inout DiagnosticLog) {
        guard let retry = value.mapping(&log, what: "retry of sink '\(sink.name)'", allowed: ["initial", "max"]) else {
            return
        }
        for key in ["initial", "max"] {
            guard let node = retry[key], let text = node.string(&log, what: "retry \(key) of sink '\(sink.name)'")
            else { continue }
            guard let duration = SinkConfig.timeLimit(text, atMost: .seconds(86_400)) else {
                log.error(
                    file, node.position,
                    "retry \(key) of sink '\(sink.name)' must be a whole number and ms, s, m or h (30s, 5m, 1h), more than 0 and at most 24h, found '\(text)'"
                )
                continue
            }
            if key == "initial" { sink.retryInitial = duration } else { sink.retryMax = duration }
        }
        if sink.retryInitial > sink.retryMax {
            log.error(
                file, value.position,
                "retry of sink '\(sink.name)': initial must not be longer than max")
        }
    }

    /// The values of the webhook and command sinks' keys (`design.md`, sink keys).
    private func checkWebhookAndCommand(_ sink: SinkConfig, _ map: YAMLMapping, _ log: inout DiagnosticLog) {
        let name = sink.name
        if ["webhook", "command"].contains(sink.type), let text = sink.options["timeout"],
            SinkConfig.timeLimit(text) == nil
        {
            log.error(
                file, map["timeout"]?.position ?? map.position,
                "timeout of sink '\(name)' must be \(SinkConfig.timeLimitForm), found '\(text)'")
        }
        switch sink.type {
        case "webhook":
            guard let text = sink.options["url"] else {
                if map["url"] == nil {
                    log.error(file, map.position, "webhook sink '\(name)' needs a 'url' (http://127.0.0.1:8080/hook)")
                }
                return
            }
            do {
                let url = try SinkConfig.WebhookURL(parsing: text)
                if sink.options["ca_file"] != nil && !url.isTLS {
                    log.error(
                        file, map["ca_file"]?.position ?? map.position,
                        "ca_file of sink '\(name)' is only for an https url")
                }
            } catch {
                log.error(file, map["url"]?.position ?? map.position, "url of sink '\(name)': \(error.message)")
            }
        case "command":
            guard let argv = sink.listOptions["argv"] else {
                if map["argv"] == nil {
                    log.error(
                        file, map.position,
                        "command sink '\(name)' needs 'argv', the program and its arguments as a list "
                            + "([/usr/local/bin/notify, --queue, samverkan])")
                }
                return
            }
            let position = map["argv"]?.position ?? map.position
            guard let program = argv.first else {
                log.error(file, position, "argv of sink '\(name)' is empty; give at least the program")
                return
            }
            if program.isEmpty || (program.contains("/") && !program.hasPrefix("/")) {
                log.error(
                    file, position,
                    "the program of sink '\(name)' must be an absolute path or a name looked up in PATH, "
                        + "found '\(program)'")
            }
        default:
            break
        }
    }

    private func readRoute(_ value: YAMLValue, sinkNames: [String], _ log: inout DiagnosticLog) -> RouteConfig? {
        guard let map = value.mapping(&log, what: "a route", allowed: ["match", "sinks", "fallback", "digest"]) else {
            return nil
        }
        var route = RouteConfig(sinks: [])
        if let match = map["match"], let m = match.mapping(&log, what: "match", allowed: ["agreement", "kind", "slot"])
        {
            route.agreements = m["agreement"]?.strings(&log, what: "match.agreement")
            route.kinds = m["kind"]?.strings(&log, what: "match.kind")
            route.slots = m["slot"]?.strings(&log, what: "match.slot")
        }
        if let sinksNode = map.required("sinks", &log, what: "a route"),
            let sinks = sinksNode.strings(&log, what: "sinks")
        {
            for sink in sinks where !sinkNames.contains(sink) {
                log.error(file, sinksNode.position, unknownSinkMessage(sink, sinkNames))
            }
            route.sinks = sinks
        }
        if let node = map["fallback"], let fallback = node.string(&log, what: "fallback") {
            if !sinkNames.contains(fallback) { log.error(file, node.position, unknownSinkMessage(fallback, sinkNames)) }
            route.fallback = fallback
        }
        if let node = map["digest"], let digest = node.mapping(&log, what: "digest", allowed: ["at"]),
            let at = digest.required("at", &log, what: "digest"), let text = at.string(&log, what: "digest.at")
        {
            if let time = LocalTime(text: text) {
                route.digestAt = time
            } else {
                log.error(file, at.position, "'\(text)' is not a time (HH:MM)")
            }
        }
        return route
    }

    private func unknownSinkMessage(_ name: String, _ known: [String]) -> String {
        let list = known.isEmpty ? "no sinks are defined" : "sinks defined: \(known.joined(separator: ", "))"
        guard let close = suggestion(for: name, among: known) else { return "unknown sink '\(name)'; \(list)" }
        return "unknown sink '\(name)'; did you mean '\(close)'? (\(list))"
    }
}

extension SinkConfig {
    /// How a sink's time limit is written: for messages.
    public static let timeLimitForm = "a whole number and ms, s, m or h (10s, 500ms, 2m), more than 0 and at most 1h"

    /// A sink's time limit (`timeout: 10s`): a whole number and `ms`, `s`, `m` or `h`, more
    /// than zero and at most an hour (a delivery holds up the notices after it).
    public static func timeLimit(_ text: String, atMost limit: Duration = .seconds(3600)) -> Duration? {
        let units: [(suffix: String, milliseconds: Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        let limitMilliseconds = Int(limit.components.seconds) * 1000
        for unit in units where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                let number = Int(digits), number > 0, number <= limitMilliseconds / unit.milliseconds
            else { return nil }
            return .milliseconds(number * unit.milliseconds)
        }
        return nil
    }

    /// A webhook's `url`, taken apart: `http` or `https`, a host, a port, and the request
    /// target (path and query) sent as is. No user or password in it (secrets never go in
    /// config) and no fragment (it would never be sent).
    public struct WebhookURL: Sendable, Hashable {
        public var isTLS: Bool
        /// A name or address to connect to; an IPv6 address without its brackets.
        public var host: String
        public var port: Int
        /// The path and query, `/` when the URL has none.
        public var target: String

        /// The `Host` header: the port only when it is not the scheme's own.
        public var hostHeader: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
        }

        /// `http://host:port`, for logs: the path and query may hold a token, and are left out.
        public var origin: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return "\(isTLS ? "https" : "http")://\(name):\(port)"
        }

        public init(parsing text: String) throws(SinkConfig.ValueError) {
            let lower = text.lowercased()
            let rest: Substring
            if lower.hasPrefix("http://") {
                isTLS = false
                rest = text.dropFirst(7)
            } else if lower.hasPrefix("https://") {
                isTLS = true
                rest = text.dropFirst(8)
            } else {
                throw ValueError("'\(text)' is not an http:// or https:// URL")
            }
            guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw ValueError("'\(text)' has spaces, control or non-ASCII characters; percent-encode them")
            }
            guard !rest.contains("#") else {
                throw ValueError("'\(text)' has a fragment (#…), which is never sent; remove it")
            }
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            let target = rest[authorityEnd...]
            self.target = target.isEmpty ? "/" : target.hasPrefix("?") ? "/" + target : String(target)
            guard !authority.contains("@") else {
                throw ValueError(
                    "'\(text)' holds a user name or password; secrets never go in config (use secret_file to sign)")
            }
            var portText: Substring?
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else {
                    throw ValueError("'\(text)' has an IPv6 address without its closing ']'")
                }
                host = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":") else { throw ValueError("'\(text)' has something after ']'") }
                    portText = after.dropFirst()
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                portText = authority[authority.index(after: colon)...]
            } else {
                host = String(authority)
            }
            guard !host.isEmpty else { throw ValueError("'\(text)' has no host") }
            let hostCharacters = host.unicodeScalars.allSatisfy {
                ($0.properties.isASCIIHexDigit || $0.properties.isAlphabetic || $0 == "-" || $0 == "." || $0 == ":")
            }
            guard hostCharacters && !host.contains("..") else {
                throw ValueError("'\(host)' is not a host name or address")
            }
            if let portText {
                guard let port = Int(portText), (1...65535).contains(port), portText.allSatisfy(\.isNumber) else {
                    throw ValueError("the port in '\(text)' must be a number from 1 to 65535")
                }
                self.port = port
            } else {
                port = isTLS ? 443 : 80
            }
        }
    }

    /// A sink option's value that cannot be used, and why.
    public struct ValueError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        init(_ message: String) { self.message = message }
        public var description: String { message }
    }
}
