import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// FISOR (Zheng et al., ICLR 2024): feasibility-guided diffusion policies for safe offline RL, as
/// docs/fisor.md describes it. Each update (one iteration of the reference loop, §7) takes
/// `actorStepsPerIteration` weighted denoising steps of the actor, each followed by its EMA update,
/// then one Adam step each of V_r, Q_r, V_h and Q_h on the batch's first `criticBatchSize` rows,
/// with Polyak updates of the Q targets.
public final class FISOR: OfflineAlgorithm, ResumableParts {
    public let networks: FISORNetworks
    public let settings: FISORSettings
    let objective: DiffusionObjective
    let actorOptimizer: Adam
    let rewardValueOptimizer: Adam
    let rewardCriticOptimizer: Adam
    let feasibilityValueOptimizer: Adam
    let feasibilityCriticOptimizer: Adam
    /// Timesteps and noise of the actor's denoising loss.
    let rng: RandomGenerator
    let actorSteps = Counter()

    public init(networks: FISORNetworks, settings: FISORSettings, rng: RandomGenerator) {
        precondition(settings.validationError() == nil, settings.validationError() ?? "")
        self.networks = networks
        self.settings = settings
        self.rng = rng
        objective = .discrete(schedule: .vp(), steps: settings.diffusionSteps, prediction: .epsilon)
        // Reference: optax.adam / adamw with weight decay 0 (plain Adam, ε 1e-8). Parameters keep the
        // networks' dotted names (the ensemble members' moments must not share checkpoint keys).
        let all = networks.trainableParameters()
        func adam(_ prefix: String, _ lr: Float) -> Adam {
            Adam(parameters: all.filter { $0.0.hasPrefix(prefix + ".") }, config: .init(learningRate: lr))
        }
        actorOptimizer = adam("actor", settings.actorLearningRate)
        rewardValueOptimizer = adam("rewardValue", settings.criticLearningRate)
        rewardCriticOptimizer = adam("rewardCritics", settings.criticLearningRate)
        feasibilityValueOptimizer = adam("feasibilityValue", settings.criticLearningRate)
        feasibilityCriticOptimizer = adam("feasibilityCritics", settings.criticLearningRate)
    }

    public var settingsJSON: String { canonicalJSON(settings) }

    public var resumableParts: [(String, any Resumable)] {
        [("actor_optimizer", actorOptimizer), ("reward_value_optimizer", rewardValueOptimizer),
         ("reward_critic_optimizer", rewardCriticOptimizer), ("feasibility_value_optimizer", feasibilityValueOptimizer),
         ("feasibility_critic_optimizer", feasibilityCriticOptimizer), ("noise", rng), ("actor_steps", actorSteps)]
    }

    public func policy(preprocessing: TransitionPreprocessing, metadata: [String: String]) -> any Policy {
        FISORPolicy(networks: networks, settings: settings, observationNormalizer: preprocessing.observationNormalizer,
                    actionMap: preprocessing.actionMap, metadata: metadata)
    }

    // MARK: The maths of docs/fisor.md §1, §3, §4

    /// The HJ constraint signal h = +costScale if c > 0, else −1 (docs/fisor.md §1).
    public static func constraintSignal(costs: Tensor, costScale: Float) -> Tensor {
        Tensor(costs.scalars.map { $0 > 0 ? costScale : -1 }, shape: costs.shape)
    }

    /// The discounted HJ Bellman target (docs/fisor.md §3): (1 − γ)h + γ·max(h, V_h(s′)) where the
    /// episode continues (m = 1), h where it ended (m = 0).
    public static func hjTarget(h: Tensor, nextValue: Tensor, mask: Tensor, discount: Float) -> Tensor {
        let continuing = h * (1 - discount) + Tensor.maximum(h, nextValue) * discount
        return continuing * mask + h * (1 - mask)
    }

    /// The cost-critic target of the qc ablation (docs/fisor.md §3): c + γ·m·V_c(s′).
    public static func costTarget(costs: Tensor, nextValue: Tensor, mask: Tensor, discount: Float) -> Tensor {
        costs + nextValue * mask * discount
    }

