import Foundation
import Testing
import TensorCore

@Suite("Random numbers", .serialized)
struct RandomTests {
    @Test func sameSeedSameNumbersAndStateRestores() {
        let a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        #expect(a.normal([100]).scalars == b.normal([100]).scalars)
        let saved = a.state
        let x = a.uniform([50]).scalars
        #expect(RandomGenerator(state: saved).uniform([50]).scalars == x)
        #expect(RandomGenerator(seed: 43).normal([10]).scalars != RandomGenerator(seed: 42).normal([10]).scalars)
    }

    @Test func resultsDoNotDependOnThreadCount() {
        let (one, u1) = Threads.withCount(1) { (RandomGenerator(seed: 7).normal([300_000]).scalars, RandomGenerator(seed: 7).uniform([300_000]).scalars) }
        let (two, u2) = Threads.withCount(2) { (RandomGenerator(seed: 7).normal([300_000]).scalars, RandomGenerator(seed: 7).uniform([300_000]).scalars) }
        #expect(one == two)
        #expect(u1 == u2)
    }

    /// Moments within 5 standard errors (a false alarm rate below 1e-6 per check).
    @Test func normalMomentsAndTails() {
        let n = 1_000_000
        let x = RandomGenerator(seed: 3).normal([n], mean: 2, std: 3).scalars.map(Double.init)
        let mean = x.reduce(0, +) / Double(n)
        let v = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean - 2) < 5 * 3 / sqrt(Double(n)))
        #expect(abs(v - 9) < 5 * 9 * sqrt(2 / Double(n)))
        // P(|z| > 2) = 0.0455: binomial standard error √(p(1−p)/n).
        let tail = Double(x.filter { abs($0 - 2) > 6 }.count) / Double(n)
        #expect(abs(tail - 0.04550026) < 5 * sqrt(0.0455 * 0.9545 / Double(n)))
        #expect(x.allSatisfy { $0.isFinite })
    }

    @Test func uniformIntegersAndPermutations() {
        let g = RandomGenerator(seed: 11)
        let u = g.uniform([100_000], low: -2, high: 3).scalars
        #expect(u.allSatisfy { $0 >= -2 && $0 < 3 })
        let mean = u.reduce(0, +) / Float(u.count)
        #expect(abs(mean - 0.5) < 5 * 5 / sqrt(12 * 100_000))
        let ints = g.integers([60_000], low: 0, high: 6).scalars
        #expect(ints.allSatisfy { (0..<6).contains($0) })
        for k in 0..<6 {
            let c = Double(ints.filter { $0 == k }.count)
            #expect(abs(c - 10_000) < 5 * sqrt(60_000 * (1.0 / 6) * (5.0 / 6)))
        }
        let p = g.permutation(1000)
        #expect(p.sorted() == Array(0..<1000) && p != Array(0..<1000))
    }
}

@Suite("Threads", .serialized)
struct ThreadTests {
    @Test func parallelForCoversEveryIndexOnce() {
        let n = 100_003
        let hits = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        hits.initialize(repeating: 0, count: n)
        defer { hits.deallocate() }
        let box = UncheckedBox(hits)
        parallelFor(n, grain: 1000) { b, e in for i in b..<e { box.pointer[i] += 1 } }
        #expect((0..<n).allSatisfy { hits[$0] == 1 })
    }

    /// Row blocks see their own rows of split inputs, whole broadcast inputs, and join in order.
    @Test func rowParallelSplitsRowsAndJoinsInOrder() {
        let x = Tensor((0..<15).map(Float.init), shape: [5, 3]), bias = Tensor([100, 200, 300], shape: [1, 3])
        func f(_ p: [Tensor?]) -> Tensor { p[2] == nil ? p[0]! * 2 + p[1]! : Tensor(zeros: [1]) }
        let blocked = Threads.withCount(2) { noGrad { rowParallel([x, bias, nil], f) } }
        #expect(blocked.scalars == (x * 2 + bias).scalars)
        // Too few rows per block, or recording gradients: one call.
        var calls = 0
        Threads.withCount(2) {
            _ = noGrad { rowParallel([x, bias, nil], minimumRowsPerBlock: 3) { calls += 1; return f($0) } }
            _ = rowParallel([x.requiringGrad(), bias, nil]) { calls += 1; return f($0) }
        }
        #expect(calls == 2)
        #expect(rowParallel([x.requiringGrad(), bias, nil], f).requiresGrad)
    }

    @Test func gemmGivesSameBitsForSameThreadCount() {
        let a = RandomGenerator(seed: 1).normal([512, 300]), b = RandomGenerator(seed: 2).normal([300, 200])
        let (x, y) = Threads.withCount(2) { (Tensor.matmul(a, b).scalars, Tensor.matmul(a, b).scalars) }
        #expect(x == y)
    }
}

final class UncheckedBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(_ p: UnsafeMutablePointer<Int32>) { pointer = p }
}
