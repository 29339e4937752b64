import CKernels
import Foundation
import Synchronization
import Testing
import TensorCore

/// The thread pool (Sources/CLibraries/CKernels/threadpool.c) when regions of different thread
/// counts follow each other: a region with fewer threads than the pool has workers leaves some
/// workers out, and a left-out worker that wakes late must neither join the next region twice nor
/// let it return before its chunks finish (issue #32: it once read the next region's worker count).
@Suite("Thread pool")
struct ThreadPoolTests {
    @Test func mixedThreadCountsRunEveryChunkOnceBeforeReturning() {
        let n = 96, rounds = 2_000
        let counts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        Threads.withCount(4) { parallelFor(4) { _, _ in } }  // three workers, more than the cores here
        var firstBad: (round: Int, index: Int, count: Int32)?
        for round in 0..<rounds where firstBad == nil {
            Threads.withCount([2, 4, 3, 2][round % 4]) {
                parallelFor(n) { b, e in for i in b..<e { counts[i] += 1 } }
            }
            // Every chunk ran exactly once and had finished when parallelFor returned.
            if let i = (0..<n).first(where: { counts[$0] != Int32(round + 1) }) { firstBad = (round, i, counts[i]) }
        }
        #expect(firstBad == nil, "round \(firstBad?.round ?? -1): element \(firstBad?.index ?? -1) ran \(firstBad?.count ?? -1) times")
    }

    /// A region ends when its chunks are done, not when every worker has checked in (issue #30): workers
    /// that are parked (a pause between rounds outlasts their spin), late, or busy with a slow chunk must
    /// still leave every chunk run exactly once, and finished, when parallelFor returns.
    @Test func parkedWorkersAndSlowChunksNeverEndARegionEarly() {
        let n = 64, rounds = 300
        let counts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        var firstBad: (round: Int, index: Int, count: Int32)?
        for round in 0..<rounds where firstBad == nil {
            if round % 3 == 0 { usleep(1_000) }  // longer than a worker's 250 µs spin: it parks
            Threads.withCount([4, 2, 3][round % 3]) {
                parallelFor(n) { b, e in
                    // Chunk b sleeps a little on some rounds, so the other threads finish first.
                    if (b + round) % 5 == 0 { usleep(50) }
                    for i in b..<e { counts[i] += 1 }
                }
            }
            if let i = (0..<n).first(where: { counts[$0] != Int32(round + 1) }) { firstBad = (round, i, counts[i]) }
        }
        #expect(firstBad == nil, "round \(firstBad?.round ?? -1): element \(firstBad?.index ?? -1) ran \(firstBad?.count ?? -1) times")
    }

    /// Beside threads that want every core (here: busy threads of this process, 2 per core), our threads
    /// are preempted, and the pool notices within a few regions: its workers then spin only briefly
    /// before parking, leaving the cores to the others (issue #30).
    @Test func preemptedThreadsShortenTheSpin() {
        final class Flag: Sendable { let raised = Atomic<Bool>(false) }
        let stop = Flag()
        let busy = (0..<2 * Int(pd_cpu_count())).map { _ in
            Thread { while !stop.raised.load(ordering: .relaxed) {} }  // a busy loop that still reads the flag
        }
        busy.forEach { $0.start() }
        defer { stop.raised.store(true, ordering: .relaxed) }
        let start = Date()
        var noticed = false
        while !noticed && Date().timeIntervalSince(start) < 5 {
            Threads.withCount(2) { parallelFor(2) { _, _ in usleep(200) } }
            noticed = pd_pool_spin_is_short() != 0
        }
        #expect(noticed, "no contention noticed in 5 s beside \(busy.count) busy threads")
    }
}