    /// The actor's per-sample weights (docs/fisor.md §4, the code's form):
    /// infeasible states (V_h > 0): min(exp(−α₂·A_h), cost cap); feasible states (V_h ≤ 0) whose
    /// action is feasible (Q_h ≤ 0): min(exp(α₁·A_r), reward cap); 0 otherwise. Each weight is
    /// exp(min(x, log cap)), so no input makes it inf or NaN (±∞ advantages give the cap or 0).
    public static func actorWeights(rewardAdvantage: [Float], feasibilityQ: [Float], feasibilityValue: [Float],
                                    settings s: FISORSettings) -> [Float] {
        precondition(rewardAdvantage.count == feasibilityQ.count && feasibilityQ.count == feasibilityValue.count, "actorWeights: lengths differ")
        let logRewardCap = Foundation.log(s.rewardWeightCap), logCostCap = Foundation.log(s.costWeightCap)
        func capped(_ x: Float, _ logCap: Float, _ cap: Float) -> Float {
            guard !x.isNaN else { return 0 }
            return Swift.min(Foundation.exp(Swift.min(x, logCap)), cap)
        }
        return (0..<feasibilityQ.count).map { i in
            let vh = feasibilityValue[i], qh = feasibilityQ[i]
            if vh > 0 { return capped(-s.costTemperature * (qh - vh), logCostCap, s.costWeightCap) }
            if qh <= 0 { return capped(s.rewardTemperature * rewardAdvantage[i], logRewardCap, s.rewardWeightCap) }
            return 0
        }
    }

    /// The weights of a batch from the target Q ensembles and the current V networks (constants: no
    /// gradient reaches the critics). For the qc ablation, Q_c and V_c are shifted by qc_thres first.
    func weights(_ s: Tensor, _ a: Tensor) -> (weights: Tensor, feasibleFraction: Float) {
        noGrad {
            let n = networks, shift = settings.qcThreshold
            let qr = FISORNetworks.rewardQ(n.rewardTargets, s, a), vr = FISORNetworks.v(n.rewardValue, s)
            let qh = (FISORNetworks.feasibilityQ(n.feasibilityTargets, s, a) - shift).scalars
            let vh = (FISORNetworks.v(n.feasibilityValue, s) - shift).scalars
            let w = Self.actorWeights(rewardAdvantage: (qr - vr).scalars, feasibilityQ: qh, feasibilityValue: vh, settings: settings)
            return (Tensor(w, shape: [w.count]), Float(vh.filter { $0 <= 0 }.count) / Float(Swift.max(vh.count, 1)))
        }
    }

    /// The actor's learning rate at actor step `step`: cosine from the peak to 0 over
    /// `actorDecayMultiple` × the run's actor steps (docs/fisor.md §5).
    public var actorSchedule: LRSchedule {
        .cosine(base: settings.actorLearningRate, final: 0,
                steps: Int((Float(settings.iterations * settings.actorStepsPerIteration) * settings.actorDecayMultiple).rounded()))
    }

    // MARK: Update

    public var shardsItsOwnBatch: Bool { true }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let s = settings, n = networks
        guard let costs = b.costs else { preconditionFailure("FISOR needs a batch with costs") }
        precondition(b.count >= s.batchSize, "FISOR needs batches of \(s.batchSize) rows, got \(b.count)")
        let actions = b.actions.clamped(min: -s.actionClip, max: s.actionClip)
        var metrics: [String: Float] = [:]

        // Actor: weighted ε regression on consecutive slices (reference: rows 0–1023, then 1024–2047).
        var actorLoss: Float = 0, meanWeight: Float = 0, feasible: Float = 0
        for k in 0..<s.actorStepsPerIteration {
            let rows = (k * s.actorBatchSize)..<((k + 1) * s.actorBatchSize)
            // In a data-parallel run, this rank's shard of the block; the objective draws the whole
            // block's noise and keeps the shard's rows (docs/distributed.md).
            let group = ProcessGroup.parallel
            let part = group?.shard(s.actorBatchSize) ?? 0..<s.actorBatchSize
            let mine = (rows.lowerBound + part.lowerBound)..<(rows.lowerBound + part.upperBound)
            let obs = b.observations.slice(axis: 0, mine), act = actions.slice(axis: 0, mine)
            let (w, f) = weights(obs, act)
            // Sum over action dimensions as the reference (docs/fisor.md §5), weighted mean over the block.
            func blockLoss() -> Tensor { objective.loss(n.actor.network(condition: obs), x0: act, rng: rng, sampleWeights: w, reduction: .sum) }
            let loss = group.map { $0.onShard(of: s.actorBatchSize, blockLoss) } ?? blockLoss()
            actorOptimizer.learningRate = actorSchedule(actorSteps.value)
            actorOptimizer.minimize(loss)
            actorSteps.value += 1
            interpolateParameters(into: n.actorEMA, from: n.actor, weight: s.actorEMA)
            actorLoss += loss.item / Float(s.actorStepsPerIteration)
            meanWeight += w.mean().item / Float(s.actorStepsPerIteration)
            feasible += f / Float(s.actorStepsPerIteration)
        }
        metrics["actor_loss"] = actorLoss
        metrics["weight"] = meanWeight
        metrics["feasible"] = feasible

