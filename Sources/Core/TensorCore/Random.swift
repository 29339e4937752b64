import CKernels

/// The saved form of a generator (stored in checkpoints so training resumes on the same stream).
public struct RandomState: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var counter: UInt64
    public init(seed: UInt64, counter: UInt64) { self.seed = seed; self.counter = counter }
}

/// The library's one seeded generator: counter-based (SplitMix64 over seed and position), so a
/// draw of n numbers is the same whichever thread computes which part, and any state can be saved
/// and restored exactly.
public final class RandomGenerator {
    public private(set) var seed: UInt64
    public private(set) var counter: UInt64

    public init(seed: UInt64, counter: UInt64 = 0) {
        self.seed = seed
        self.counter = counter
    }

    public convenience init(state: RandomState) { self.init(seed: state.seed, counter: state.counter) }

    public var state: RandomState { RandomState(seed: seed, counter: counter) }

    /// Continues from a saved state (resumed training).
    public func restore(_ state: RandomState) { seed = state.seed; counter = state.counter }

    private func advance(_ n: Int) -> UInt64 {
        let start = counter
        counter &+= UInt64(n)
        return start
    }

    public func nextUInt64() -> UInt64 { pd_random_u64(seed, advance(1)) }

    /// Uniform integer in 0..<bound (Lemire's multiply-shift; bias below 2⁻³²·bound).
    public func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        return Int((UInt64(UInt32(truncatingIfNeeded: nextUInt64() >> 32)) &* UInt64(bound)) >> 32)
    }

    /// Uniform Double in [0, 1).
    public func nextDouble() -> Double { Double(nextUInt64() >> 11) * 0x1.0p-53 }

    public func normal(_ shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let start = advance(t.count)
        t.withUnsafeMutableBufferPointer { pd_fill_normal(seed, start, $0.baseAddress, Int64($0.count), mean, std) }
        return t
    }

    public func uniform(_ shape: [Int], low: Float = 0, high: Float = 1) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let start = advance(t.count)
        t.withUnsafeMutableBufferPointer { pd_fill_uniform(seed, start, $0.baseAddress, Int64($0.count), low, high) }
        return t
    }

    /// Uniform integers in low..<high.
    public func integers(_ shape: [Int], low: Int = 0, high: Int) -> IntTensor {
        precondition(high > low, "integers needs high > low")
        let n = shape.reduce(1, *)
        return IntTensor((0..<n).map { _ in low + nextInt(below: high - low) }, shape: shape)
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) } }
        return p
    }

    /// An independent stream derived from this one (e.g. for dropout inside a module).
    public func fork() -> RandomGenerator { RandomGenerator(seed: nextUInt64()) }
}
