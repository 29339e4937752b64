import Foundation
import NN
import TensorCore

/// Settings of soft actor-critic as CleanRL's sac_continuous_action.py runs it (Huang et al. 2022,
/// github.com/vwxyzjn/cleanrl), which follows Haarnoja et al. 2018b ("SAC Algorithms and
/// Applications", table 1) except where noted. docs/environments.md §7.
public struct SACSettings: Codable, Sendable, Equatable {
    /// Hidden widths of actor and critics, ReLU (Haarnoja 2018b table 1: 2 × 256; CleanRL).
    public var hidden = [256, 256]
    /// Replay buffer capacity in transitions (Haarnoja 2018b: 1e6; CleanRL buffer_size).
    public var bufferSize = 1_000_000
    /// Discount γ (Haarnoja 2018b: 0.99; CleanRL gamma).
    public var discount: Float = 0.99
    /// Polyak rate τ of the target critics (Haarnoja 2018b: 0.005; CleanRL tau).
    public var polyak: Float = 0.005
    /// Minibatch size (Haarnoja 2018b: 256; CleanRL batch_size).
    public var batchSize = 256
    /// Uniform random actions before this step, and no updates until after it (CleanRL learning_starts 5e3;
    /// Haarnoja's code: 10k on most tasks).
    public var learningStarts = 5000
    /// Actor learning rate (CleanRL policy_lr 3e-4 = Haarnoja 2018b's single rate), Adam with torch's defaults.
    public var actorLearningRate: Float = 3e-4
    /// Critic and temperature learning rate (CleanRL q_lr 1e-3, also used for α).
    public var criticLearningRate: Float = 1e-3
    /// The actor (and α) are updated every `policyFrequency` steps, `policyFrequency` times then
    /// (CleanRL policy_frequency 2, "TD3-style delayed update, compensated by the repeat").
    public var policyFrequency = 2
    /// Target critics move every `targetFrequency` steps (CleanRL target_network_frequency 1).
    public var targetFrequency = 1
    /// Automatic entropy tuning toward entropy −|A| (Haarnoja 2018b §5; CleanRL autotune True).
    public var autotune = true
    /// The fixed α when `autotune` is off (CleanRL alpha 0.2).
    public var alpha: Float = 0.2
    public var seed: UInt64 = 0

    public init() {}

    /// What is wrong with these settings, or nil.
    public func validationError() -> String? {
        if hidden.isEmpty || hidden.contains(where: { $0 < 1 }) { return "hidden widths must be positive" }
        if bufferSize < batchSize { return "the buffer (\(bufferSize)) must hold at least one batch (\(batchSize))" }
        if learningStarts < batchSize { return "learning starts (\(learningStarts)) before the buffer holds one batch (\(batchSize))" }
        if policyFrequency < 1 || targetFrequency < 1 { return "update frequencies must be positive" }
        if !(0...1).contains(discount) || !(0...1).contains(polyak) { return "γ and τ must lie in [0, 1]" }
        return nil
    }
}

/// Soft actor-critic's update (Haarnoja et al. 2018a/b), line for line as CleanRL's
/// sac_continuous_action.py: twin soft Q critics toward r + γ(1 − d)(min Q′(s′, ã′) − α log π(ã′|s′)),
/// every `policyFrequency`-th update that many actor steps on α log π(ã|s) − min Q(s, ã) and
/// temperature steps on −α(log π + target entropy), then Polyak-averaged target critics.
/// Actions are in the normalized box [−1, 1] (CleanRL's action_scale = 1 on MuJoCo).
public final class SAC: OfflineAlgorithm, ResumableParts {
    public let networks: AgentNetworks
    public let targets: AgentNetworks
    public let settings: SACSettings
    let criticOptimizer: Adam
    let actorOptimizer: Adam
    let alphaOptimizer: Adam
    /// Draws of ã and ã′ (reparameterized noise).
    let rng: RandomGenerator
    let updates = Counter()
    /// Target entropy −|A| (Haarnoja 2018b §5).
    let targetEntropy: Float
    /// The last actor/α update's metrics, reported on the steps between (logging only).
    private var policyMetrics: [String: Float] = [:]

    public init(networks: AgentNetworks, settings: SACSettings, rng: RandomGenerator) {
        precondition(networks.config.algorithm == .sac, "SAC needs SAC networks")
        self.networks = networks
        self.settings = settings
        self.rng = rng
        targets = networks.clone()   // CleanRL: the targets start as copies (load_state_dict)
        targets.freeze()
        let params = networks.trainableParameters()
        func adam(_ prefix: [String], _ rate: Float) -> Adam {
            Adam(parameters: params.filter { p in prefix.contains { p.0.hasPrefix($0) } }, config: .init(learningRate: rate))
        }
        criticOptimizer = adam(["critic1.", "critic2."], settings.criticLearningRate)
        actorOptimizer = adam(["actor."], settings.actorLearningRate)
        alphaOptimizer = adam(["logAlpha"], settings.criticLearningRate)
        targetEntropy = -Float(networks.config.actionDim)
    }

