import Foundation
import NN
import TensorCore

/// Runs an offline algorithm on batches from a batch source; saves and resumes the whole run —
/// weights, the algorithm's state (targets, optimizers, its random stream), the source's position
/// and the step — so `--stop-after` then `--resume` equals a straight run bit for bit.
public final class OfflineTrainer: Trainer {
    public let algorithm: any OfflineAlgorithm
    public let batches: any BatchSource
    public let preprocessing: TransitionPreprocessing
    public var step = 0
    /// More state a checkpoint must carry (e.g. PGD's synthetic pool), restored before the batches.
    public var extraState: [(String, any Resumable)] = []

    public init(algorithm: any OfflineAlgorithm, batches: any BatchSource, preprocessing: TransitionPreprocessing) {
        self.algorithm = algorithm
        self.batches = batches
        self.preprocessing = preprocessing
    }

    /// One update; returns the step's metrics. In a data-parallel run each rank updates on its
    /// shard of the batch (docs/distributed.md); the optimizers average the gradients.
    public func trainStep() -> [String: Float] {
        let batch = batches.next()
        let metrics: [String: Float]
        if let group = ProcessGroup.parallel, !algorithm.shardsItsOwnBatch {
            precondition(batch.count % group.size == 0, "a batch of \(batch.count) rows does not split evenly over \(group.size) ranks")
            metrics = group.onShard(of: batch.count) { algorithm.update(batch.rows(Array(group.shard(batch.count)))) }
        } else {
            metrics = algorithm.update(batch)
        }
        step += 1
        return metrics
    }

    /// The current networks as a policy in environment units.
    public func policy(metadata: [String: String] = [:]) -> any Policy {
        algorithm.policy(preprocessing: preprocessing, metadata: metadata)
    }

    // Trainer: the algorithm's networks, its state and the batch source's position.
    public var savedModule: any ConfigurableModule { algorithm.networks }
    public var resumableParts: [(String, any Resumable)] { extraState + [("algorithm", algorithm), ("batches", batches)] }

    /// Metadata every offline checkpoint carries (what `AgentPolicy.load` and resume read).
    public var resumeSettings: [String: String] {
        ["observation_normalizer": canonicalJSON(preprocessing.observationNormalizer), "action_map": canonicalJSON(preprocessing.actionMap),
         "reward_multiplier": String(preprocessing.rewardMultiplier), "bootstrapping": preprocessing.bootstrapping.rawValue,
         "hyperparameters": algorithm.settingsJSON]
    }
}

extension OfflineTrainer {
    /// The standard setup: preprocessing fitted to `dataset`, the recipe's networks and algorithm,
    /// and shuffled epochs over the real transitions.
    public convenience init(dataset: OfflineDataset, recipe: some OfflineAlgorithmRecipe, actionBounds: Box, seed: UInt64) throws {
        if let error = recipe.validationError() { throw DataFileError.unsupported(error) }
        guard dataset.count >= recipe.batchSize else {
            throw DataFileError.unsupported("the dataset has \(dataset.count) transitions, fewer than one batch of \(recipe.batchSize)")
        }
        let preprocessing = try recipe.preprocessing(fitting: dataset, actionBounds: actionBounds)
        // One stream: networks first, then the sampler's seed, then the algorithm's draws (target noise, diffusion noise).
        let rng = RandomGenerator(seed: seed)
        let build = recipe.algorithmBuilder(observationDim: dataset.observationDim, actionDim: dataset.actionDim, networkRNG: rng.fork())
        let batches = TransitionSampler(try preprocessing(dataset), batchSize: recipe.batchSize, mode: .epochs, seed: rng.nextUInt64())
        self.init(algorithm: build(rng), batches: batches, preprocessing: preprocessing)
    }

    /// BC, TD3+BC or IQL (`AgentRecipe`).
    public convenience init(dataset: OfflineDataset, algorithm kind: AgentAlgorithm, hyperparameters h: AgentHyperparameters,
                            actionBounds: Box, seed: UInt64) throws {
        try self.init(dataset: dataset, recipe: AgentRecipe(kind, hyperparameters: h), actionBounds: actionBounds, seed: seed)
    }
}
