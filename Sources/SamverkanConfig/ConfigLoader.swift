import Foundation
public import SamverkanCore
import Yams

/// Reads a config directory (`samverkand.yaml` and `agreements.d/*.yaml`), validates it, and
/// reports every problem at once as `FILE:LINE:COLUMN: error: …`.
public struct ConfigLoader: Sendable {
    public static let settingsFile = "samverkand.yaml"
    public static let agreementsDirectory = "agreements.d"

    public init() {}

    /// Loads and validates the directory. `today` (in the config's zone) enables the warnings
    /// that depend on the date, such as an agreement that has ended; the loader never reads the
    /// clock itself.
    public func load(directory: String, today: LocalDate? = nil) throws(ConfigError) -> LoadedConfig {
        try load(directory: directory, today: { _ in today })
    }

    /// Loads once, asking for today's date in the config's own zone once the zone is known.
    public func load(directory: String, today todayInZone: (Zone) -> LocalDate?) throws(ConfigError) -> LoadedConfig {
        var log = DiagnosticLog()
        var hasher = Fingerprint()
        let settingsPath =
            directory.hasSuffix("/") ? directory + Self.settingsFile : directory + "/" + Self.settingsFile
        var files = [settingsPath]
        var settings = DaemonSettings()
        if let text = readFile(settingsPath, &log) {
            hasher.add(Self.settingsFile, text)
            if let root = parse(text, file: settingsPath, &log) {
                settings = SettingsReader(file: settingsPath).read(root, &log)
            }
        }
        let zone = Zone(identifier: settings.timezone) ?? Zone(TimeZone(secondsFromGMT: 0) ?? .current)
        let today = todayInZone(zone)
        let calendar = SwedishCalendar(closedDays: settings.closedDays)

        var agreements: [(Agreement, file: String, position: Position)] = []
        let agreementsPath = (directory.hasSuffix("/") ? directory : directory + "/") + Self.agreementsDirectory
        for name in yamlFiles(in: agreementsPath) {
            let path = agreementsPath + "/" + name
            files.append(path)
            guard let text = readFile(path, &log) else { continue }
            hasher.add(Self.agreementsDirectory + "/" + name, text)
            guard let root = parse(text, file: path, &log) else { continue }
            let reader = AgreementReader(file: path, zone: zone, today: today, calendar: calendar)
            if let agreement = reader.read(root, &log) {
                agreements.append((agreement, path, YAMLValue(node: root, file: path).position))
            }
        }

        var firstFile: [String: String] = [:]
        for (agreement, file, position) in agreements {
            if let other = firstFile[agreement.id] {
                log.error(file, position, "duplicate agreement id '\(agreement.id)' (also defined in \(other))")
            } else {
                firstFile[agreement.id] = file
            }
        }

        let templates = NoticeTemplates.load(configDirectory: directory, &log)
        for (name, text) in NoticeTemplates.files(configDirectory: directory) { hasher.add(name, text) }
        if log.hasErrors {
            throw ConfigError(diagnostics: log.items)
        }
        return LoadedConfig(
            directory: directory, settings: settings, zone: zone, agreements: agreements.map(\.0),
            warnings: log.items, fingerprint: hasher.hex, files: files, templates: templates)
    }

    private func readFile(_ path: String, _ log: inout DiagnosticLog) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason =
                FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "does not exist"
            log.error(path, .start, "\(path) \(reason)")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            log.error(path, .start, "file is not valid UTF-8")
            return nil
        }
        PrivacyScan.check(text, file: path, &log)
        return text
    }

    private func parse(_ text: String, file: String, _ log: inout DiagnosticLog) -> Node? {
        do {
            // The basic resolver: every scalar stays a string and the readers parse what they need;
            // resolving tags runs regular expressions on every plain scalar and dominated loading.
            guard let node = try Yams.compose(yaml: text, .basic) else {
                log.error(file, .start, "file is empty; expected a mapping")
                return nil
            }
            return node
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                log.error(file, Position(line: mark.line, column: mark.column), "YAML syntax: \(problem)")
            default:
                log.error(file, .start, "YAML syntax: \(error)")
            }
            return nil
        } catch {
            log.error(file, .start, "YAML syntax: \(error)")
            return nil
        }
    }

    private func yamlFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
    }
}

/// A hash of file names and contents: enough to tell whether a config changed.
struct Fingerprint {
    private var hash = StableHash()

    mutating func add(_ name: String, _ text: String) {
        hash.add(name, terminator: 0)
        hash.add(text, terminator: 0)
    }

    var hex: String { hash.hex }
}

/// Slugs of `design.md`: `[a-z0-9][a-z0-9-]*`.
func isSlug(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, first.isASCIILowerOrDigit else { return false }
    return text.unicodeScalars.allSatisfy { $0.isASCIILowerOrDigit || $0 == "-" }
}

extension Unicode.Scalar {
    fileprivate var isASCIILowerOrDigit: Bool { ("a"..."z").contains(self) || ("0"..."9").contains(self) }
}
