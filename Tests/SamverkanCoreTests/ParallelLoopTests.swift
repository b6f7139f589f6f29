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

    @Test("in order: every result consumed once, in index order, on the caller's thread", arguments: [0, 1, 2, 9, 500])
    func inOrder(iterations: Int) {
        let caller = "\(Unmanaged.passUnretained(Thread.current).toOpaque())"
        let producers = Seen()
        var consumed: [Int] = []
        var consumers = Set<String>()
        ParallelLoop.forEachInOrder(iterations: iterations, width: 3, ahead: 8) { index in
            producers.threads.withLock { _ = $0.insert("\(Unmanaged.passUnretained(Thread.current).toOpaque())") }
            // Later indexes finish first now and then: the order must come from the loop.
            if index % 7 == 0 { usleep(200) }
            return index * 10
        } then: { index, result in
            #expect(result == index * 10)
            consumed.append(index)
            consumers.insert("\(Unmanaged.passUnretained(Thread.current).toOpaque())")
        }
        #expect(consumed == Array(0..<iterations))
        if iterations > 1 {
            #expect(consumers == [caller])
            #expect(!producers.threads.withLock { $0 }.contains(caller))
        }
    }

    /// The caller gets the first results while later ones are still to be made, and no more
    /// than `ahead` wait for it.
    @Test("in order: consuming starts early and the window is bounded")
    func inOrderWindow() {
        let produced = Mutex(0)
        var mostAhead = 0
        var producedAtFirst = 0
        ParallelLoop.forEachInOrder(iterations: 200, width: 2, ahead: 5) { index in
            produced.withLock { $0 += 1 }
            return index
        } then: { index, _ in
            let count = produced.withLock { $0 }
            if index == 0 { producedAtFirst = count }
            mostAhead = max(mostAhead, count - index)
            // A slow consumer: the producers fill the window and wait.
            usleep(100)
        }
        // When the first is consumed, at most 1 + ahead have been handed out.
        #expect(producedAtFirst <= 6)
        // While index `i` is consumed, at most `i + 1 + ahead` have been handed out, so made.
        #expect(mostAhead <= 6)
        #expect(produced.withLock { $0 } == 200)
    }

    @Test("thousands of short ordered loops in a row")
    func shortOrderedLoops() {
        var total = 0
        for _ in 0..<2_000 {
            ParallelLoop.forEachInOrder(iterations: 2, width: 2) {
                $0 + 1
            } then: {
                total += $1
            }
        }
        #expect(total == 6_000)
    }
}
