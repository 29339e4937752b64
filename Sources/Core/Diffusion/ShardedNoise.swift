import Foundation
import TensorCore

extension RandomGenerator {
    /// Standard-normal per-row noise of `shape` ([rows, …]). Inside an update on this rank's shard of a
    /// global batch (`ProcessGroup.shardedBatch`, docs/distributed.md), when `rows` is m × the shard's
    /// rows (m draws per state, state-major as `DiffusionActorSampler.tile` lays them out): the values
    /// one process draws for those rows of the global batch — the generator advances over the whole
    /// global draw, so every rank stays in step and R ranks sample what one process samples (the rule
    /// `DiffusionObjective.loss` and `Dropout` follow). Elsewhere a plain `normal(shape)`.
    public func rowNoise(_ shape: [Int]) -> Tensor {
        guard let group = ProcessGroup.parallel, let global = group.shardedBatch, let rows = shape.first else { return normal(shape) }
        let mine = group.shard(global)
        guard !mine.isEmpty, rows % mine.count == 0 else { return normal(shape) }
        let m = rows / mine.count
        return normal([global * m] + shape.dropFirst()).slice(axis: 0, (mine.lowerBound * m)..<(mine.upperBound * m))
    }
}
