import Foundation
import NN
import OfflineRL
import TensorCore

/// The autoregressive offline world model PGD compares its synthetic trajectories against
/// (docs/pgd.md §6, claim (b)): an ensemble of MLP dynamics models, each mapping a normalized
/// [s | a_n] to a Gaussian over the normalized [Δs | r], as MBPO (Janner et al. 2019) and MOPO
/// (Yu et al. 2020) build it on PETS' probabilistic ensemble (Chua et al. 2018). The config holds
/// every normalizer, fitted on the real data, so a loaded model predicts in environment units.
public final class WorldModel: Module, ConfigurableModule {
    /// The network shape, MBPO's unless noted (Janner et al. 2019, App. C).
    public struct Architecture: Codable, Sendable, Equatable {
        /// Members K. MBPO trains 7 and keeps the 5 with the best holdout loss; we train 5, no elites.
        public var ensemble = 5
        /// 4 hidden layers of 200 units with Swish (= SiLU).
        public var hidden = [200, 200, 200, 200]
        public var activation: Activation = .silu
        /// Gaussian NLL with a learned, softly bounded log-variance (PETS/MBPO); false: a
        /// deterministic ensemble trained with MSE.
        public var probabilistic = true

        public init(ensemble: Int = 5, hidden: [Int] = [200, 200, 200, 200], activation: Activation = .silu, probabilistic: Bool = true) {
            self.ensemble = ensemble; self.hidden = hidden; self.activation = activation; self.probabilistic = probabilistic
        }
    }

    public struct Config: Codable, Sendable, Equatable {
        public var observationDim: Int
        public var actionDim: Int
        public var architecture: Architecture
        /// Inputs: observations z-scored, actions mapped from the environment's box to [−1, 1]
        /// (the agents' `TransitionPreprocessing`, docs/conventions.md, Data and spaces).
        public var observationNormalizer: AffineNormalizer
        public var actionMap: AffineNormalizer
        /// Targets: Δs = s′ − s and r, each z-scored.
        public var deltaNormalizer: AffineNormalizer
        public var rewardNormalizer: AffineNormalizer

        public init(observationDim: Int, actionDim: Int, architecture: Architecture, observationNormalizer: AffineNormalizer,
                    actionMap: AffineNormalizer, deltaNormalizer: AffineNormalizer, rewardNormalizer: AffineNormalizer) {
            self.observationDim = observationDim; self.actionDim = actionDim; self.architecture = architecture
            self.observationNormalizer = observationNormalizer; self.actionMap = actionMap
            self.deltaNormalizer = deltaNormalizer; self.rewardNormalizer = rewardNormalizer
        }

        /// Every normalizer fitted on `dataset`; `actionBounds` is the environment's action box.
        public init(fitting dataset: OfflineDataset, actionBounds: Box, architecture: Architecture = Architecture()) throws {
            let inputs = try TransitionPreprocessing(fitting: dataset, actionBounds: actionBounds)
            self.init(observationDim: dataset.observationDim, actionDim: dataset.actionDim, architecture: architecture,
                      observationNormalizer: inputs.observationNormalizer, actionMap: inputs.actionMap,
                      deltaNormalizer: .zScore(dataset.nextObservations - dataset.observations),
                      rewardNormalizer: .zScore(dataset.rewards.reshaped([dataset.count, 1])))
        }

        /// Predicted channels per member: Δs and r.
        public var targetDim: Int { observationDim + 1 }
    }

    public let config: Config
    public let members: [MLP]
    /// PETS' soft bounds on the log-variance, shared by the members (initialized to 0.5 and −10 as
    /// in PETS' and MBPO's code); nil for a deterministic ensemble.
    public let maxLogVariance: Parameter?
    public let minLogVariance: Parameter?

    public init(config: Config, rng: RandomGenerator) {
        let a = config.architecture
        precondition(a.ensemble >= 1 && !a.hidden.isEmpty && a.hidden.allSatisfy { $0 > 0 }, "a world model needs members and hidden layers")
        self.config = config
        let out = config.targetDim * (a.probabilistic ? 2 : 1)
        members = (0..<a.ensemble).map { _ in
            MLP([config.observationDim + config.actionDim] + a.hidden + [out], activation: a.activation, rng: rng)
        }
        maxLogVariance = a.probabilistic ? Parameter(Tensor(repeating: 0.5, shape: [config.targetDim])) : nil
        minLogVariance = a.probabilistic ? Parameter(Tensor(repeating: -10, shape: [config.targetDim])) : nil
    }

