import GRDB
import GRDBSQLite

/// An INSERT or UPDATE that returns no rows (the reconcile's, a claim's), its values bound with
/// `sqlite3_bind_*` directly.
///
/// Adding 10,000 deadlines inserts 20,000 rows, and removing them updates as many; GRDB's
/// arguments (an existential per value, converted to a `DatabaseValue`, then bound) cost about
/// as much as SQLite's own work. The values stored are the same: TEXT for strings, REAL for
/// doubles, INTEGER for integers, NULL for nil. The statement comes from the connection's cache
/// and is used only here, always reset after its step, so GRDB never finds it half-used; a
/// reconcile prepares each once and runs it for every row.
struct RawStatement {
    enum Value {
        case text(String?)
        case real(Double)
        case integer(Int64)
    }

    let db: Database
    let statement: Statement

    init(_ db: Database, sql: String) throws {
        self.db = db
        self.statement = try db.cachedStatement(sql: sql)
    }

    /// Binds `values` to the parameters in order, runs the statement, and returns how many rows
    /// it inserted or changed (`sqlite3_changes`; no table the reconcile writes has a trigger).
    @discardableResult
    func run(_ values: Value...) throws -> Int {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .text(nil): code = sqlite3_bind_null(handle, index)
            case .text(let text?):
                // The length given, so the bytes are bound as they are; SQLite copies them.
                let length = Int32(text.utf8.count)
                code = text.withCString { sqlite3_bind_text(handle, index, $0, length, Self.transient) }
            case .real(let number): code = sqlite3_bind_double(handle, index, number)
            case .integer(let number): code = sqlite3_bind_int64(handle, index, number)
            }
            guard code == SQLITE_OK else { throw error(code) }
        }
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw error(code) }
        return Int(sqlite3_changes(db.sqliteConnection))
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the bytes before the bind returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
