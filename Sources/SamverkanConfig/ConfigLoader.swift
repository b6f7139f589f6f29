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
        var cache = AgreementFileCache(keeping: false)
        return try load(directory: directory, today: todayInZone, cache: &cache)
    }

    /// Loads like ``load(directory:today:)``, parsing only the agreement files whose bytes are
    /// not in `cache` from an earlier load; `cache` is left holding this load's files. The
    /// result is the same as without a cache: the diagnostics, the fingerprint and the agreements.
    public func load(directory: String, today todayInZone: (Zone) -> LocalDate?, cache: inout AgreementFileCache)
        throws(ConfigError) -> LoadedConfig
    {
        var agreements: [Agreement] = []
        var config = try load(directory: directory, today: todayInZone, cache: &cache, deriving: Self.nothing) {
            agreements.append($0.agreement)
        }
        config.agreements = agreements
        return config
    }

    /// Loads like ``load(directory:today:cache:)``, and works on each agreement as soon as it is
    /// read: `derive` runs on the thread that read the agreement's file, with what the file was
    /// read under (``AgreementContext``), and `handOver` gets each agreement with what `derive`
    /// made, on the caller's thread, in file order, while later files are still being read.
    ///
    /// The daemon's reload plans each agreement in `derive` and stores it in `handOver`, so that
    /// storing the first agreements overlaps reading the others. As with every `handingOver`,
    /// agreements are handed over before the whole directory has been checked: when loading
    /// throws, the caller must discard what it was given. The config returned holds every
    /// agreement.
    public func load<Derived: Sendable>(
        directory: String, today todayInZone: (Zone) -> LocalDate?, cache: inout AgreementFileCache,
        deriving derive: @escaping @Sendable (Agreement, AgreementContext) -> Derived,
        handingOver handOver: (Agreement, Derived) -> Void
    ) throws(ConfigError) -> LoadedConfig {
        var agreements: [Agreement] = []
        var config = try load(directory: directory, today: todayInZone, cache: &cache, deriving: derive) { file in
            agreements.append(file.agreement)
            // `derive` ran on every agreement handed over.
            if let derived = file.derived { handOver(file.agreement, derived) }
        }
        config.agreements = agreements
        return config
    }

    /// Loads like ``load(directory:today:)``, but hands each agreement to `handOver`, in file
    /// order, instead of keeping it: the config returned has no agreements. This is for configs
    /// too large to hold as values, such as `samverkanctl plan --json` of thousands of them.
    ///
    /// Agreements are handed over before the whole directory has been checked, each once its own
    /// file has been read without errors; when loading throws, the caller must discard what it
    /// was given.
    public func load(
        directory: String, today todayInZone: (Zone) -> LocalDate?, handingOver handOver: (Agreement) -> Void
    ) throws(ConfigError) -> LoadedConfig {
        var cache = AgreementFileCache(keeping: false)
        return try load(directory: directory, today: todayInZone, cache: &cache, deriving: Self.nothing) {
            handOver($0.agreement)
        }
    }

    /// The `derive` of the loads that derive nothing.
    private static let nothing: @Sendable (Agreement, AgreementContext) -> Bool = { _, _ in true }

    /// An agreement read without errors, with what `derive` made of it.
    private struct Read<Derived> {
        var agreement: Agreement
        var derived: Derived?
    }

    private func load<Derived: Sendable>(
        directory: String, today todayInZone: (Zone) -> LocalDate?, cache: inout AgreementFileCache,
        deriving derive: @escaping @Sendable (Agreement, AgreementContext) -> Derived,
        handingOver handOver: (Read<Derived>) -> Void
    ) throws(ConfigError) -> LoadedConfig {
        var log = DiagnosticLog()
        var hasher = Fingerprint()
        let settingsPath =
            directory.hasSuffix("/") ? directory + Self.settingsFile : directory + "/" + Self.settingsFile
        var files = [settingsPath]
        var settings = DaemonSettings()
        if let text = Self.readFile(settingsPath, &log) {
            hasher.add(Self.settingsFile, text)
            if let root = Self.parse(text, file: settingsPath, &log) {
                settings = SettingsReader(file: settingsPath).read(root, &log)
            }
        }
        let zone = Zone(identifier: settings.timezone) ?? Zone(TimeZone(secondsFromGMT: 0) ?? .current)
        let today = todayInZone(zone)
        let calendar = SwedishCalendar(closedDays: settings.closedDays)
        // A file parsed under another zone, date or set of closed days may read differently.
        cache.begin(AgreementFileCache.Context(zone: zone.identifier, today: today, closedDays: settings.closedDays))
        let previous = cache.entries

        let agreementsPath = (directory.hasSuffix("/") ? directory : directory + "/") + Self.agreementsDirectory
        let names = yamlFiles(in: agreementsPath)
        // Agreement id → the first file defining it; duplicates are reported after every file.
        var firstFile: [String: String] = [:]
        var duplicates: [(file: String, position: Position, id: String, other: String)] = []
        let context = AgreementContext(zone: zone, settings: settings, today: today)
        // Files are read, parsed and checked on every core, and their results taken in file
        // order as soon as each is ready: the diagnostics, the fingerprint and the agreements
        // handed over come out as if the files were read one by one, while memory holds a
        // window of files.
        ParallelLoop.forEachInOrder(iterations: names.count) { index in
            let path = agreementsPath + "/" + names[index]
            let file = AgreementFile(path: path, zone: zone, today: today, calendar: calendar, cached: previous[path])
            // A file with errors fails the whole load: its agreement (an id of "?", say) is not
            // worth deriving from or handing over.
            let derived = file.log.hasErrors ? nil : file.agreement.map { derive($0, context) }
            return (file, derived)
        } then: { index, read in
            let (result, derived) = read
            files.append(result.path)
            log.append(result.log)
            cache.keep(result)
            guard let text = result.text else { return }
            hasher.add(Self.agreementsDirectory + "/" + names[index], text)
            guard let agreement = result.agreement else { return }
            if let other = firstFile[agreement.id] {
                duplicates.append((result.path, result.position, agreement.id, other))
            } else {
                firstFile[agreement.id] = result.path
            }
            if !result.log.hasErrors { handOver(Read(agreement: agreement, derived: derived)) }
        }
        cache.finish()
        for duplicate in duplicates {
            log.error(
                duplicate.file, duplicate.position,
                "duplicate agreement id '\(duplicate.id)' (also defined in \(duplicate.other))")
        }

        let templates = NoticeTemplates.load(configDirectory: directory, &log)
        for (name, text) in NoticeTemplates.files(configDirectory: directory) { hasher.add(name, text) }
        if log.hasErrors {
            throw ConfigError(diagnostics: log.items)
        }
        return LoadedConfig(
            directory: directory, settings: settings, zone: zone, agreements: [], warnings: log.items,
            fingerprint: hasher.hex, files: files, templates: templates)
    }

    /// One agreement file read, parsed and checked on its own, with its own diagnostics, so that
    /// files can be loaded side by side.
    struct AgreementFile: Sendable {
        let path: String
        var log = DiagnosticLog()
        /// The text, when the file could be read (it goes into the fingerprint).
        var text: String?
        /// The size and hash of the bytes read, when the file could be read.
        var digest: ContentDigest?
        var agreement: Agreement?
        /// Where the agreement starts, for a duplicate id.
        var position = Position.start
        /// Whether the agreement came from the cache rather than from parsing.
        var reused = false

        init(path: String, zone: Zone, today: LocalDate?, calendar: SwedishCalendar, cached: AgreementFileCache.Entry?)
        {
            self.path = path
            guard let bytes = ConfigLoader.readBytes(path) else {
                ConfigLoader.logUnreadable(path, &log)
                return
            }
            let digest = ContentDigest(bytes)
            self.digest = digest
            // The same bytes read under the same context (the cache's) read the same: the text is
            // valid UTF-8 (only files without errors are kept), and the diagnostics are those of
            // the first reading, privacy warnings included.
            if let cached, cached.digest == digest {
                text = ConfigLoader.decodeValidated(bytes)
                (log, agreement, position, reused) = (cached.log, cached.agreement, cached.position, true)
                return
            }
            text = ConfigLoader.text(of: bytes, file: path, &log)
            guard let text, let root = ConfigLoader.parse(text, file: path, &log) else { return }
            let reader = AgreementReader(file: path, zone: zone, today: today, calendar: calendar)
            agreement = reader.read(root, &log)
            position = root.position
        }
    }

    /// The file's text, or nil with the reason logged; the privacy rule is checked on the way.
    static func readFile(_ path: String, _ log: inout DiagnosticLog) -> String? {
        guard let bytes = readBytes(path) else {
            logUnreadable(path, &log)
            return nil
        }
        return text(of: bytes, file: path, &log)
    }

    static func logUnreadable(_ path: String, _ log: inout DiagnosticLog) {
        let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "does not exist"
        log.error(path, .start, "\(path) \(reason)")
    }

    /// The text of a file's bytes, or nil with the reason logged; the privacy rule is checked on
    /// the way.
    static func text(of bytes: [UInt8], file path: String, _ log: inout DiagnosticLog) -> String? {
        var bytes = bytes
        // A byte order mark is not text (Foundation's UTF-8 decoding drops it, as this did before).
        if bytes.starts(with: byteOrderMark) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            log.error(path, .start, "file is not valid UTF-8")
            return nil
        }
        PrivacyScan.check(bytes, file: path, &log)
        return text
    }

    /// The text of bytes that ``text(of:file:_:)`` has accepted before.
    static func decodeValidated(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.starts(with: byteOrderMark) ? bytes.dropFirst(3) : bytes[...], as: UTF8.self)
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The whole file, read with open(2) and read(2), or nil when it cannot be read.
    static func readBytes(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        let known = fstat(descriptor, &status) == 0
        let size = known ? max(Int(status.st_size), 0) : 0
        // A regular file that reads short has been read to its end: one read(2) for a file that
        // has not grown, not a second one to see the end (system calls are much of reading
        // 10,000 small files). Anything else is read until read(2) says the end.
        let isRegular = known && status.st_mode & S_IFMT == S_IFREG
        // One byte more than the size, so a file that has not grown reads short.
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var count = 0
        while true {
            if count == bytes.count { bytes.append(contentsOf: repeatElement(0, count: max(bytes.count, 4096))) }
            let asked = bytes.count - count
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress.map { $0 + count }, asked)
            }
            if got < 0 {
                if errno == EINTR { continue }
                return nil
            }
            count += got
            if got == 0 || (isRegular && got < asked) { break }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// The document's root, or nil with the problem logged.
    static func parse(_ text: String, file: String, _ log: inout DiagnosticLog) -> YAMLValue? {
        // Config files are mostly in the plain subset of YAML that YAMLSubsetParser reads, many
        // times faster than Yams builds its tree; it gives up on anything else, errors included.
        if let document = YAMLSubsetParser.parse(text, file: file) { return YAMLValue(root: document) }
        return parseWithYams(text, file: file, &log)
    }

    /// ``parse(_:file:_:)`` by Yams alone.
    static func parseWithYams(_ text: String, file: String, _ log: inout DiagnosticLog) -> YAMLValue? {
        do {
            // The basic resolver: every scalar stays a string and the readers parse what they need;
            // resolving tags runs regular expressions on every plain scalar and dominated loading.
            // The encoding is given: Yams' default reads the process environment on every call.
            guard let node = try Yams.compose(yaml: text, .basic, .default, .utf8) else {
                log.error(file, .start, "file is empty; expected a mapping")
                return nil
            }
            return YAMLValue(root: YAMLDocument(node, file: file))
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

/// What an agreement file is read under: the settings file's zone and settings, and today's
/// date in that zone (nil: the load was given none).
public struct AgreementContext: Sendable {
    public let zone: Zone
    public let settings: DaemonSettings
    public let today: LocalDate?
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