    public var ensembleSize: Int { members.count }

    /// Normalized inputs [s_n | a_n] of environment-unit observations and actions (actions beyond the
    /// box are clipped, as `TransitionPreprocessing` does).
    public func inputs(observations: Tensor, actions: Tensor) -> Tensor {
        Tensor.concat([config.observationNormalizer(observations), config.actionMap(actions).clamped(min: -1, max: 1)], axis: 1)
    }

    /// Normalized targets [Δs_n | r_n] of transitions in environment units.
    public func targets(observations: Tensor, rewards: Tensor, nextObservations: Tensor) -> Tensor {
        Tensor.concat([config.deltaNormalizer(nextObservations - observations),
                       config.rewardNormalizer(rewards.reshaped([rewards.shape[0], 1]))], axis: 1)
    }

    /// Normalized predictions y [B, obs + 1] back to environment units: s′ = s + Δs, and r.
    public func decode(_ y: Tensor, observations: Tensor) -> (nextObservations: Tensor, rewards: Tensor) {
        let o = config.observationDim
        return (observations + config.deltaNormalizer.inverse(y.slice(axis: 1, 0..<o)),
                config.rewardNormalizer.inverse(y.slice(axis: 1, o..<(o + 1))).reshaped([y.shape[0]]))
    }

    /// Member k's predictive mean and (probabilistic models) log-variance, in normalized units. The
    /// log-variance is softly bounded: max − softplus(max − v), then min + softplus(v − min) (PETS, App. A.1).
    public func member(_ k: Int, _ x: Tensor) -> (mean: Tensor, logVariance: Tensor?) {
        let y = members[k](x), d = config.targetDim
        guard let maxLogVariance, let minLogVariance else { return (y, nil) }
        let raw = y.slice(axis: 1, d..<(2 * d))
        let upper = maxLogVariance.tensor - (maxLogVariance.tensor - raw).softplus()
        return (y.slice(axis: 1, 0..<d), minLogVariance.tensor + (upper - minLogVariance.tensor).softplus())
    }

    /// Member k's training loss on normalized inputs x and targets y, and its MSE (of the mean).
    /// Probabilistic: MBPO's Gaussian NLL without constants, mean((μ − y)²·e^(−v)) + mean(v); else MSE.
    public func loss(member k: Int, _ x: Tensor, _ y: Tensor) -> (loss: Tensor, mse: Float) {
        let (mean, logVariance) = member(k, x)
        let squared = (mean - y).squared()
        let mse = noGrad { squared.mean().item }
        guard let logVariance else { return (squared.mean(), mse) }
        return ((squared * (-logVariance).exp()).mean() + logVariance.mean(), mse)
    }

    /// The term that keeps the log-variance bounds tight: 0.01·(Σ max − Σ min) (PETS/MBPO); 0 for MSE.
    public func boundsPenalty() -> Tensor {
        guard let maxLogVariance, let minLogVariance else { return Tensor(0) }
        return (maxLogVariance.tensor.sum() - minLogVariance.tensor.sum()) * 0.01
    }

    /// The mean prediction in environment units of one member, or of the ensemble (the average of
    /// the members' means) when `member` is nil.
    public func predict(observations: Tensor, actions: Tensor, member k: Int? = nil) -> (nextObservations: Tensor, rewards: Tensor) {
        noGrad {
            let x = inputs(observations: observations, actions: actions)
            let y = k.map { member($0, x).mean } ?? members.indices.map { member($0, x).mean }.reduce(Tensor(0), +) * (1 / Float(ensembleSize))
            return decode(y, observations: observations)
        }
    }

    /// Mean ‖ŝ′ − s′‖₂ over the rows of `data` (the ensemble's mean prediction against the stored
    /// next observation), beside the same error of predicting s′ = s.
    public func oneStepError(on data: OfflineDataset, member k: Int? = nil) -> (model: Double, identity: Double) {
        let predicted = predict(observations: data.observations, actions: data.actions, member: k).nextObservations
        return (Self.meanRowNorm(predicted - data.nextObservations), Self.meanRowNorm(data.observations - data.nextObservations))
    }

