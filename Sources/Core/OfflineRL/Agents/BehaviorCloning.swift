import Foundation
import NN
import TensorCore

/// Behavior cloning: the deterministic actor regresses dataset actions (MSE in [−1, 1]); the
/// Gaussian actor maximizes their log-likelihood.
public final class BehaviorCloning: AgentUpdateRule {
    public let networks: AgentNetworks
    public let hyperparameters: AgentHyperparameters
    let optimizer: Adam

    public init(networks: AgentNetworks, hyperparameters: AgentHyperparameters) {
        self.networks = networks
        self.hyperparameters = hyperparameters
        optimizer = agentAdam(networks.trainableParameters(), hyperparameters)
    }

    public var resumableParts: [(String, any Resumable)] { [("optimizer", optimizer)] }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let mean = networks.actor(b.observations)
        if networks.config.algorithm == .bcGaussian {
            let nll = -networks.logProbability(b.actions, mean: mean).mean()
            optimizer.minimize(nll)
            return ["actor_nll": nll.item]
        }
        let mse = Loss.mse(mean, b.actions)
        optimizer.minimize(mse)
        return ["actor_mse": mse.item]
    }
}
