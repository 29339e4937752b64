import Foundation
import NN
import TensorCore

/// Where an offline algorithm's minibatches come from: the real dataset, a synthetic pool that a
/// generator replaces while training runs (PGD, docs/pgd.md §4), or a mixture of sources by a fixed
/// number of rows each. Sources are `Resumable`: their position is part of a checkpoint.
public protocol BatchSource: AnyObject, Resumable {
    /// Rows per batch.
    var batchSize: Int { get }
    /// The next batch (preprocessed transitions, ready for an update).
    func next() -> TransitionBatch
}

/// How a sampler draws its rows.
public enum SamplingMode: String, Codable, Sendable, CaseIterable {
    /// Shuffled passes over the data, each row once per epoch (the order of epoch e depends only on
    /// the seed and e).
    case epochs
    /// Each batch drawn uniformly, its rows distinct; batches independent (PGD's batches, docs/pgd.md §4).
    case distinctInBatch = "distinct-in-batch"
    /// Every row drawn independently and uniformly.
    case withReplacement = "with-replacement"
}

/// Minibatches from one set of transitions. `replace(with:)` swaps in a new pool (a regenerated
/// synthetic dataset) and drawing continues over the new rows.
public final class TransitionSampler: BatchSource {
    public private(set) var data: TransitionBatch
    public let batchSize: Int
    public let mode: SamplingMode
    private let seed: UInt64
    private let rng: RandomGenerator
    private var epochs: MinibatchSampler?
    /// How many times the pool was replaced (part of the saved position: an epoch order is per pool).
    public private(set) var generation = 0

    public init(_ data: TransitionBatch, batchSize: Int, mode: SamplingMode = .epochs, seed: UInt64) {
        precondition(batchSize >= 1, "a sampler needs a positive batch size")
        precondition(data.count >= (mode == .withReplacement ? 1 : batchSize),
                     "\(data.count) transitions cannot fill a batch of \(batchSize) without replacement")
        self.data = data
        self.batchSize = batchSize
        self.mode = mode
        self.seed = seed
        rng = RandomGenerator(seed: seed)
        if mode == .epochs { epochs = MinibatchSampler(count: data.count, batchSize: batchSize, seed: seed) }
    }

    /// Swaps in a new pool of transitions (same fields and widths). `generation` sets the pool's
    /// number explicitly (a resumed run re-installing a saved pool); by default it counts up.
    public func replace(with newData: TransitionBatch, generation newGeneration: Int? = nil) {
        precondition(newData.observations.shape.dropFirst() == data.observations.shape.dropFirst()
                     && newData.actions.shape.dropFirst() == data.actions.shape.dropFirst(), "replacement pool has other widths")
        precondition(newData.count >= (mode == .withReplacement ? 1 : batchSize), "replacement pool is smaller than one batch")
        data = newData
        generation = newGeneration ?? generation + 1
        if mode == .epochs { epochs = MinibatchSampler(count: data.count, batchSize: batchSize, seed: seed &+ UInt64(generation)) }
    }

    /// Row indices of the next batch.
    public func nextIndices() -> [Int] {
        switch mode {
        case .epochs: return epochs!.next()
        case .withReplacement: return (0..<batchSize).map { _ in rng.nextInt(below: data.count) }
        case .distinctInBatch:
            // Floyd's algorithm: batchSize distinct rows in O(batchSize) draws.
            var chosen = Set<Int>(), out: [Int] = []
            for j in (data.count - batchSize)..<data.count {
                let t = rng.nextInt(below: j + 1)
                let pick = chosen.contains(t) ? j : t
                chosen.insert(pick)
                out.append(pick)
            }
            return out
        }
    }

    public func next() -> TransitionBatch { data.rows(nextIndices()) }

    public func saveState(into state: inout TrainingState, key: String) {
        state.values["\(key).rows"] = String(data.count)
        state.values["\(key).generation"] = String(generation)
        rng.saveState(into: &state, key: "\(key).rng")
        epochs?.saveState(into: &state, key: "\(key).epochs")
    }

    /// Restores the position; the pool itself is the caller's (a replaced pool must be replaced
    /// again before restoring — the row count is checked).
    public func restoreState(from state: TrainingState, key: String) throws {
        let rows = try state.integer("\(key).rows"), g = try state.integer("\(key).generation")
        guard rows == data.count, g == generation else {
            throw Checkpoint.Error.badConfig("batch source '\(key)' was saved over \(rows) rows (pool \(g)); this one has \(data.count) (pool \(generation))")
        }
        try rng.restoreState(from: state, key: "\(key).rng")
        try epochs?.restoreState(from: state, key: "\(key).epochs")
    }
}

/// Batches made of a fixed number of rows from each source, concatenated in order — e.g. PGD's
/// 240 synthetic + 16 real transitions per batch of 256 (docs/pgd.md §4).
public final class MixedBatches: BatchSource {
    public let sources: [any BatchSource]

    public init(_ sources: [any BatchSource]) {
        precondition(!sources.isEmpty, "a mixture needs at least one source")
        self.sources = sources
    }

    /// Two pools mixed by a ratio: round(fraction · batchSize) rows from `first`, the rest from `second`.
    public convenience init(_ first: TransitionBatch, _ second: TransitionBatch, fractionOfFirst fraction: Double, batchSize: Int,
                            mode: SamplingMode = .distinctInBatch, seed: UInt64) {
        precondition(fraction > 0 && fraction < 1, "the mixing fraction must be in (0, 1), got \(fraction)")
        let a = Int((fraction * Double(batchSize)).rounded())
        precondition(a >= 1 && a < batchSize, "batch \(batchSize) with fraction \(fraction) leaves a part empty")
        let seeds = RandomGenerator(seed: seed)
        self.init([TransitionSampler(first, batchSize: a, mode: mode, seed: seeds.nextUInt64()),
                   TransitionSampler(second, batchSize: batchSize - a, mode: mode, seed: seeds.nextUInt64())])
    }

    public var batchSize: Int { sources.reduce(0) { $0 + $1.batchSize } }

    public func next() -> TransitionBatch { TransitionBatch.concatenate(sources.map { $0.next() }) }

    public func saveState(into state: inout TrainingState, key: String) {
        for (i, s) in sources.enumerated() { s.saveState(into: &state, key: "\(key).\(i)") }
    }

    public func restoreState(from state: TrainingState, key: String) throws {
        for (i, s) in sources.enumerated() { try s.restoreState(from: state, key: "\(key).\(i)") }
    }
}
