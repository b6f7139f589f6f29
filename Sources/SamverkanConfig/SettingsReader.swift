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
        "webhook": ["url", "secret_file", "timeout"],
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
                _ = entry.value.mapping(&log, what: "retry of sink '\(name)'", allowed: ["initial", "max"])
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
                sink.listOptions[entry.key] = entry.value.strings(&log, what: "argv")
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
        return sink
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
