import Foundation

/// Which critic decides feasibility (docs/fisor.md §3).
public enum FeasibilityCritic: String, Codable, Sendable, CaseIterable {
    /// Hamilton–Jacobi reachability: Q_h, V_h over h ∈ {−1, +cost_scale} with the discounted HJ
    /// backup (the method; the cost limit is never used in training).
    case hj
    /// The ablation: an ordinary discounted cost critic Q_c, V_c over the raw cost, shifted by
    /// qc_thres = κ(1 − γ^L)/((1 − γ)L) so that "≤ 0" means "within the cost limit".
    case qc
}

/// How one action is chosen from the N sampled candidates (docs/fisor.md §6).
public enum CandidateSelection: String, Codable, Sendable, CaseIterable {
    /// The reference's default "minqc": the candidate with the smallest max_k Q̄_h,k (the safest).
    case minQh = "min-qh"
    /// The reference's "maxq" option: the largest min_k Q̄_r,k among feasible candidates
    /// (Q_h ≤ 0); the safest candidate when none is feasible.
    case maxQr = "max-qr"
    /// The first candidate with Q_h ≤ 0, the safest when none is: the candidates are i.i.d. draws of
    /// the actor, so this samples the actor restricted to the actions the feasibility critic calls
    /// feasible (a filter, not a ranking: no value differences between feasible candidates are read;
    /// docs/fisor.md, "Why FISOR earned no return").
    case feasibleSample = "feasible-sample"
}

/// The order of critic and actor training (docs/fisor.md §7 and "Critic-first schedule").
public enum FISORSchedule: String, Codable, Sendable, CaseIterable {
    /// The critics alone for `criticSteps` steps (V_r, Q_r, V_h, Q_h with their Polyak targets, on
    /// dataset tuples), then the actor alone for `iterations` iterations on the frozen critics. The
    /// critics never read the actor, so this reaches the reference's fixed point (docs/fisor.md).
    case criticFirst = "critic-first"
    /// The reference loop: every iteration takes the actor steps, then one step of each critic.
    case joint
}

/// FISOR's hyperparameters. The defaults are the reference code's (ZhengYinan-AIR/FISOR at 2097e8b,
/// `configs/train_config.py` and `jaxrl5/agents/fisor/fisor.py`, summarized in docs/fisor.md §2–§7)
/// except the four budget knobs marked "reduced", which make one CPU training run take minutes
/// instead of ~55 CPU-hours; `.paper` restores them.
public struct FISORSettings: Codable, Sendable, Equatable {
    // MARK: Data (docs/fisor.md §1)

    /// h = +costScale if cost > 0 else −1 (reference `cost_scale = 25`).
    public var costScale: Float = 25
    /// Actions are clipped to ±actionClip before training (reference `clip_to_eps`, eps 1e-5).
    public var actionClip: Float = 1 - 1e-5
    /// r ← r·L/(R_max − R_min) with R_max, R_min the data's largest and smallest episode returns
    /// (the reference reads DSRL's max/min_episode_reward; our files carry no such fields).
    public var rescaleRewards = true
    /// L: the environment's episode length (reward rescaling and qc_thres; reference `env_max_steps`).
    /// Set from the environment when training starts.
    public var episodeLength = 1000

    // MARK: Critics (docs/fisor.md §2–§3)

    /// Which feasibility critic (reference `critic_type = 'hj'`).
    public var critic: FeasibilityCritic = .hj
    /// κ for the qc ablation's threshold (reference `cost_limit = 10`); unused by `.hj`.
    public var costLimit: Float = 10
    /// γ (reference `discount = 0.99`).
    public var discount: Float = 0.99
    /// Polyak rate of the Q target networks (reference `tau = 0.005`).
    public var polyak: Float = 0.005
    /// Expectile of V_r (reference `critic_hyperparam = 0.9`).
    public var rewardExpectile: Float = 0.9
    /// Reverse expectile of V_h (reference `cost_critic_hyperparam = 0.9`).
    public var feasibilityExpectile: Float = 0.9
    /// Hidden sizes of every Q and V MLP (reference `critic_hidden_dims = (256, 256)`).
    public var criticHidden = [256, 256]
    /// Adam learning rate of the critics (reference `critic_lr = value_lr = 3e-4`).
    public var criticLearningRate: Float = 3e-4
    /// Rows of the batch the critics use: its first `criticBatchSize` (reference 256).
    public var criticBatchSize = 256

