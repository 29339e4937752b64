import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// What the three diffusion-policy algorithms share beyond their losses: the networks, the settings
/// (stored in the checkpoint), the actor's sampler and the policy they act as.
public protocol DiffusionPolicyAlgorithm: OfflineAlgorithm, ResumableParts where Networks == DiffusionPolicyNetworks {
    var settings: DiffusionPolicySettings { get }
}

extension DiffusionPolicyAlgorithm {
    public var settingsJSON: String { canonicalJSON(settings) }

    public func policy(preprocessing: TransitionPreprocessing, metadata: [String: String]) -> any Policy {
        DiffusionAgentPolicy(networks: networks, settings: settings, observationNormalizer: preprocessing.observationNormalizer,
                             actionMap: preprocessing.actionMap, metadata: metadata)
    }
}

extension DiffusionAlgorithm {
    /// The algorithm object for these networks.
    public func make(networks: DiffusionPolicyNetworks, settings: DiffusionPolicySettings, rng: RandomGenerator) -> any DiffusionPolicyAlgorithm {
        precondition(networks.config.algorithm == self && settings.algorithm == self, "networks or settings built for another algorithm than \(self)")
        switch self {
        case .diffusionBC: return DiffusionBC(networks: networks, settings: settings, rng: rng)
        case .idql: return IDQL(networks: networks, settings: settings, rng: rng)
        case .dql: return DiffusionQL(networks: networks, settings: settings, rng: rng)
        }
    }
}

/// Adam over the parameters of `networks` whose dotted names start with one of `prefixes`.
func adam(_ networks: DiffusionPolicyNetworks, _ prefixes: [String], _ learningRate: Float) -> Adam {
    Adam(parameters: networks.trainableParameters().filter { p in prefixes.contains { p.0.hasPrefix($0 + ".") } },
         config: .init(learningRate: learningRate))
}

/// A batch mean over the global batch: in a data-parallel update (equal shards, docs/distributed.md)
/// the ranks' shard means averaged, so every rank uses the value one process computes; else `shardMean`.
func globalMean(_ shardMean: Float) -> Float {
    guard let group = ProcessGroup.parallel else { return shardMean }
    var sum = [Double(shardMean)]
    group.allReduceSum(&sum)
    return Float(sum[0] / Double(group.size))
}

/// The EMA actor follows the actor: θ̄ ← (1 − rate)·θ̄ + rate·θ.
func updateEMA(_ n: DiffusionPolicyNetworks, rate: Float) { interpolateParameters(into: n.actorEMA, from: n.actor, weight: rate) }

/// Polyak averaging of the target critics: θ′ ← (1 − τ)·θ′ + τ·θ.
func updateTargets(_ n: DiffusionPolicyNetworks, polyak: Float) {
    for (t, q) in zip(n.criticTargets, n.critics) { interpolateParameters(into: t, from: q, weight: polyak) }
}

// MARK: - Diffusion BC

/// Behaviour cloning with the diffusion actor: L(θ) = E_{t, ε, (s, a)} ‖ε − ε_θ(√ᾱ_t a + √(1 − ᾱ_t) ε, s, t)‖²
/// (Ho et al. 2020's simplified loss; Eq. 2 of Diffusion-QL without its Q term).
public final class DiffusionBC: DiffusionPolicyAlgorithm {
    public let networks: DiffusionPolicyNetworks
    public let settings: DiffusionPolicySettings
    let actorOptimizer: Adam
    /// Timesteps and noise of the denoising loss.
    let rng: RandomGenerator

    public init(networks: DiffusionPolicyNetworks, settings: DiffusionPolicySettings, rng: RandomGenerator) {
        precondition(settings.validationError() == nil, settings.validationError() ?? "")
        self.networks = networks; self.settings = settings; self.rng = rng
        actorOptimizer = adam(networks, ["actor"], settings.actorLearningRate)
    }

