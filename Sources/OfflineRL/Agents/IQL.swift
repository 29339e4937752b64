import Foundation
import NN
import TensorCore

/// Implicit Q-learning (Kostrikov et al. 2022) as specified in specs/pgd.md §5: expectile value
/// regression, Q regression to r + γ V(s′), advantage-weighted Gaussian actor.
final class IQL: AgentUpdate {
    let networks: AgentNetworks
    let targets: AgentNetworks
    let h: AgentHyperparameters
    /// Set when the Q target uses the just-updated V (`iqlUpdatedValueForQ`): V is stepped first.
    let valueOptimizer: Adam?

    init(networks: AgentNetworks, targets: AgentNetworks, hyperparameters: AgentHyperparameters, valueOptimizer: Adam?) {
        self.networks = networks; self.targets = targets; self.h = hyperparameters; self.valueOptimizer = valueOptimizer
    }

    func losses(_ b: TransitionBatch, rng: RandomGenerator) -> (total: Tensor, metrics: [String: Tensor]) {
        let value = networks.value!
        // u = min_i Q′_i(s, a) − V(s); L_V = mean |τ − 1[u < 0]| u².
        let qTarget = noGrad {
            Tensor.minimum(AgentNetworks.q(targets.critic1!, b.observations, b.actions), AgentNetworks.q(targets.critic2!, b.observations, b.actions))
        }
        let v = value(b.observations).reshaped([b.rewards.count])
        let u = qTarget - v
        let expectileWeight = noGrad { (Tensor(repeating: h.expectile, shape: u.shape) - (u .< 0)).abs() }
        let valueLoss = (expectileWeight * u.squared()).mean()
        var total = valueLoss
        if let valueOptimizer {
            valueOptimizer.zeroGrad()
            valueLoss.backward()
            valueOptimizer.update()
            total = Tensor(0)
        }

        // L_Q = mean over both critics of (Q_i(s, a) − r − γ (1 − d) V(s′))², V before this update
        // unless valueOptimizer has just stepped it.
        let y = noGrad { b.rewards + h.discount * (1 - b.terminals) * value(b.nextObservations).reshaped([b.rewards.count]) }
        let q1 = AgentNetworks.q(networks.critic1!, b.observations, b.actions)
        let q2 = AgentNetworks.q(networks.critic2!, b.observations, b.actions)
        let criticLoss = (Loss.mse(q1, y) + Loss.mse(q2, y)) * 0.5

        // Actor: w = min(exp(β u), 100); L_π = mean w · (−log π(a | s)), u from the same V as L_V.
        let weights = noGrad { (u.detached() * h.iqlBeta).exp().clamped(max: h.iqlMaxWeight) }
        let logp = networks.logProbability(b.actions, mean: networks.actor(b.observations))
        let actorLoss = (weights * -logp).mean()
        // Disjoint parameters again: one backward pass serves the three updates.
        return (total + criticLoss + actorLoss, ["value_loss": valueLoss, "critic_loss": criticLoss, "actor_loss": actorLoss,
                                                   "advantage": u.mean()])
    }
}