    static func meanRowNorm(_ d: Tensor) -> Double {
        let n = d.shape[0], w = d.shape[1]
        guard n > 0 else { return 0 }
        return d.withUnsafeBufferPointer { p in
            (0..<n).reduce(0.0) { sum, i in sum + (0..<w).reduce(0.0) { $0 + Double(p[i * w + $1]) * Double(p[i * w + $1]) }.squareRoot() }
        } / Double(n)
    }
}

/// How rollouts are drawn from a world model (`WorldModel.rollout`).
public struct RolloutSettings: Codable, Sendable, Equatable {
    /// Steps per rollout: PGD's L − 1 transitions of an L = 128-row window (docs/pgd.md §1), so both
    /// generators produce episodes of the same length.
    public var horizon = 127
    /// Probabilistic models: draw [Δs | r] from the chosen member's Gaussian, as MBPO and MOPO roll
    /// out; false uses its mean.
    public var sample = true
    /// Clip each predicted observation to the environment's observation box (off by default: the
    /// out-of-bounds rate is reported instead).
    public var clipObservations = false

    public init(horizon: Int = 127, sample: Bool = true, clipObservations: Bool = false) {
        self.horizon = horizon; self.sample = sample; self.clipObservations = clipObservations
    }
}

public enum WorldModelError: Error, Equatable, CustomStringConvertible {
    case mismatch(String)
    case clipWithoutBox
    case nonFinite(step: Int)

    public var description: String {
        switch self {
        case let .mismatch(detail): return detail
        case .clipWithoutBox: return "clipping observations needs the environment's observation box"
        case let .nonFinite(step): return "the world model predicted NaN or infinite values at rollout step \(step)"
        }
    }
}

/// Synthetic transitions from a world model, with what was measured while rolling out.
public struct WorldModelRollouts {
    public var dataset: OfflineDataset
    public var rollouts: Int
    /// Fraction of the kept transitions whose predicted s′ (before any clipping) leaves the
    /// observation box; nil without a box.
    public var outOfBoundsFraction: Double?
}

