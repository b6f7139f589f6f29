import Foundation
import SamverkanCore
import Synchronization
import Testing

@Suite("parallel loop")
struct ParallelLoopTests {
    final class Seen: Sendable {
        let counts = Mutex<[Int: Int]>([:])
        let threads = Mutex<Set<String>>([])
    }

    @Test("every index once, on several threads, all done when it returns", arguments: [0, 1, 2, 7, 1_000])
    func everyIndexOnce(iterations: Int) {
        let seen = Seen()
        ParallelLoop.forEach(iterations: iterations, width: 4) { index in
            seen.counts.withLock { $0[index, default: 0] += 1 }
            let thread = "\(Unmanaged.passUnretained(Thread.current).toOpaque())"
            seen.threads.withLock { _ = $0.insert(thread) }
            // Long enough that the other threads get some of the work.
            if iterations > 10 { usleep(50) }
        }
        let counts = seen.counts.withLock { $0 }
        #expect(counts.count == iterations)
        #expect(counts.values.allSatisfy { $0 == 1 })
        if iterations >= 1_000 { #expect(seen.threads.withLock { $0.count } > 1) }
    }

    @Test("width 1 runs on the caller's thread alone")
    func widthOne() {
        let caller = "\(Unmanaged.passUnretained(Thread.current).toOpaque())"
        let seen = Seen()
        ParallelLoop.forEach(iterations: 20, width: 1) { _ in
            seen.threads.withLock { _ = $0.insert("\(Unmanaged.passUnretained(Thread.current).toOpaque())") }
        }
        #expect(seen.threads.withLock { $0 } == [caller])
    }

    /// A helper thread may still hold the loop a moment after it is done; the body must not be
    /// held then (withoutActuallyEscaping traps: the daemon crashed on its eighth batch of files).
    @Test("thousands of short loops in a row")
    func shortLoops() {
        let total = Mutex(0)
        for _ in 0..<3_000 {
            ParallelLoop.forEach(iterations: 2, width: 2) { _ in total.withLock { $0 += 1 } }
        }
        #expect(total.withLock { $0 } == 6_000)
    }
}
