import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// FISOR (Zheng et al., ICLR 2024): feasibility-guided diffusion policies for safe offline RL, as
/// docs/fisor.md describes it. One trainer step is, by `settings.schedule`:
/// - `.criticFirst` (default): one critic step (one Adam step each of V_r, Q_r, V_h and Q_h on the
///   batch's first `criticBatchSize` rows, with Polyak updates of the Q targets) for the first
///   `criticSteps` steps, then one actor iteration (`actorStepsPerIteration` weighted denoising
///   steps, each followed by its EMA update) on the frozen critics;
/// - `.joint`: one iteration of the reference loop (§7), the actor iteration and then a critic step.
/// The phase follows from the resumable step counters, so a run resumes anywhere, also across the
/// phase change (docs/fisor.md, "Critic-first schedule").
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
    /// Critic steps taken; the critic-first schedule is in its critic phase while this is below
    /// `settings.criticSteps`.
    let criticSteps = Counter()
    /// The dataset states whose feasibility values are logged during critic training (nil: no log).
    let probe: FeasibilityProbe?
    /// The latest convergence record (docs/fisor.md, "Convergence log"), until `takeConvergence()`.
    private var convergence: [String: Float]?

    public init(networks: FISORNetworks, settings: FISORSettings, rng: RandomGenerator, probe: FeasibilityProbe? = nil) {
        precondition(settings.validationError() == nil, settings.validationError() ?? "")
        self.networks = networks
        self.settings = settings
        self.rng = rng
        self.probe = probe
        objective = DiffusionActorSampler(steps: settings.diffusionSteps).objective  // the actor's loss, shared with the diffusion policies
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
         ("feasibility_critic_optimizer", feasibilityCriticOptimizer), ("noise", rng), ("actor_steps", actorSteps),
         ("critic_steps", criticSteps)]
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

    /// The region of §4 a row (V_h, Q_h) falls in, which decides its weight: one rule for the weights and
    /// their diagnostics. `margin` is δ = `feasibleMargin` (0 in the reference).
    enum WeightRegion {
        /// V_h > 0: feasibility-advantage weights.
        case infeasible
        /// V_h ≤ 0 and Q_h ≤ −δ: reward-advantage weights.
        case feasible
        /// V_h ≤ 0 and Q_h > −δ: weight 0.
        case zero

        init(feasibilityValue vh: Float, feasibilityQ qh: Float, margin: Float) {
            self = vh > 0 ? .infeasible : qh <= -margin ? .feasible : .zero
        }
    }

    /// The actor's per-sample weights (docs/fisor.md §4, the code's form):
    /// infeasible states (V_h > 0): min(exp(−α₂·A_h), cost cap); feasible states (V_h ≤ 0) whose
    /// action is feasible (Q_h ≤ −δ, δ = `feasibleMargin`, 0 in the reference): min(exp(α₁·A_r), reward
    /// cap); 0 otherwise. Each weight is
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
            switch WeightRegion(feasibilityValue: vh, feasibilityQ: qh, margin: s.feasibleMargin) {
            case .infeasible: return capped(-s.costTemperature * (qh - vh), logCostCap, s.costWeightCap)
            case .feasible: return capped(s.rewardTemperature * rewardAdvantage[i], logRewardCap, s.rewardWeightCap)
            case .zero: return 0
            }
        }
    }

    /// The weights of a batch from the target Q ensembles and the current V networks (constants: no
    /// gradient reaches the critics), with their diagnostics (`weightDiagnostics`). For the qc
    /// ablation, Q_c and V_c are shifted by qc_thres first.
    func weights(_ s: Tensor, _ a: Tensor) -> (weights: Tensor, diagnostics: [String: Float]) {
        noGrad {
            let n = networks, shift = settings.qcThreshold
            let qr = FISORNetworks.rewardQ(n.rewardTargets, s, a), vr = FISORNetworks.v(n.rewardValue, s)
            let qh = (FISORNetworks.feasibilityQ(n.feasibilityTargets, s, a) - shift).scalars
            let vh = (FISORNetworks.v(n.feasibilityValue, s) - shift).scalars
            let w = Self.actorWeights(rewardAdvantage: (qr - vr).scalars, feasibilityQ: qh, feasibilityValue: vh, settings: settings)
            return (Tensor(w, shape: [w.count]), Self.weightDiagnostics(weights: w, feasibilityQ: qh, feasibilityValue: vh, margin: settings.feasibleMargin))
        }
    }

    /// What the actor's weights do with a block (docs/fisor.md, "Weight diagnostics"): the fractions
    /// of rows in each region of §4 — `region_feasible` (V_h ≤ 0 and Q_h ≤ −δ: reward weights),
    /// `region_infeasible` (V_h > 0: feasibility weights), `region_zero` (V_h ≤ 0, Q_h > −δ: weight 0) —
    /// `feasible` (V_h ≤ 0, either action), and the effective sample size (Σw)²/Σw² in rows
    /// (`weight_ess`; 0 when every weight is 0), with the mean weight (`weight`).
    public static func weightDiagnostics(weights w: [Float], feasibilityQ qh: [Float], feasibilityValue vh: [Float], margin: Float = 0) -> [String: Float] {
        precondition(w.count == qh.count && qh.count == vh.count, "weightDiagnostics: lengths differ")
        let n = Float(Swift.max(w.count, 1))
        var feasible = 0, infeasible = 0, zero = 0
        for i in w.indices {
            switch WeightRegion(feasibilityValue: vh[i], feasibilityQ: qh[i], margin: margin) {
            case .infeasible: infeasible += 1
            case .feasible: feasible += 1
            case .zero: zero += 1
            }
        }
        let sum = w.reduce(0, +), squares = w.reduce(0) { $0 + $1 * $1 }
        return ["region_feasible": Float(feasible) / n, "region_infeasible": Float(infeasible) / n, "region_zero": Float(zero) / n,
                "feasible": Float(feasible + zero) / n, "weight_ess": squares > 0 ? sum * sum / squares : 0, "weight": sum / n]
    }

    /// The actor's learning rate at actor step `step`: cosine from the peak to 0 over
    /// `actorDecayMultiple` × the run's actor steps (docs/fisor.md §5; the same in both schedules, whose
    /// actor takes `iterations × actorStepsPerIteration` steps).
    public var actorSchedule: LRSchedule {
        .cosine(base: settings.actorLearningRate, final: 0,
                steps: Int((Float(settings.iterations * settings.actorStepsPerIteration) * settings.actorDecayMultiple).rounded()))
    }

    // MARK: Update

    public var shardsItsOwnBatch: Bool { true }

    public func update(_ b: TransitionBatch) -> [String: Float] {
        let s = settings
        guard let costs = b.costs else { preconditionFailure("FISOR needs a batch with costs") }
        precondition(b.count >= s.batchSize, "FISOR needs batches of \(s.batchSize) rows, got \(b.count)")
        let actions = b.actions.clamped(min: -s.actionClip, max: s.actionClip)
        switch s.schedule {
        case .joint:
            // The reference's iteration (§7): the actor on the current critics, then one critic step.
            return actorIteration(b, actions).merging(criticStep(b, actions, costs)) { a, _ in a }
        case .criticFirst:
            // The critics read only dataset tuples, never the actor, so they can go first; the actor
            // then reads the converged, frozen critics (docs/fisor.md, "Critic-first schedule").
            return criticSteps.value < s.criticSteps ? criticStep(b, actions, costs) : actorIteration(b, actions)
        }
    }

    /// Starts the critic-first schedule at its actor phase on critics another critic-first run
    /// trained (docs/fisor.md, "Sharing a critic phase"): copies every Q_r, V_r, Q_h, V_h network and
    /// the Polyak targets from `source` and counts the critic phase as done. The critics read only
    /// dataset tuples and never the actor, so the run continues as if it had trained them itself
    /// (up to the random draws of its actor phase). Call before the first update.
    public func adoptCritics(from source: FISORNetworks) {
        precondition(settings.schedule == .criticFirst, "only the critic-first schedule has a critic phase to share")
        precondition(criticSteps.value == 0 && actorSteps.value == 0, "adoptCritics: the run has started")
        let n = networks
        for (mine, theirs) in zip(n.rewardCritics + n.rewardTargets + [n.rewardValue] + n.feasibilityCritics + n.feasibilityTargets + [n.feasibilityValue],
                                  source.rewardCritics + source.rewardTargets + [source.rewardValue] + source.feasibilityCritics
                                    + source.feasibilityTargets + [source.feasibilityValue]) {
            mine.copyParameters(from: theirs)
        }
        criticSteps.value = settings.criticSteps
    }

    /// Whether `other` trains the same critics as `settings` (every setting the critic phase reads).
    public static func sameCriticPhase(_ a: FISORSettings, _ b: FISORSettings) -> Bool {
        a.costScale == b.costScale && a.actionClip == b.actionClip && a.rescaleRewards == b.rescaleRewards && a.episodeLength == b.episodeLength
            && a.critic == b.critic && (a.critic == .hj || a.costLimit == b.costLimit) && a.discount == b.discount && a.polyak == b.polyak
            && a.rewardExpectile == b.rewardExpectile && a.feasibilityExpectile == b.feasibilityExpectile && a.criticHidden == b.criticHidden
            && a.criticLearningRate == b.criticLearningRate && a.criticBatchSize == b.criticBatchSize && a.criticSteps == b.criticSteps
            && a.schedule == .criticFirst && b.schedule == .criticFirst
    }

    /// The latest convergence record since the last call (then nil until the next one), with the
    /// critic step it was taken at under "critic_steps".
    public func takeConvergence() -> [String: Float]? {
        defer { convergence = nil }
        return convergence
    }

    // MARK: The actor (docs/fisor.md §4–§5)

    /// `actorStepsPerIteration` weighted ε-regression steps on consecutive slices of the batch
    /// (reference: rows 0–1023, then 1024–2047), each followed by the EMA update.
    private func actorIteration(_ b: TransitionBatch, _ actions: Tensor) -> [String: Float] {
        let s = settings, n = networks
        var metrics: [String: Float] = [:]
        for k in 0..<s.actorStepsPerIteration {
            let rows = (k * s.actorBatchSize)..<((k + 1) * s.actorBatchSize)
            // In a data-parallel run, this rank's shard of the block; the objective draws the whole
            // block's noise and keeps the shard's rows (docs/distributed.md).
            let group = ProcessGroup.parallel
            let part = group?.shard(s.actorBatchSize) ?? 0..<s.actorBatchSize
            let mine = (rows.lowerBound + part.lowerBound)..<(rows.lowerBound + part.upperBound)
            let obs = b.observations.slice(axis: 0, mine), act = actions.slice(axis: 0, mine)
            let (w, diagnostics) = weights(obs, act)
            // Sum over action dimensions as the reference (docs/fisor.md §5), weighted mean over the block.
            func blockLoss() -> Tensor { objective.loss(n.actor.network(condition: obs), x0: act, rng: rng, sampleWeights: w, reduction: .sum) }
            let loss = group.map { $0.onShard(of: s.actorBatchSize, blockLoss) } ?? blockLoss()
            actorOptimizer.learningRate = actorSchedule(actorSteps.value)
            actorOptimizer.minimize(loss)
            actorSteps.value += 1
            interpolateParameters(into: n.actorEMA, from: n.actor, weight: s.actorEMA)
            // Means over the iteration's steps.
            var step = diagnostics
            step["actor_loss"] = loss.item
            for (key, v) in step { metrics[key, default: 0] += v / Float(s.actorStepsPerIteration) }
        }
        return metrics
    }

    // MARK: The critics (docs/fisor.md §3)

    /// One step of each critic on the batch's first rows, in the reference's order V_r, Q_r, V_h,
    /// Q_h; in a data-parallel run, this rank's shard of them (the optimizers average the gradients).
    private func criticStep(_ b: TransitionBatch, _ actions: Tensor, _ costs: Tensor) -> [String: Float] {
        let s = settings, n = networks
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
        criticSteps.value += 1

        let metrics = ["reward_value_loss": vrLoss.item, "reward_critic_loss": qrLoss.item, "feasibility_value_loss": vhLoss.item,
                       "feasibility_critic_loss": qhLoss.item, "feasibility_q": qhTarget.mean().item]
        if let probe {
            probe.record(rewardExpectileLoss: metrics["reward_value_loss"]!)
            if criticSteps.value % probe.every == 0 {
                convergence = probe.measure(networks.feasibilityValue, shift: s.qcThreshold)
                convergence?["critic_steps"] = Float(criticSteps.value)
            }
        }
        return metrics
    }
}