    public var resumableParts: [(String, any Resumable)] {
        [("critic_optimizer", criticOptimizer), ("actor_optimizer", actorOptimizer), ("alpha_optimizer", alphaOptimizer),
         ("targets", targets), ("rng", rng), ("updates", updates)]
    }

    public var settingsJSON: String { canonicalJSON(settings) }

    public func policy(preprocessing: TransitionPreprocessing, metadata: [String: String]) -> any Policy {
        AgentPolicy(networks: networks, observationNormalizer: preprocessing.observationNormalizer, actionMap: preprocessing.actionMap,
                    metadata: metadata)
    }

    /// α = exp(log α), or the fixed α.
    public var alpha: Float { settings.autotune ? noGrad { networks.logAlpha!.value.exp().item } : settings.alpha }

    /// ã = tanh(μ + σ ε), ε ~ N(0, I), and log π(ã | s) (reparameterized: differentiable in the actor).
    public func sample(_ observations: Tensor) -> (action: Tensor, logProbability: Tensor) {
        let g = networks.sacGaussian(observations)
        let u = g.mean + g.logStd.exp() * rng.normal(g.mean.shape)
        let a = u.tanh()
        return (a, AgentNetworks.squashedLogProbability(preTanh: u, action: a, mean: g.mean, logStd: g.logStd))
    }

    func q(_ nets: AgentNetworks, _ s: Tensor, _ a: Tensor) -> (Tensor, Tensor) {
        (AgentNetworks.q(nets.critic1!, s, a), AgentNetworks.q(nets.critic2!, s, a))
    }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let h = settings
        updates.value += 1
        var metrics: [String: Float] = [:]

        // Critics: y = r + γ (1 − d)(min_i Q′_i(s′, ã′) − α log π(ã′ | s′)), ã′ ~ π(· | s′).
        let alpha = self.alpha
        let y = noGrad { () -> Tensor in
            let (next, logp) = sample(b.nextObservations)
            let (q1, q2) = q(targets, b.nextObservations, next)
            return b.rewards + h.discount * (1 - b.dones) * (Tensor.minimum(q1, q2) - alpha * logp)
        }
        let (q1, q2) = q(networks, b.observations, b.actions)
        let criticLoss = Loss.mse(q1, y) + Loss.mse(q2, y)
        criticOptimizer.minimize(criticLoss)
        metrics["critic_loss"] = criticLoss.item
        metrics["q_mean"] = noGrad { q1.mean().item }

        // Actor and α, delayed and repeated (CleanRL: `if global_step % policy_frequency == 0`, then
        // policy_frequency updates on the same batch with fresh noise).
        if updates.value % h.policyFrequency == 0 {
            for _ in 0..<h.policyFrequency {
                let alpha = self.alpha
                networks.critic1!.freeze(); networks.critic2!.freeze()
                let (a, logp) = sample(b.observations)
                let (qa1, qa2) = q(networks, b.observations, a)
                let actorLoss = (alpha * logp - Tensor.minimum(qa1, qa2)).mean()
                actorOptimizer.minimize(actorLoss)
                networks.critic1!.unfreeze(); networks.critic2!.unfreeze()
                policyMetrics["actor_loss"] = actorLoss.item
                policyMetrics["entropy"] = -noGrad { logp.mean().item }
                if h.autotune {
                    // L(α) = mean(−α (log π(ã|s) + H̄)), ã freshly drawn without gradient (CleanRL).
                    let logpNew = noGrad { sample(b.observations).logProbability }
                    let alphaLoss = (-networks.logAlpha!.tensor.exp() * (logpNew + targetEntropy)).mean()
                    alphaOptimizer.minimize(alphaLoss)
                    policyMetrics["alpha_loss"] = alphaLoss.item
                }
            }
        }
        metrics.merge(policyMetrics) { own, _ in own }
        metrics["alpha"] = self.alpha

        // Target critics: θ′ ← τ θ + (1 − τ) θ′.
        if updates.value % h.targetFrequency == 0 {
            interpolateParameters(into: targets.critic1!, from: networks.critic1!, weight: h.polyak)
            interpolateParameters(into: targets.critic2!, from: networks.critic2!, weight: h.polyak)
        }
        return metrics
    }
}
