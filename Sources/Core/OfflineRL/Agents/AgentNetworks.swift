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

    var gaussian: Bool { self == .bcGaussian || self == .iql }
}

/// Every network of an agent, in one checkpointable module: a tanh actor (the mean action in the
/// normalized space [−1, 1]), a state-independent log-std for Gaussian actors, twin critics
/// Q(s, a) for TD3+BC and IQL, and IQL's value V(s). Target networks are training state.
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

    public init(config: Config, rng: RandomGenerator) {
        self.config = config
        let o = config.observationDim, a = config.actionDim, h = config.hidden
        actor = MLP([o] + h + [a], activation: .relu, outputActivation: .tanh, rng: rng)
        logStd = config.algorithm.gaussian ? Parameter(Tensor(zeros: [a])) : nil
        let critics = config.algorithm == .td3bc || config.algorithm == .iql
        critic1 = critics ? MLP([o + a] + h + [1], activation: .relu, rng: rng) : nil
        critic2 = critics ? MLP([o + a] + h + [1], activation: .relu, rng: rng) : nil
        value = config.algorithm == .iql ? MLP([o] + h + [1], activation: .relu, rng: rng) : nil
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

    public init(networks: AgentNetworks, observationNormalizer: AffineNormalizer, actionMap: AffineNormalizer, metadata: [String: String] = [:]) {
        self.networks = networks; self.observationNormalizer = observationNormalizer; self.actionMap = actionMap; self.metadata = metadata
    }

    /// The mean action (deterministic evaluation), in environment units.
    public func actions(_ observations: Tensor, rng: RandomGenerator) -> Tensor { actionMap.inverse(mean(observations: observations)) }

    public var observationDim: Int { networks.config.observationDim }
    public var actionDim: Int { networks.config.actionDim }

    /// log π(a | s) in environment units: the actor's Gaussian N(μ(s), σ²) (σ = 1 for deterministic
    /// actors) on the normalized action a_n = (a − c)/h, plus the box map's log-Jacobian −Σ log h,
    /// so the density integrates to one over the environment's action box (for σ ≪ 1).
    public func logProbability(observations: Tensor, actions: Tensor) -> Tensor {
        precondition(observations.rank == 2 && observations.shape[1] == observationDim && actions.shape == [observations.shape[0], actionDim],
                     "logProbability expects observations [B, \(observationDim)] and actions [B, \(actionDim)], got \(observations.shape) and \(actions.shape)")
        let mean = self.mean(observations: observations)
        let logJacobian = actionMap.scale.reduce(Float(0)) { $0 - Foundation.log($1) }
        return networks.logProbability(actionMap(actions), mean: mean) + logJacobian
    }

    /// The actor's mean action μ(s) in the normalized space [−1, 1], for observations in environment units.
    public func mean(observations: Tensor) -> Tensor { networks.actor(observationNormalizer(observations)) }

    /// σ² of the actor's Gaussian per action dimension, [act] (1 for deterministic actors).
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
