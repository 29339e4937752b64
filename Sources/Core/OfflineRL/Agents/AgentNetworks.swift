import Foundation
import NN
import TensorCore

/// The offline agents of docs/pgd.md §5.
public enum AgentAlgorithm: String, Codable, Sendable, CaseIterable {
    /// Behavior cloning with a deterministic tanh actor (MSE).
    case bc
    /// Behavior cloning with a Gaussian actor (maximum likelihood).
    case bcGaussian = "bc-gaussian"
    /// TD3+BC (Fujimoto & Gu 2021).
    case td3bc
    /// Implicit Q-learning (Kostrikov et al. 2022).
    case iql
    /// Soft actor-critic (Haarnoja et al. 2018), trained online (`OnlineTrainer`, docs/environments.md §7).
    case sac

    /// The algorithms `OfflineTrainer` trains from a dataset alone (`diffuse train agent`).
    public static let offline: [AgentAlgorithm] = [.bc, .bcGaussian, .td3bc, .iql]

    /// A state-independent log-std parameter (SAC's is a second head of the actor).
    var gaussian: Bool { self == .bcGaussian || self == .iql }
}

/// Every network of an agent, in one checkpointable module: a tanh actor (the mean action in the
/// normalized space [−1, 1]), a state-independent log-std for Gaussian actors, twin critics
/// Q(s, a) for TD3+BC, IQL and SAC, and IQL's value V(s). SAC's actor has no output activation and
/// 2·|A| outputs, the pre-tanh mean and log-std heads (CleanRL's fc_mean / fc_logstd on one trunk),
/// and SAC's entropy temperature log α lives here too. Target networks are training state.
public final class AgentNetworks: Module, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var algorithm: AgentAlgorithm
        public var observationDim: Int
        public var actionDim: Int
        /// Hidden widths of every MLP (PGD: 256-256, ReLU).
        public var hidden: [Int] = [256, 256]
        public init(algorithm: AgentAlgorithm, observationDim: Int, actionDim: Int, hidden: [Int] = [256, 256]) {
            self.algorithm = algorithm; self.observationDim = observationDim; self.actionDim = actionDim; self.hidden = hidden
        }
    }

    public let config: Config
    public let actor: MLP
    public let logStd: Parameter?
    public let critic1: MLP?
    public let critic2: MLP?
    public let value: MLP?
    /// SAC's log α (automatic entropy tuning, Haarnoja et al. 2018b §5), 0 at the start (α = 1, CleanRL).
    public let logAlpha: Parameter?

    public init(config: Config, rng: RandomGenerator) {
        self.config = config
        let o = config.observationDim, a = config.actionDim, h = config.hidden
        let sac = config.algorithm == .sac
        actor = MLP([o] + h + [sac ? 2 * a : a], activation: .relu, outputActivation: sac ? .identity : .tanh, rng: rng)
        logStd = config.algorithm.gaussian ? Parameter(Tensor(zeros: [a])) : nil
        let critics = config.algorithm == .td3bc || config.algorithm == .iql || sac
        critic1 = critics ? MLP([o + a] + h + [1], activation: .relu, rng: rng) : nil
        critic2 = critics ? MLP([o + a] + h + [1], activation: .relu, rng: rng) : nil
        value = config.algorithm == .iql ? MLP([o] + h + [1], activation: .relu, rng: rng) : nil
        logAlpha = sac ? Parameter(Tensor(zeros: [1])) : nil
    }

    /// The deterministic action in [−1, 1]: the actor's output, or tanh of SAC's mean head.
    public func meanAction(_ observations: Tensor) -> Tensor {
        guard config.algorithm == .sac else { return actor(observations) }
        return actor(observations).slice(axis: 1, 0..<config.actionDim).tanh()
    }

    /// SAC's log-std bounds (CleanRL sac_continuous_action: LOG_STD_MIN −5, LOG_STD_MAX 2).
    public static let sacLogStdRange: (min: Float, max: Float) = (-5, 2)

    /// SAC's pre-tanh Gaussian N(μ(s), σ(s)²): log σ = min + (max − min)(tanh(raw) + 1)/2, a smooth
    /// squash into the bounds (CleanRL, after SpinningUp).
    public func sacGaussian(_ observations: Tensor) -> (mean: Tensor, logStd: Tensor) {
        precondition(config.algorithm == .sac, "sacGaussian needs SAC networks")
        let out = actor(observations), a = config.actionDim, r = Self.sacLogStdRange
        let logStd = r.min + 0.5 * (r.max - r.min) * (out.slice(axis: 1, a..<(2 * a)).tanh() + 1)
        return (out.slice(axis: 1, 0..<a), logStd)
    }

    /// log π(a | s) of SAC's tanh-squashed Gaussian for actions a = tanh(u) in (−1, 1):
    /// log N(u; μ, σ²) − Σ log(1 − a² + 1e-6) (Haarnoja et al. 2018a, appendix C; CleanRL's 1e-6).
    public static func squashedLogProbability(preTanh u: Tensor, action: Tensor, mean: Tensor, logStd: Tensor) -> Tensor {
        Loss.gaussianLogLikelihood(u, mean: mean, logStd: logStd) - (1 - action.squared() + 1e-6).log().sum(axis: -1)
    }

    /// log π(a | s) summed over action dimensions, Normal(μ(s), σ) on the action directly (no tanh
    /// Jacobian, as PGD's IQL), log σ clipped to [−20, 2].
    public func logProbability(_ actions: Tensor, mean: Tensor) -> Tensor {
        let logSigma = (logStd?.tensor ?? Tensor(zeros: [config.actionDim])).clamped(min: -20, max: 2)
        return Loss.gaussianLogLikelihood(actions, mean: mean, logStd: logSigma)
    }

    /// Q(s, a) of one critic, [B].
    static func q(_ critic: MLP, _ s: Tensor, _ a: Tensor) -> Tensor {
        critic(Tensor.concat([s, a], axis: 1)).reshaped([s.shape[0]])
    }
}

