import Foundation
import NN
import TensorCore

/// Behavior cloning: the deterministic actor regresses dataset actions (MSE in [−1, 1]); the
/// Gaussian actor maximises their log-likelihood.
final class BehaviorCloning: AgentUpdate {
    let networks: AgentNetworks
    init(networks: AgentNetworks) { self.networks = networks }

    func losses(_ b: TransitionBatch, rng: RandomGenerator) -> (total: Tensor, metrics: [String: Tensor]) {
        let mean = networks.actor(b.observations)
        if networks.config.algorithm == .bcGaussian {
            let nll = -networks.logProbability(b.actions, mean: mean).mean()
            return (nll, ["actor_nll": nll])
        }
        let mse = Loss.mse(mean, b.actions)
        return (mse, ["actor_mse": mse])
    }
}
