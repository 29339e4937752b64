import Foundation
import NN
import TensorCore

/// TD3+BC (Fujimoto & Gu 2021) as PGD's agent runs it (docs/pgd.md §5): every step updates the
/// actor and both critics, with no delayed actor; targets move by Polyak averaging first.
public final class TD3BC: AgentUpdateRule {
    public let networks: AgentNetworks
    public let targets: AgentNetworks
    public let hyperparameters: AgentHyperparameters
    let optimizer: Adam
    let rng: RandomGenerator
    let updates = Counter()

    public init(networks: AgentNetworks, hyperparameters: AgentHyperparameters, rng: RandomGenerator) {
        precondition(networks.critic1 != nil && networks.critic2 != nil, "TD3+BC needs twin critics")
        self.networks = networks
        self.hyperparameters = hyperparameters
        self.rng = rng
        targets = networks.clone()
        targets.freeze()
        optimizer = agentAdam(networks.trainableParameters(), hyperparameters)
    }

    public var resumableParts: [(String, any Resumable)] { [("optimizer", optimizer), ("targets", targets), ("rng", rng), ("updates", updates)] }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let h = hyperparameters, critic1 = networks.critic1!, critic2 = networks.critic2!
        // Polyak at the start of each step; the first step copies.
        interpolateParameters(into: targets, from: networks, weight: updates.value == 0 ? 1 : h.polyak)
        updates.value += 1

        // Actor: maximize λ Q1(s, π(s)) − (π(s) − a)², λ = α / mean|Q1| held constant.
        critic1.freeze()
        let pi = networks.actor(b.observations)
        let q = AgentNetworks.q(critic1, b.observations, pi)
        critic1.unfreeze()
        let lambda = h.td3Alpha / noGrad { q.abs().mean().item + 1e-8 }
        let bc = Loss.mse(pi, b.actions)
        let actorLoss = -lambda * q.mean() + bc

        // Critics: y = r + γ (1 − d) min_i Q′_i(s′, clip(π′(s′) + clip(ε, ±c), ±1)).
        let y = noGrad { () -> Tensor in
            let noise = rng.normal(b.actions.shape, std: h.targetNoise).clamped(min: -h.targetNoiseClip, max: h.targetNoiseClip)
            let next = (targets.actor(b.nextObservations) + noise).clamped(min: -1, max: 1)
            let qNext = Tensor.minimum(AgentNetworks.q(targets.critic1!, b.nextObservations, next),
                                       AgentNetworks.q(targets.critic2!, b.nextObservations, next))
            return b.rewards + h.discount * (1 - b.dones) * qNext
        }
        let q1 = AgentNetworks.q(critic1, b.observations, b.actions), q2 = AgentNetworks.q(critic2, b.observations, b.actions)
        let criticLoss = Loss.mse(q1, y) + Loss.mse(q2, y)
        // The two losses touch disjoint parameters (Q1 is frozen in the actor loss), so one backward
        // pass and one Adam step equal PGD's actor-then-critic updates.
        optimizer.minimize(actorLoss + criticLoss)
        return ["actor_loss": actorLoss.item, "bc_mse": bc.item, "critic_loss": criticLoss.item, "q_mean": q1.mean().item]
    }
}