    public var resumableParts: [(String, any Resumable)] { [("actor_optimizer", actorOptimizer), ("noise", rng)] }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let objective = settings.sampler.objective
        let loss = objective.loss(networks.actor.network(condition: b.observations), x0: b.actions, rng: rng)
        actorOptimizer.minimize(loss)
        updateEMA(networks, rate: settings.actorEMA)
        return ["actor_loss": loss.item]
    }
}

// MARK: - IDQL

/// Implicit Diffusion Q-learning (Hansen-Estruch et al. 2023): IQL's critics, trained on dataset
/// tuples only (Eq. 1–2 of IDQL, from Kostrikov et al. 2022),
///   L_V = E |τ − 1(Q̄ − V < 0)|·(Q̄(s, a) − V(s))²,  Q̄ = min of the target critics,
///   L_Q = E (Q_k(s, a) − r − γ(1 − d)·V(s′))²,
/// and a diffusion behaviour policy trained by the denoising loss alone; the critics act only at
/// action time, re-weighting N behaviour samples (Eq. 5, `DiffusionAgentPolicy`).
public final class IDQL: DiffusionPolicyAlgorithm {
    public let networks: DiffusionPolicyNetworks
    public let settings: DiffusionPolicySettings
    let actorOptimizer: Adam
    let valueOptimizer: Adam
    let criticOptimizer: Adam
    let rng: RandomGenerator

    public init(networks: DiffusionPolicyNetworks, settings: DiffusionPolicySettings, rng: RandomGenerator) {
        precondition(settings.validationError() == nil, settings.validationError() ?? "")
        precondition(networks.value != nil && networks.critics.count == 2, "IDQL needs twin critics and a value network")
        self.networks = networks; self.settings = settings; self.rng = rng
        actorOptimizer = adam(networks, ["actor"], settings.actorLearningRate)
        valueOptimizer = adam(networks, ["value"], settings.criticLearningRate)
        criticOptimizer = adam(networks, ["critics"], settings.criticLearningRate)
    }

    public var resumableParts: [(String, any Resumable)] {
        [("actor_optimizer", actorOptimizer), ("value_optimizer", valueOptimizer), ("critic_optimizer", criticOptimizer), ("noise", rng)]
    }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let s = settings, n = networks

        // V: expectile regression toward the target critics' min (IDQL Eq. 1).
        let qTarget = noGrad { DiffusionPolicyNetworks.minQ(n.criticTargets, b.observations, b.actions) }
        let valueLoss = Loss.expectile(n.v(b.observations), target: qTarget, tau: s.expectile)
        valueOptimizer.minimize(valueLoss)

        // Q: regression to r + γ(1 − d)·V(s′) with the V just updated (IDQL Eq. 2, as IQL's code).
        let y = noGrad { b.rewards + s.discount * (1 - b.dones) * n.v(b.nextObservations) }
        let criticLoss = n.critics.map { Loss.mse(DiffusionPolicyNetworks.q($0, b.observations, b.actions), y) }.reduce(Tensor(0), +) * 0.5
        criticOptimizer.minimize(criticLoss)
        updateTargets(n, polyak: s.polyak)

        // Behaviour policy: the plain denoising loss (IDQL §4.1: the actor is not trained on Q).
        let objective = s.sampler.objective
        let actorLoss = objective.loss(n.actor.network(condition: b.observations), x0: b.actions, rng: rng)
        actorOptimizer.minimize(actorLoss)
        updateEMA(n, rate: s.actorEMA)
        return ["value_loss": valueLoss.item, "critic_loss": criticLoss.item, "actor_loss": actorLoss.item, "q_mean": qTarget.mean().item]
    }
}

// MARK: - Diffusion-QL

/// Diffusion-QL (Wang et al. 2023): the actor minimizes the denoising loss plus a policy-improvement
/// term through the whole reverse chain (Eq. 3 of Diffusion-QL, with the reference code's Q
/// normalization):
///   L_π(θ) = L_d(θ) − η / mean|Q₂(s, a⁰)| · mean Q₁(s, a⁰),  a⁰ = reverse chain of ε_θ from N(0, I),
/// and the twin critics minimize E (Q_k(s, a) − r − γ(1 − d)·min_k Q̄_k(s′, a′))², a′ from the EMA actor
/// (Eq. 4); with `maxQBackup`, each Q̄_k is maximized over `backupSamples` draws of a′ first.
public final class DiffusionQL: DiffusionPolicyAlgorithm {
    public let networks: DiffusionPolicyNetworks
    public let settings: DiffusionPolicySettings
    let actorOptimizer: Adam
    let criticOptimizer: Adam
    let rng: RandomGenerator

