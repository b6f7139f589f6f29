import Synchronization

/// Lets at most `limit` deliveries through to one sink at a time; the others wait their turn,
/// first come first served. The scheduler hands a whole claim to the dispatcher at once, and each
/// sink takes what it can: a file sink a burst, a mail server a few connections.
final class DeliveryGate: Sendable {
    private struct State {
        var inside = 0
        /// In order of arrival; at most the scheduler's delivery window long.
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `body` once fewer than `limit` others are inside. Waiting is not cancelled: a
    /// delivery that was claimed is delivered (or fails) and recorded, also during shutdown.
    func pass<T: Sendable>(_ body: () async -> T) async -> T {
        await enter()
        let result = await body()
        leave()
        return result
    }

    /// How many deliveries are inside and waiting now (tests).
    var occupancy: (inside: Int, waiting: Int) {
        state.withLock { ($0.inside, $0.waiting.count) }
    }

    private func enter() async {
        // Through at once when there is room: no suspension, so a delivery goes straight on to
        // its sink instead of queueing behind every other task of the burst on the event loop.
        let admitted = state.withLock { state -> Bool in
            guard state.inside < limit else { return false }
            state.inside += 1
            return true
        }
        if admitted { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                if state.inside < limit {
                    state.inside += 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.inside -= 1
                return nil
            }
            // The place passes straight to the next in line (`inside` stays the same).
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
