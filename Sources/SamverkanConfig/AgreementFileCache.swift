import SamverkanCore

/// The agreement files of the last load, so that the next load (a reload) parses only the files
/// whose bytes changed: a reload of 500 agreements where five were edited parses five.
///
/// An entry is reused for a file at the same path with the same size and content hash, read under
/// the same zone, date and closed days (everything `AgreementReader` reads a file with besides
/// the file itself); any of those changing empties the cache. Only files read without errors are
/// kept: a file with an error is read again, so its diagnostics come back fresh.
///
/// The entries hold the agreements the loaded config holds anyway (the values share their
/// storage) and no file text, so the cache costs little memory.
public struct AgreementFileCache: Sendable {
    /// What an agreement file is read with, besides its bytes.
    struct Context: Sendable, Hashable {
        var zone: String
        var today: LocalDate?
        var closedDays: Set<LocalDate>
    }

    struct Entry: Sendable {
        var digest: ContentDigest
        var log: DiagnosticLog
        var agreement: Agreement
        var position: Position
    }

    /// A cache that keeps nothing, for one-off loads (`check-config`, `plan`): they would only
    /// hold on to memory.
    let keeping: Bool
    private var context: Context?
    /// The entries of the last load, by path; the current load's, as `keep` adds them.
    private(set) var entries: [String: Entry] = [:]
    private var current: [String: Entry] = [:]
    /// Agreement files parsed by the last load.
    public private(set) var parsedFiles = 0
    /// Agreement files of the last load taken from the cache instead.
    public private(set) var reusedFiles = 0

    public init() { self.init(keeping: true) }

    init(keeping: Bool) { self.keeping = keeping }

    /// Starts a load under `context`: the entries of a load under another context are dropped.
    mutating func begin(_ context: Context) {
        if context != self.context || !keeping { entries = [:] }
        self.context = context
        current = [:]
        parsedFiles = 0
        reusedFiles = 0
    }

    /// Takes in a file of the current load; the entries become the current load's files alone
    /// (a removed file's entry is gone) with ``finish()``.
    mutating func keep(_ file: ConfigLoader.AgreementFile) {
        if file.reused { reusedFiles += 1 } else if file.digest != nil { parsedFiles += 1 }
        guard keeping, let digest = file.digest, let agreement = file.agreement, !file.log.hasErrors else { return }
        current[file.path] = Entry(digest: digest, log: file.log, agreement: agreement, position: file.position)
    }

    /// Ends the current load: the next load reuses its files.
    mutating func finish() {
        entries = current
        current = [:]
    }
}

/// The size of a file and a 64-bit FNV-1a hash of its bytes: what tells the cache that a file is
/// the one it read before. Two versions of a file of the same size colliding by chance has a
/// probability of about 2^-64; config files are written by their administrators, not by an
/// adversary.
struct ContentDigest: Sendable, Hashable {
    var size: Int
    var hash: UInt64

    init(_ bytes: [UInt8]) {
        var hash = StableHash()
        for byte in bytes { hash.mix(byte) }
        self.size = bytes.count
        self.hash = hash.value
    }
}