extension WorldModel {
    /// `transitions` rows of model rollouts in D4RL layout (environment units): rollouts start from
    /// observations drawn uniformly from `starts` [N, obs]; each step acts with `actor` (environment
    /// units, clipped to the model's action box), then predicts s′ and r with a member drawn
    /// uniformly per rollout and step (MOPO, Yu et al. 2020). All rollouts advance as one batch.
    /// Rollout-major rows; terminals 0; a timeout ends each rollout, and the last rollout is cut
    /// to size (its last kept row a timeout). Deterministic given `seed` (and the thread count).
    public func rollout(transitions n: Int, starts: Tensor, actor: (Tensor) -> Tensor, settings: RolloutSettings = RolloutSettings(),
                        observationSpace: Box? = nil, seed: UInt64) throws -> WorldModelRollouts {
        precondition(n >= 1 && settings.horizon >= 1, "a rollout needs at least one transition and one step")
        let o = config.observationDim, h = settings.horizon
        guard starts.rank == 2, starts.shape[1] == o, starts.shape[0] >= 1 else {
            throw WorldModelError.mismatch("start states are \(starts.shape); the model expects [N ≥ 1, \(o)]")
        }
        if let observationSpace, observationSpace.dimension != o {
            throw WorldModelError.mismatch("the observation box has \(observationSpace.dimension) dimensions; the model's observations \(o)")
        }
        if settings.clipObservations && observationSpace == nil { throw WorldModelError.clipWithoutBox }
        let box = observationSpace.map { (low: Tensor($0.low.map(Float.init)), high: Tensor($0.high.map(Float.init))) }
        let sampling = settings.sample && config.architecture.probabilistic
        let rng = RandomGenerator(seed: seed)
        let count = (n + h - 1) / h
        var s = starts.indexSelect(axis: 0, (0..<count).map { _ in rng.nextInt(below: starts.shape[0]) })
        var observations: [Tensor] = [], actions: [Tensor] = [], rewards: [Tensor] = [], next: [Tensor] = []
        var outside = [Bool](repeating: false, count: count * h)  // rollout-major, as the rows
        try noGrad {
            for t in 0..<h {
                let a = config.actionMap.inverse(config.actionMap(actor(s)).clamped(min: -1, max: 1))
                precondition(a.shape == [count, config.actionDim], "the actor returned \(a.shape) for \(count) observations")
                let choice = (0..<count).map { _ in rng.nextInt(below: ensembleSize) }
                let noise = sampling ? rng.normal([count, config.targetDim]) : nil
                let predicted = decode(predict(inputs(observations: s, actions: a), members: choice, noise: noise), observations: s)
                var s2 = predicted.nextObservations
                let r = predicted.rewards
                guard s2.isFinite && r.isFinite else { throw WorldModelError.nonFinite(step: t) }
                if let box {
                    let out = ((s2 .< box.low) + (s2 .> box.high)).sum(axis: 1).scalars
                    for i in 0..<count where out[i] > 0 { outside[i * h + t] = true }
                    if settings.clipObservations { s2 = Tensor.minimum(Tensor.maximum(s2, box.low), box.high) }
                }
                observations.append(s); actions.append(a); rewards.append(r); next.append(s2)
                s = s2
            }
        }
        // [count, h, …] rollout-major, then the first n rows.
        func rows(_ steps: [Tensor]) -> Tensor {
            let x = Tensor.stack(steps, axis: 1)
            let flat = x.reshaped([count * h] + Array(x.shape.dropFirst(2)))
            return count * h == n ? flat : flat.slice(axis: 0, 0..<n)
        }
        let timeouts = (0..<n).map { i -> Float in i % h == h - 1 || i == n - 1 ? 1 : 0 }
        let data = try OfflineDataset(observations: rows(observations), actions: rows(actions), rewards: rows(rewards), nextObservations: rows(next),
                                      terminals: Tensor(zeros: [n]), timeouts: Tensor(timeouts),
                                      attributes: ["generator": "world-model", "horizon": String(h), "seed": String(seed)])
        let fraction = box.map { _ in Double(outside.prefix(n).filter { $0 }.count) / Double(n) }
        return WorldModelRollouts(dataset: data, rollouts: count, outOfBoundsFraction: fraction)
    }

    /// Rollouts from `data`'s observations under `policy` (an agent's deterministic mean action; a
    /// diffusion policy's samples, drawn from a stream of their own so the rollout's draws are the same
    /// for every policy).
    public func rollout(transitions n: Int, from data: OfflineDataset, policy: any TensorPolicy, settings: RolloutSettings = RolloutSettings(),
                        observationSpace: Box? = nil, seed: UInt64) throws -> WorldModelRollouts {
        guard policy.observationDim == config.observationDim, policy.actionDim == config.actionDim else {
            throw WorldModelError.mismatch("the policy acts on \(policy.observationDim)-d observations with \(policy.actionDim)-d actions; the world model's are \(config.observationDim) and \(config.actionDim)")
        }
        let acting = RandomGenerator(seed: ~seed)
        return try rollout(transitions: n, starts: data.observations, actor: { policy.actions($0, rng: acting) },
                           settings: settings, observationSpace: observationSpace, seed: seed)
    }

    /// Normalized predictions of rows x where row i uses member `members[i]`: each member runs once
    /// on its rows; `noise` (standard normal, [B, obs + 1]) turns means into Gaussian draws.
    func predict(_ x: Tensor, members choice: [Int], noise: Tensor?) -> Tensor {
        var order: [Int] = [], parts: [Tensor] = []
        for k in 0..<ensembleSize {
            let rows = choice.indices.filter { choice[$0] == k }
            guard !rows.isEmpty else { continue }
            let (mean, logVariance) = member(k, x.indexSelect(axis: 0, rows))
            if let noise, let logVariance {
                parts.append(mean + noise.indexSelect(axis: 0, rows) * (logVariance * 0.5).exp())
            } else {
                parts.append(mean)
            }
            order += rows
        }
        var inverse = [Int](repeating: 0, count: order.count)
        for (j, i) in order.enumerated() { inverse[i] = j }
        return Tensor.concat(parts, axis: 0).indexSelect(axis: 0, inverse)
    }
}
