import Foundation
import Logging
import SamverkanConfig
import SamverkanCore
import Synchronization
import Testing

@testable import SamverkanDaemon

/// The per-sink bound on deliveries at once.
@Suite("delivery gate", .timeLimit(.minutes(1)))
struct DeliveryGateTests {
    /// Waits, without sleeping, until `condition` holds or the deadline passes.
    static func until(_ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            if ContinuousClock.now > deadline { return false }
            await Task.yield()
        }
        return true
    }

    /// Lets go of the deliveries held inside, again and again, until `count` are done.
    static func letGo(_ shared: Shared, until count: Int) async -> Bool {
        await until {
            let held = shared.release.withLock { list -> [CheckedContinuation<Void, Never>] in
                defer { list = [] }
                return list
            }
            for continuation in held { continuation.resume() }
            return shared.inside.withLock { $0.done } == count
        }
    }

    /// What the deliveries inside the gate share with the test.
    final class Shared: Sendable {
        let inside = Mutex((now: 0, most: 0, done: 0))
        let release = Mutex<[CheckedContinuation<Void, Never>]>([])
        /// The order in which deliveries went in.
        let order = Mutex<[Int]>([])
    }

    @Test("at most `limit` inside at once, the rest wait, all get through in their turn")
    func bound() async {
        let gate = DeliveryGate(limit: 4)
        let shared = Shared()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    await gate.pass {
                        shared.inside.withLock {
                            $0.now += 1
                            $0.most = max($0.most, $0.now)
                        }
                        // Held inside until the test lets go.
                        await withCheckedContinuation { continuation in
                            shared.release.withLock { $0.append(continuation) }
                        }
                        shared.inside.withLock {
                            $0.now -= 1
                            $0.done += 1
                        }
                    }
                }
            }
            let full = await Self.until { gate.occupancy == (4, 46) && shared.release.withLock { $0.count } == 4 }
            #expect(full, "occupancy \(gate.occupancy)")
            // Let go of whoever is inside, until everyone went through.
            #expect(await Self.letGo(shared, until: 50))
            await group.waitForAll()
        }
        #expect(shared.inside.withLock { $0.most } == 4)
        #expect(gate.occupancy == (0, 0))
    }

    @Test("deliveries that wait go in in the order they came")
    func firstComeFirstServed() async {
        let gate = DeliveryGate(limit: 1)
        let shared = Shared()
        await withTaskGroup(of: Void.self) { group in
            for k in 0..<6 {
                group.addTask {
                    await gate.pass {
                        shared.order.withLock { $0.append(k) }
                        await withCheckedContinuation { continuation in
                            shared.release.withLock { $0.append(continuation) }
                        }
                        shared.inside.withLock { $0.done += 1 }
                    }
                }
                // The next one comes only once this one is inside or in line.
                let arrived = await Self.until { gate.occupancy.inside + gate.occupancy.waiting == k + 1 }
                #expect(arrived, "delivery \(k) did not arrive")
            }
            #expect(await Self.letGo(shared, until: 6))
            await group.waitForAll()
        }
        #expect(shared.order.withLock { $0 } == [0, 1, 2, 3, 4, 5])
        #expect(gate.occupancy == (0, 0))
    }

    @Test("a sink's own bound: the file sink takes a burst, the others keep the old bound of 16")
    func sinkBounds() throws {
        let config = try RetryTests.config(routeForC: "{match: {agreement: c}, sinks: [outbox]}")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let loaded = try ConfigLoader().load(directory: config, today: { $0.today(Date()) })
        let dispatcher = try Dispatcher(
            config: loaded, stateDirectory: config, logger: Logger(label: "test"), metrics: DeliveryMetrics())
        #expect(dispatcher.gates["outbox"]?.limit ?? 0 > 16)
        #expect(dispatcher.gates.filter { $0.key != "outbox" }.values.allSatisfy { $0.limit == 16 })
    }
}