    // MARK: Actor weights (docs/fisor.md §4)

    /// α₁ (reference `reward_temperature = 3`).
    public var rewardTemperature: Float = 3
    /// α₂ (reference `cost_temperature = 5`).
    public var costTemperature: Float = 5
    /// Cap of the feasible-region weights (reference: clip at 100).
    public var rewardWeightCap: Float = 100
    /// Cap of the infeasible-region weights (reference `cost_ub = 150`).
    public var costWeightCap: Float = 150
    /// δ ≥ 0: in a feasible state an action earns its reward weight only if Q_h ≤ −δ; actions with
    /// −δ < Q_h ≤ 0 join the zero-weight band (V_h ≤ 0 < Q_h). Not in the paper or the reference
    /// (δ = 0 there): a margin against a smooth actor crossing the one-step boundary the band marks,
    /// which on safe-circle lets the reward weights pick up the first steps of the unsafe behaviour
    /// (docs/fisor.md, "Why FISOR earned no return" and "A feasibility margin").
    public var feasibleMargin: Float = 0

    // MARK: Diffusion actor (docs/fisor.md §5)

    /// T of the VP schedule (reference `T = 5`).
    public var diffusionSteps = 5
    /// Residual blocks of ε_θ (reference `actor_num_blocks = 3`).
    public var actorBlocks = 3
    /// Width of the residual trunk (reference 256).
    public var actorWidth = 256
    /// Hidden width inside each residual block. Reference 1024 (4 × 256); reduced to 256 here.
    public var actorHidden = 256
    /// Dropout inside the blocks (reference `actor_dropout_rate = 0.1`).
    public var dropout: Float = 0.1
    /// Rows per actor step. Reference 1024; reduced to 256 here.
    public var actorBatchSize = 256
    /// Actor steps per iteration, each on its own slice of the batch (reference 2).
    public var actorStepsPerIteration = 2
    /// Peak actor learning rate, cosine-decayed to 0 (reference `actor_lr = 3e-4`).
    public var actorLearningRate: Float = 3e-4
    /// The cosine decay spans this multiple of the run's actor steps (reference: 3e6 decay steps over
    /// 2e6 actor steps = 1.5, so the rate ends at 7.5e-5 and never reaches 0).
    public var actorDecayMultiple: Float = 1.5
    /// EMA rate of the sampling actor (reference `actor_tau = 0.001`).
    public var actorEMA: Float = 0.001

    // MARK: Action selection (docs/fisor.md §6)

    /// Candidates sampled per state (reference `N = 16`).
    public var candidates = 16
    /// How one candidate is chosen (reference `extract_method = 'minqc'`).
    public var selection: CandidateSelection = .minQh

    // MARK: Budget (docs/fisor.md §7)

    /// Actor iterations (`actorStepsPerIteration` actor steps each; in the joint schedule each is
    /// followed by one step of V_r, Q_r, V_h, Q_h). Reference 1,000,001; reduced to 2,000 here
    /// (minutes on one core; docs/fisor.md, Implementation in this repo).
    public var iterations = 2_000
    /// The order of critic and actor training. The reference interleaves them (`.joint`); the
    /// default trains the critics to convergence first (docs/fisor.md, "Critic-first schedule":
    /// at 2,000 joint iterations the HJ critic has had ~10 Polyak-paced sweeps and is not converged).
    public var schedule: FISORSchedule = .criticFirst
    /// Critic steps before the actor's in `.criticFirst` (unused by `.joint`, whose critics take one
    /// step per iteration). Chosen from the convergence curves of docs/fisor-results.md (docs/fisor.md,
    /// "Default and stopping rule"): the residual of the Polyak-paced HJ backup decays like
    /// (1 − τ(1 − γ))^n, e^−2 ≈ 0.14 at 40,000 steps; on safe-circle expert data the feasible fraction
    /// has levelled off by 26,000 steps, on safe-goal mixed data it is still rising at 40,000, where
    /// issue #34's CPU budget stops.
    public var criticSteps = 40_000

