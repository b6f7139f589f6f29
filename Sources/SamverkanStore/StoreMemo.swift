import Synchronization

/// How many write transactions the store has finished: the version of its contents.
///
/// Only this process writes the store (the state directory's lock), and every write passes
/// through `SQLiteStore.write` or `writeWithoutTransaction`, which bump the count once the
/// transaction has ended, committed or not. A value read while the count was g describes the
/// store as long as the count is still g.
final class StoreVersion: Sendable {
    private let count = Atomic<UInt64>(0)

    var current: UInt64 { count.load(ordering: .acquiring) }

    func bump() { count.add(1, ordering: .releasing) }
}

/// One read's answer, kept until the store changes: `GET /v1/status` and `/metrics` count
/// a million notices by state (tens of milliseconds), and a socket under load asks thousands
/// of times a second while nothing changes.
///
/// The version is read before the read starts. A write that commits while the read runs bumps
/// the version after its commit, so whatever the read saw, the next call reads again: an answer
/// is never older than the last write that finished before it was asked for, and at worst it is
/// read twice. Callers that ask at once while no answer is kept share one read.
final class StoreMemo<Value: Sendable>: Sendable {
    private enum Slot {
        case empty
        case kept(version: UInt64, value: Value)
        case reading(version: UInt64, task: Task<Value, any Error>)
    }

    private enum Lookup {
        case kept(Value)
        case reading(Task<Value, any Error>, started: Bool)
    }

    private let slot = Mutex<Slot>(.empty)

    /// The kept answer when it was read at `version` and `isCurrent` accepts it; otherwise the
    /// answer of `read`, shared with any caller asking for the same version meanwhile.
    func value(
        at version: UInt64, isCurrent: @Sendable (Value) -> Bool = { _ in true },
        read: @escaping @Sendable () async throws(StoreError) -> Value
    ) async throws(StoreError) -> Value {
        let lookup: Lookup = slot.withLock { slot in
            switch slot {
            case .kept(let kept, let value) where kept == version && isCurrent(value):
                return .kept(value)
            case .reading(let reading, let task) where reading == version:
                return .reading(task, started: false)
            default:
                let task = Task { () async throws -> Value in try await read() }
                slot = .reading(version: version, task: task)
                return .reading(task, started: true)
            }
        }
        switch lookup {
        case .kept(let value):
            return value
        case .reading(let task, let started):
            let value: Value
            do { value = try await task.value } catch {
                if started { slot.withLock { if case .reading(version, _) = $0 { $0 = .empty } } }
                throw error as? StoreError ?? StoreError(.database, "\(error)")
            }
            if started {
                slot.withLock { slot in
                    if case .reading(let reading, _) = slot, reading == version {
                        slot = .kept(version: version, value: value)
                    }
                }
            }
            // A read shared with a caller who asked earlier may answer for an earlier time.
            if !isCurrent(value) { return try await read() }
            return value
        }
    }
}
