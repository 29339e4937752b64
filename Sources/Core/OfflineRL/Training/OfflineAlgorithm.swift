import Foundation
import NN
import TensorCore

/// An offline RL algorithm: it owns its networks, optimizers and target networks, takes one update
/// per preprocessed batch, and saves/restores everything beyond the weights (targets, optimizer
/// moments, its random stream) as `Resumable` state. BC, TD3+BC and IQL conform; a new method
/// (FISOR) is one more conformer and trains with the same `OfflineTrainer`.
public protocol OfflineAlgorithm: AnyObject, Resumable {
    associatedtype Networks: ConfigurableModule
    /// The weights a checkpoint stores (and a policy acts with).
    var networks: Networks { get }
    /// Settings that must match for a run to resume (JSON; stored in the checkpoint).
    var settingsJSON: String { get }
    /// One update on a batch in training units; returns the step's metrics.
    func update(_ batch: TransitionBatch) -> [String: Float]
    /// The trained networks as a policy in environment units.
    func policy(preprocessing: TransitionPreprocessing, metadata: [String: String]) -> any Policy
    /// true: in a data-parallel run the algorithm takes the whole batch and shards its own sub-batches
    /// (FISOR's fixed actor and critic blocks); false: `OfflineTrainer` hands it this rank's shard.
    var shardsItsOwnBatch: Bool { get }
}

extension OfflineAlgorithm {
    public var shardsItsOwnBatch: Bool { false }
}