/// The convergence log of the feasibility critic (docs/fisor.md, "Convergence log"): every `every`
/// critic steps, V_h over a fixed set of dataset states — the feasible fraction (V_h ≤ 0), the mean
/// V_h over states of episodes without cost and with cost, the mean |ΔV_h| since the previous
/// record — and the mean expectile loss of V_r over the critic steps since then. Not part of the
/// training state: after a resume the first record has no |ΔV_h| and averages the loss over the
/// steps since the resume.
public final class FeasibilityProbe {
    /// The states, [M, obs], and whether each one's episode has any cost.
    let observations: Tensor
    let costly: [Bool]
    /// Critic steps between records.
    public let every: Int
    private var previous: [Float]?
    private var lossSum: Double = 0, lossCount = 0

    public init(observations: Tensor, costly: [Bool], every: Int) {
        precondition(observations.shape[0] == costly.count && !costly.isEmpty, "a probe needs one cost flag per state")
        precondition(every >= 1, "the probe period must be positive")
        self.observations = observations; self.costly = costly; self.every = every
    }

    /// At most `limit` states of `dataset`, evenly strided (every ⌈N/limit⌉-th, from the first), so
    /// that a record costs one V_h pass over them.
    public convenience init(dataset: OfflineDataset, every: Int, limit: Int = 20_000) {
        precondition(dataset.costs != nil, "a probe needs costs")
        var costly = [Bool](repeating: false, count: dataset.count)
        for (range, summary) in zip(dataset.episodes, dataset.episodeSummaries()) where summary.cost > 0 {
            for i in range { costly[i] = true }
        }
        let stride = (dataset.count + limit - 1) / limit
        let rows = Array(Swift.stride(from: 0, to: dataset.count, by: Swift.max(stride, 1)))
        self.init(observations: dataset.observations.indexSelect(axis: 0, rows), costly: rows.map { costly[$0] }, every: every)
    }

    func record(rewardExpectileLoss loss: Float) {
        lossSum += Double(loss)
        lossCount += 1
    }

    /// One record from the current V_h (minus `shift`, the qc ablation's threshold).
    func measure(_ value: MLP, shift: Float) -> [String: Float] {
        let vh = noGrad { (FISORNetworks.v(value, observations) - shift).scalars }
        func mean(_ xs: [Float]) -> Float { xs.reduce(0, +) / Float(xs.count) }
        var out: [String: Float] = ["feasible_fraction": Float(vh.filter { $0 <= 0 }.count) / Float(vh.count),
                                    "reward_expectile_loss": Float(lossSum / Double(Swift.max(lossCount, 1)))]
        // A group without states (e.g. data with no costly episode) has no mean and no entry.
        let clean = zip(vh, costly).filter { !$0.1 }.map(\.0), dirty = zip(vh, costly).filter { $0.1 }.map(\.0)
        if !clean.isEmpty { out["vh_no_cost"] = mean(clean) }
        if !dirty.isEmpty { out["vh_cost"] = mean(dirty) }
        if let previous { out["vh_change"] = mean(zip(vh, previous).map { abs($0 - $1) }) }
        previous = vh
        lossSum = 0
        lossCount = 0
        return out
    }
}
