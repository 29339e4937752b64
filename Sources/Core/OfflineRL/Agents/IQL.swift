import Foundation
import NN
import TensorCore

/// Implicit Q-learning (Kostrikov et al. 2022) as docs/pgd.md §5 specifies: expectile value
/// regression, Q regression to r + γ V(s′), advantage-weighted Gaussian actor.
public final class IQL: AgentUpdateRule {
    public let networks: AgentNetworks
    public let targets: AgentNetworks
    public let hyperparameters: AgentHyperparameters
    let optimizer: Adam
    /// Set when the Q target uses the just-updated V (`iqlUpdatedValueForQ`): V is stepped first, alone.
    let valueOptimizer: Adam?
    let updates = Counter()

    public init(networks: AgentNetworks, hyperparameters h: AgentHyperparameters) {
        precondition(networks.value != nil && networks.critic1 != nil, "IQL needs twin critics and a value network")
        self.networks = networks
        hyperparameters = h
        targets = networks.clone()
        targets.freeze()
        let valueNames = Set(networks.namedParameters().filter { $0.0.hasPrefix("value.") }.map(\.0))
        let separate = h.iqlUpdatedValueForQ
        optimizer = agentAdam(networks.trainableParameters().filter { !separate || !valueNames.contains($0.0) }, h)
        valueOptimizer = separate ? agentAdam(networks.trainableParameters().filter { valueNames.contains($0.0) }, h) : nil
    }

    public var resumableParts: [(String, any Resumable)] {
        [("optimizer", optimizer), ("targets", targets), ("updates", updates)] + (valueOptimizer.map { [("value_optimizer", $0)] } ?? [])
    }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let h = hyperparameters, value = networks.value!
        interpolateParameters(into: targets, from: networks, weight: updates.value == 0 ? 1 : h.polyak)
        updates.value += 1

        // u = min_i Q′_i(s, a) − V(s); L_V = mean |τ − 1[u < 0]| u² (expectile regression).
        let qTarget = noGrad {
            Tensor.minimum(AgentNetworks.q(targets.critic1!, b.observations, b.actions), AgentNetworks.q(targets.critic2!, b.observations, b.actions))
        }
        let v = value(b.observations).reshaped([b.rewards.count])
        let u = qTarget - v
        let valueLoss = Loss.expectile(v, target: qTarget, tau: h.expectile)
        var total = valueLoss
        if let valueOptimizer {
            valueOptimizer.minimize(valueLoss)
            total = Tensor(0)
        }

        // L_Q = mean over both critics of (Q_i(s, a) − r − γ (1 − d) V(s′))², V before this update
        // unless valueOptimizer has just stepped it.
        let y = noGrad { b.rewards + h.discount * (1 - b.dones) * value(b.nextObservations).reshaped([b.rewards.count]) }
        let q1 = AgentNetworks.q(networks.critic1!, b.observations, b.actions)
        let q2 = AgentNetworks.q(networks.critic2!, b.observations, b.actions)
        let criticLoss = (Loss.mse(q1, y) + Loss.mse(q2, y)) * 0.5

        // Actor: w = min(exp(β u), 100); L_π = mean w · (−log π(a | s)), u from the same V as L_V.
        let weights = noGrad { (u.detached() * h.iqlBeta).exp().clamped(max: h.iqlMaxWeight) }
        let logp = networks.logProbability(b.actions, mean: networks.actor(b.observations))
        let actorLoss = (weights * -logp).mean()
        // Disjoint parameters again: one backward pass serves the three updates.
        optimizer.minimize(total + criticLoss + actorLoss)
        return ["value_loss": valueLoss.item, "critic_loss": criticLoss.item, "actor_loss": actorLoss.item, "advantage": u.mean().item]
    }
}
