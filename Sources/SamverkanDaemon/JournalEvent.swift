/// The events samverkand writes to the journal, each with its own MESSAGE_ID.
///
/// Every id here has an entry in `systemd/samverkan.catalog`, so `journalctl -x` explains it and
/// `journalctl MESSAGE_ID=…` finds every occurrence. Never reuse or change an id: operators and
/// monitoring match on them.
public enum JournalEvent: String, Sendable, CaseIterable {
    /// The daemon loaded its config, bound the control socket and sent READY=1.
    case started = "48425e9ac6fa4580a0e28df5f0e74b99"
    /// SIGTERM or SIGINT arrived; the daemon is stopping.
    case stopping = "3b17d90d98da4703afb0d7563d55061c"
    /// A reload (SIGHUP or `POST /v1/reload`) replaced the running config.
    case reloaded = "60ed086529e44c249cb678841896c1e7"
    /// A reload was refused because the new config is invalid; the old one keeps running.
    case reloadRefused = "12d5981a4fdb4441877164ecf22118ac"
    /// The config could not be loaded at start; the daemon exits with status 78.
    case configInvalid = "f8548bff66d043b09168319fd440bd76"
    /// A notice was delivered to a sink.
    case noticeSent = "d8991c9c69734f3abfdc698ae484b805"
    /// A delivery attempt failed (it will be retried, or it is dead).
    case noticeFailed = "121536cf22f94f33b8beac699a13f5cb"
    /// The report of what fell due while the daemon was not running.
    case downtimeReport = "9bf4007514384f6aab4238c67c83bd72"
    /// A notice could not be delivered by any sink and was given up.
    case deadLetter = "72fcc5023fbc4961bcc87b854cb97b12"
    /// An event-started window (SMADIT) passed its target with no outcome: a deviation.
    case caseBreach = "0b14446ac4084510b776f64381efd19a"
    /// A write on the control socket (complete, case, reload), with the peer's uid and pid.
    case audit = "35b73ad27b614b4997d8f9638afdbddc"
    /// The store failed (a full disk, an I/O error); the scheduler tries again shortly.
    case storeFailed = "c9afb6a8fd0a4158bc301b8f0ebccbe2"
    /// The scheduler did not answer the watchdog's round trip; WATCHDOG=1 is withheld.
    case watchdogStalled = "34b7f00deb6141c48973dd67a5cfae47"
}
