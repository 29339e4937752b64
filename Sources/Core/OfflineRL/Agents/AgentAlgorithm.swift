import Foundation
import NN
import TensorCore

extension AgentAlgorithm {
    /// The algorithm object for these networks (built by `OfflineTrainer.init(dataset:algorithm:…)`).
    public func make(networks: AgentNetworks, hyperparameters h: AgentHyperparameters, rng: RandomGenerator) -> any OfflineAlgorithm {
        precondition(networks.config.algorithm == self, "networks built for \(networks.config.algorithm), not \(self)")
        switch self {
        case .bc, .bcGaussian: return BehaviorCloning(networks: networks, hyperparameters: h)
        case .td3bc: return TD3BC(networks: networks, hyperparameters: h, rng: rng)
        case .iql: return IQL(networks: networks, hyperparameters: h)
        case .sac:
            // Offline SAC on a dataset: the shared settings carried over, SAC's own defaults otherwise.
            var s = SACSettings()
            s.hidden = networks.config.hidden; s.batchSize = h.batchSize; s.discount = h.discount; s.polyak = h.polyak
            return SAC(networks: networks, settings: s, rng: rng)
        }
    }
}

/// What BC, TD3+BC and IQL share beyond their losses: `AgentNetworks`, the PGD hyperparameters,
/// and the parts of their state that a checkpoint must carry.
protocol AgentUpdateRule: OfflineAlgorithm, ResumableParts where Networks == AgentNetworks {
    var hyperparameters: AgentHyperparameters { get }
}

extension AgentUpdateRule {
    public var settingsJSON: String { canonicalJSON(hyperparameters) }

    public func policy(preprocessing: TransitionPreprocessing, metadata: [String: String]) -> any Policy {
        AgentPolicy(networks: networks, observationNormalizer: preprocessing.observationNormalizer, actionMap: preprocessing.actionMap,
                    metadata: metadata)
    }
}


/// One Adam over a module's trainable parameters with the agents' settings.
func agentAdam(_ parameters: [(String, Parameter)], _ h: AgentHyperparameters) -> Adam {
    Adam(parameters: parameters, config: .init(learningRate: h.learningRate, eps: h.adamEps))
}
