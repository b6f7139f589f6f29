/// A store operation that failed, classified so callers can match on `code` (the control socket
/// maps `unknownDeadline` to 404 and `conflict` to 409) and new codes break nobody.
///
/// Every message says what was wrong and what to do about it.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: String {
            case locked, newerSchema, notAStore, unknownDeadline, unknownNotice, unknownRole, notARound
            case unknownCase, conflict, backupFailed, io, database, cancelled
        }
        private let kind: Kind

        /// Another samverkand holds the state directory's lock.
        public static let locked = Code(kind: .locked)
        /// The store was written by a newer samverkand (it has migrations this one does not know).
        public static let newerSchema = Code(kind: .newerSchema)
        /// The file is not an SQLite database, or not one of ours.
        public static let notAStore = Code(kind: .notAStore)
        /// No deadline with that id is in the store.
        public static let unknownDeadline = Code(kind: .unknownDeadline)
        /// No notice with that id is in the store.
        public static let unknownNotice = Code(kind: .unknownNotice)
        /// A collection round has no respondent with that role.
        public static let unknownRole = Code(kind: .unknownRole)
        /// A role was given for a deadline that is not a collection round.
        public static let notARound = Code(kind: .notARound)
        /// No case with that reference.
        public static let unknownCase = Code(kind: .unknownCase)
        /// The request contradicts what is stored (a case opened again at another time).
        public static let conflict = Code(kind: .conflict)
        /// `VACUUM INTO` could not write the copy.
        public static let backupFailed = Code(kind: .backupFailed)
        /// The state directory or the lock file could not be used.
        public static let io = Code(kind: .io)
        /// SQLite reported an error the store did not expect.
        public static let database = Code(kind: .database)
        /// The calling task was cancelled before the transaction ran; nothing was written.
        public static let cancelled = Code(kind: .cancelled)

        public var description: String { kind.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
