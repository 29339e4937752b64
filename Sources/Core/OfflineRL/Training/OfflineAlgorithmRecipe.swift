import Foundation
import NN
import TensorCore

/// How to build an offline algorithm for a dataset: the preprocessing it trains in, its batch size,
/// and its networks and update rule. The MLP agents (`AgentRecipe`) and the diffusion policies
/// (`DiffusionPolicySettings`) conform, so `OfflineTrainer` and PGD's agent trainer build any of them
/// the same way.
public protocol OfflineAlgorithmRecipe {
    var batchSize: Int { get }
    var normalizeObservations: Bool { get }
    /// Rewards × rewardScale / (return range) when > 0; 0 keeps them.
    var rewardScale: Float { get }
    var bootstrapping: Bootstrapping { get }
    /// nil, or why these settings cannot train.
    func validationError() -> String?
    /// Fresh networks for these sizes, drawn from `networkRNG` now; the returned closure builds the
    /// algorithm over them with its own draws from the generator it is given (two steps, so the
    /// batch sampler's seed can be drawn in between: the order every trainer has always used).
    func algorithmBuilder(observationDim: Int, actionDim: Int, networkRNG: RandomGenerator) -> (RandomGenerator) -> any OfflineAlgorithm
}

extension OfflineAlgorithmRecipe {
    public func validationError() -> String? { nil }

    /// The preprocessing these settings train in, fitted to `dataset`.
    public func preprocessing(fitting dataset: OfflineDataset, actionBounds: Box) throws -> TransitionPreprocessing {
        try TransitionPreprocessing(fitting: dataset, actionBounds: actionBounds, normalizeObservations: normalizeObservations,
                                    rewardScale: rewardScale, bootstrapping: bootstrapping)
    }
}

/// BC, Gaussian BC, TD3+BC or IQL with its hyperparameters, as a recipe.
public struct AgentRecipe: OfflineAlgorithmRecipe {
    public var algorithm: AgentAlgorithm
    public var hyperparameters: AgentHyperparameters

    public init(_ algorithm: AgentAlgorithm, hyperparameters: AgentHyperparameters) {
        self.algorithm = algorithm
        self.hyperparameters = hyperparameters
    }

    public var batchSize: Int { hyperparameters.batchSize }
    public var normalizeObservations: Bool { hyperparameters.normalizeObservations }
    public var rewardScale: Float { hyperparameters.rewardScale }
    public var bootstrapping: Bootstrapping { hyperparameters.bootstrapping }

    public func algorithmBuilder(observationDim: Int, actionDim: Int, networkRNG: RandomGenerator) -> (RandomGenerator) -> any OfflineAlgorithm {
        let networks = AgentNetworks(config: .init(algorithm: algorithm, observationDim: observationDim, actionDim: actionDim), rng: networkRNG)
        return { [algorithm, hyperparameters] rng in algorithm.make(networks: networks, hyperparameters: hyperparameters, rng: rng) }
    }
}