        // Critics on the first rows, in the reference's order V_r, Q_r, V_h, Q_h (docs/fisor.md §3); in a
        // data-parallel run, this rank's shard of them (the optimizers average the gradients).
        let rows = ProcessGroup.active.map { $0.shard(s.criticBatchSize) } ?? 0..<s.criticBatchSize
        let obs = b.observations.slice(axis: 0, rows), act = actions.slice(axis: 0, rows)
        let next = b.nextObservations.slice(axis: 0, rows)
        let mask = 1 - b.dones.slice(axis: 0, rows)
        let c = costs.slice(axis: 0, rows)
        let signal = s.critic == .hj ? Self.constraintSignal(costs: c, costScale: s.costScale) : c

        // V_r: expectile regression toward min_k Q̄_r,k.
        let qrTarget = noGrad { FISORNetworks.rewardQ(n.rewardTargets, obs, act) }
        let vrLoss = Loss.expectile(FISORNetworks.v(n.rewardValue, obs), target: qrTarget, tau: s.rewardExpectile)
        rewardValueOptimizer.minimize(vrLoss)
        // Q_r: y = r + γ·m·V_r(s′) with the V_r just updated.
        let yr = noGrad { b.rewards.slice(axis: 0, rows) + FISORNetworks.v(n.rewardValue, next) * mask * s.discount }
        let qrLoss = n.rewardCritics.map { Loss.mse(FISORNetworks.q($0, obs, act), yr) }.reduce(Tensor(0), +) * (1 / Float(n.rewardCritics.count))
        rewardCriticOptimizer.minimize(qrLoss)
        for (t, q) in zip(n.rewardTargets, n.rewardCritics) { interpolateParameters(into: t, from: q, weight: s.polyak) }

        // V_h: reverse expectile toward max_k Q̄_h,k (the safest in-data action).
        let qhTarget = noGrad { FISORNetworks.feasibilityQ(n.feasibilityTargets, obs, act) }
        let vhLoss = Loss.reverseExpectile(FISORNetworks.v(n.feasibilityValue, obs), target: qhTarget, tau: s.feasibilityExpectile)
        feasibilityValueOptimizer.minimize(vhLoss)
        // Q_h: the discounted HJ backup (or the qc ablation's cost backup) with the V_h just updated.
        let yh = noGrad {
            let nextValue = FISORNetworks.v(n.feasibilityValue, next)
            return s.critic == .hj ? Self.hjTarget(h: signal, nextValue: nextValue, mask: mask, discount: s.discount)
                : Self.costTarget(costs: signal, nextValue: nextValue, mask: mask, discount: s.discount)
        }
        let qhLoss = n.feasibilityCritics.map { Loss.mse(FISORNetworks.q($0, obs, act), yh) }.reduce(Tensor(0), +)
            * (1 / Float(n.feasibilityCritics.count))
        feasibilityCriticOptimizer.minimize(qhLoss)
        for (t, q) in zip(n.feasibilityTargets, n.feasibilityCritics) { interpolateParameters(into: t, from: q, weight: s.polyak) }

        metrics["reward_value_loss"] = vrLoss.item
        metrics["reward_critic_loss"] = qrLoss.item
        metrics["feasibility_value_loss"] = vhLoss.item
        metrics["feasibility_critic_loss"] = qhLoss.item
        metrics["feasibility_q"] = qhTarget.mean().item
        return metrics
    }
}