    public init() {}

    /// The reduced budget for a task: 12,000 actor iterations on the MuJoCo velocity tasks, 2,000 elsewhere.
    /// On hopper-velocity and halfcheetah-velocity the return keeps rising with the actor budget at cost 0
    /// (min-Q_h, 3 seeds: 0.02 → 0.50 and 0.06 → 0.26 from 2,000 to 12,000; hopper's BC-Safe: 0.47), about
    /// 8–12 minutes on one core; on safe-circle more actor training earns return but loses safety
    /// (docs/fisor-results.md, "Return and cost against the actor budget"). walker2d-velocity follows its
    /// siblings unmeasured.
    public static func reduced(forEnvironment name: String?) -> FISORSettings {
        var s = FISORSettings()
        if let name, name.hasSuffix("-velocity") { s.iterations = 12_000 }
        return s
    }

    /// The reference's full budget: blocks of width 1024 inside, 2 × 1024 actor rows per
    /// iteration, 10⁶ iterations (~55 CPU-hours here). The schedule stays the default critic-first;
    /// with `schedule = .joint` this is the reference loop.
    public static var paper: FISORSettings {
        var s = FISORSettings()
        s.actorHidden = 1024
        s.actorBatchSize = 1024
        s.iterations = 1_000_001
        return s
    }

    /// Trainer steps of a whole run: `criticSteps + iterations` (critic-first) or `iterations` (joint).
    public var totalSteps: Int { schedule == .criticFirst ? criticSteps + iterations : iterations }

    /// Settings from a checkpoint's JSON; keys a checkpoint from before a setting existed lacks take
    /// their defaults (e.g. `schedule` and `criticSteps`, added after the shipped checkpoint; such a
    /// checkpoint was trained jointly, which the decoded `schedule` records).
    public static func decode(json text: String) throws -> FISORSettings {
        let given = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        var defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(FISORSettings())) as? [String: Any] ?? [:]
        if given["schedule"] == nil { defaults["schedule"] = FISORSchedule.joint.rawValue }
        let merged = defaults.merging(given) { _, own in own }
        return try JSONDecoder().decode(FISORSettings.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// Rows a trainer batch must have: every actor step's slice (the critics use the first rows).
    public var batchSize: Int { actorBatchSize * actorStepsPerIteration }

    /// The qc ablation's threshold κ(1 − γ^L)/((1 − γ)L): the per-step cost a discounted cost value
    /// may reach and stay within κ over an episode (reference `qc_thres`); 0 for `.hj`.
    public var qcThreshold: Float {
        guard critic == .qc else { return 0 }
        let g = Double(discount), l = Double(episodeLength)
        return Float(Double(costLimit) * (1 - Foundation.pow(g, l)) / ((1 - g) * l))
    }

    /// Checks the values; returns a one-line reason when one is out of range.
    public func validationError() -> String? {
        if !(discount > 0 && discount < 1) { return "discount must be in (0, 1)" }
        if criticBatchSize < 1 || criticBatchSize > batchSize { return "the critic batch (\(criticBatchSize)) must be in 1…\(batchSize) (the actor rows per iteration)" }
        if actorBatchSize < 1 || actorStepsPerIteration < 1 { return "actor batch and steps per iteration must be positive" }
        if candidates < 1 { return "candidates must be positive" }
        if diffusionSteps < 1 { return "diffusion steps must be positive" }
        if episodeLength < 1 { return "the episode length must be positive" }
        if rewardWeightCap <= 0 || costWeightCap <= 0 { return "weight caps must be positive" }
        if !(feasibleMargin >= 0 && feasibleMargin.isFinite) { return "the feasibility margin must be a finite number ≥ 0" }
        if iterations < 1 { return "iterations must be positive" }
        if criticSteps < 0 { return "critic steps must be ≥ 0" }
        return nil
    }
}