/// A trained agent as a policy: observations are z-scored and actions mapped back from [−1, 1]
/// to the environment's bounds with the maps stored in its checkpoint.
public final class AgentPolicy: DifferentiablePolicy, TensorPolicy {
    public let networks: AgentNetworks
    public let observationNormalizer: AffineNormalizer
    public let actionMap: AffineNormalizer
    public let metadata: [String: String]
    /// SAC only: act with sampled actions tanh(μ + σ ε) instead of the mean (how the locomotion
    /// recipes record behaviour data, docs/environments.md §7). Evaluation uses the mean.
    public var sampling = false

    public init(networks: AgentNetworks, observationNormalizer: AffineNormalizer, actionMap: AffineNormalizer, metadata: [String: String] = [:]) {
        self.networks = networks; self.observationNormalizer = observationNormalizer; self.actionMap = actionMap; self.metadata = metadata
    }

    /// The mean action (deterministic evaluation), or a sampled one when `sampling` (SAC's squashed
    /// Gaussian), in environment units.
    public func actions(_ observations: Tensor, rng: RandomGenerator) -> Tensor {
        let s = observationNormalizer(observations)
        guard sampling, networks.config.algorithm == .sac else { return actionMap.inverse(networks.meanAction(s)) }
        let g = networks.sacGaussian(s)
        return actionMap.inverse((g.mean + g.logStd.exp() * rng.normal(g.mean.shape)).tanh())
    }

    public var observationDim: Int { networks.config.observationDim }
    public var actionDim: Int { networks.config.actionDim }

    /// log π(a | s) in environment units: the actor's Gaussian N(μ(s), σ²) (σ = 1 for deterministic
    /// actors) on the normalized action a_n = (a − c)/h, plus the box map's log-Jacobian −Σ log h,
    /// so the density integrates to one over the environment's action box (for σ ≪ 1).
    public func logProbability(observations: Tensor, actions: Tensor) -> Tensor {
        precondition(observations.rank == 2 && observations.shape[1] == observationDim && actions.shape == [observations.shape[0], actionDim],
                     "logProbability expects observations [B, \(observationDim)] and actions [B, \(actionDim)], got \(observations.shape) and \(actions.shape)")
        let logJacobian = actionMap.scale.reduce(Float(0)) { $0 - Foundation.log($1) }
        if networks.config.algorithm == .sac {
            // The squashed Gaussian's own density; actions on the box's faces are pulled just inside.
            let a = actionMap(actions).clamped(min: -1 + 1e-6, max: 1 - 1e-6)
            let g = networks.sacGaussian(observationNormalizer(observations))
            return AgentNetworks.squashedLogProbability(preTanh: a.atanh(), action: a, mean: g.mean, logStd: g.logStd) + logJacobian
        }
        let mean = self.mean(observations: observations)
        return networks.logProbability(actionMap(actions), mean: mean) + logJacobian
    }

    /// The actor's mean action μ(s) in the normalized space [−1, 1], for observations in environment units.
    public func mean(observations: Tensor) -> Tensor { networks.meanAction(observationNormalizer(observations)) }

    /// σ² of the actor's Gaussian per action dimension, [act] (1 for deterministic actors and for SAC,
    /// whose σ depends on the state).
    public var actionVariance: Tensor {
        guard let logStd = networks.logStd else { return Tensor(ones: [actionDim]) }
        return (logStd.tensor.clamped(min: -20, max: 2) * 2).exp()
    }

    public static func load(_ url: URL) throws -> AgentPolicy {
        let (networks, metadata, _) = try Checkpoint.load(AgentNetworks.self, from: url)
        func decode(_ key: String) throws -> AffineNormalizer {
            guard let text = metadata[key], let n = try? JSONDecoder().decode(AffineNormalizer.self, from: Data(text.utf8)) else {
                throw Checkpoint.Error.badConfig("\(key) is missing or malformed")
            }
            return n
        }
        let obs = try decode("observation_normalizer"), act = try decode("action_map")
        guard obs.shift.count == networks.config.observationDim, act.shift.count == networks.config.actionDim else {
            throw Checkpoint.Error.badConfig("normalizer sizes do not match the networks")
        }
        return AgentPolicy(networks: networks, observationNormalizer: obs, actionMap: act, metadata: metadata)
    }
}