    public init(networks: DiffusionPolicyNetworks, settings: DiffusionPolicySettings, rng: RandomGenerator) {
        precondition(settings.validationError() == nil, settings.validationError() ?? "")
        precondition(networks.critics.count == 2, "Diffusion-QL needs twin critics")
        self.networks = networks; self.settings = settings; self.rng = rng
        actorOptimizer = adam(networks, ["actor"], settings.actorLearningRate)
        criticOptimizer = adam(networks, ["critics"], settings.criticLearningRate)
    }

    public var resumableParts: [(String, any Resumable)] { [("actor_optimizer", actorOptimizer), ("critic_optimizer", criticOptimizer), ("noise", rng)] }

    /// The critics' target r + γ(1 − d)·min_k Q̄_k(s′, a′) (Eq. 4 of Diffusion-QL), a′ from the EMA actor.
    func backup(_ b: TransitionBatch) -> Tensor {
        let s = settings, n = networks, rows = b.count
        let sampler = s.sampler
        return noGrad {
            let k = s.maxQBackup ? s.backupSamples : 1
            let next = sampler.candidates(n.actorEMA, observations: b.nextObservations, count: k, actionDim: n.config.actionDim, rng: rng)
            let tiled = DiffusionActorSampler.tile(b.nextObservations, count: k)
            // Per critic, the max over the k draws (k = 1: the one draw), then the min over the critics.
            let perCritic = n.criticTargets.map { DiffusionPolicyNetworks.q($0, tiled, next).reshaped([rows, k]).max(axis: 1).values }
            let qNext = Tensor.minimum(perCritic[0], perCritic[1])
            return b.rewards + s.discount * (1 - b.dones) * qNext
        }
    }

    /// The actor's loss (Eq. 3 of Diffusion-QL) with the loss's and the chain's draws from `rng`;
    /// returns it, its denoising part and Q₁(s, a⁰) of the actions sampled through the differentiable chain.
    public func actorLoss(_ observations: Tensor, datasetActions: Tensor, rng: RandomGenerator) -> (total: Tensor, denoising: Tensor, q: Tensor) {
        let s = settings, n = networks
        let sampler = s.sampler
        let denoising = sampler.objective.loss(n.actor.network(condition: observations), x0: datasetActions, rng: rng)
        let a0 = sampler.differentiableSample(n.actor.network(condition: observations), observations: observations,
                                              actionDim: n.config.actionDim, rng: rng)
        for c in n.critics { c.freeze() }
        let q1 = DiffusionPolicyNetworks.q(n.critics[0], observations, a0), q2 = DiffusionPolicyNetworks.q(n.critics[1], observations, a0)
        for c in n.critics { c.unfreeze() }
        // η / mean|Q| makes the Q term's scale independent of the reward scale (the reference code's form).
        let lambda = s.eta / (globalMean(noGrad { q2.abs().mean().item }) + 1e-8)
        return (denoising - lambda * q1.mean(), denoising, q1)
    }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let s = settings, n = networks
        // Critics first, as the reference.
        let y = backup(b)
        let criticLoss = n.critics.map { Loss.mse(DiffusionPolicyNetworks.q($0, b.observations, b.actions), y) }.reduce(Tensor(0), +)
        criticOptimizer.minimize(criticLoss)

        let (total, denoising, q) = actorLoss(b.observations, datasetActions: b.actions, rng: rng)
        actorOptimizer.minimize(total)
        updateTargets(n, polyak: s.polyak)
        updateEMA(n, rate: s.actorEMA)
        return ["critic_loss": criticLoss.item, "actor_loss": total.item, "denoising_loss": denoising.item, "q_mean": q.mean().item]
    }
}
