import Diffusion
import Foundation
import NN
import TensorCore

/// Every network FISOR trains or acts with, as one module so that a checkpoint holds all of them
/// (docs/fisor.md §2, §5): the ε-network and its EMA copy (the one sampling uses), the reward
/// critics Q_r (an ensemble, reduced by min) with V_r, the feasibility critics Q_h (reduced by max)
/// with V_h, and the Polyak target copies of both Q ensembles (action selection reads the targets).
public final class FISORNetworks: Module, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var observationDim: Int
        public var actionDim: Int
        /// Hidden sizes of every Q and V MLP (ReLU, Xavier-uniform, zero biases).
        public var criticHidden: [Int]
        /// Members of each Q ensemble (reference `num_qs = 2`).
        public var ensemble: Int
        public var actor: ResidualMLPDenoiser.Config

        public init(observationDim: Int, actionDim: Int, criticHidden: [Int] = [256, 256], ensemble: Int = 2,
                    actor: ResidualMLPDenoiser.Config? = nil) {
            self.observationDim = observationDim; self.actionDim = actionDim; self.criticHidden = criticHidden; self.ensemble = ensemble
            self.actor = actor ?? .init(dataDim: actionDim, condDim: observationDim)
        }

        /// The networks `settings` describe for data of these sizes.
        public init(observationDim: Int, actionDim: Int, settings s: FISORSettings) {
            self.init(observationDim: observationDim, actionDim: actionDim, criticHidden: s.criticHidden,
                      actor: .init(dataDim: actionDim, condDim: observationDim, width: s.actorWidth, hidden: s.actorHidden,
                                   blocks: s.actorBlocks, dropout: s.dropout))
        }
    }

    public let config: Config
    public let actor: ResidualMLPDenoiser
    /// EMA of `actor` (frozen, always in evaluation mode).
    public let actorEMA: ResidualMLPDenoiser
    public let rewardCritics: [MLP]
    public let rewardTargets: [MLP]
    public let rewardValue: MLP
    public let feasibilityCritics: [MLP]
    public let feasibilityTargets: [MLP]
    public let feasibilityValue: MLP

    public init(config c: Config, rng: RandomGenerator) {
        precondition(c.ensemble >= 1, "a Q ensemble needs at least one member")
        precondition(c.actor.dataDim == c.actionDim && c.actor.condDim == c.observationDim, "the actor's sizes do not match the data's")
        config = c
        let actor = ResidualMLPDenoiser(config: c.actor, rng: rng)
        let q = [c.observationDim + c.actionDim] + c.criticHidden + [1], v = [c.observationDim] + c.criticHidden + [1]
        func mlp(_ sizes: [Int]) -> MLP { MLP(sizes, activation: .relu, initializer: .xavierUniform, rng: rng) }
        let rewardCritics = (0..<c.ensemble).map { _ in mlp(q) }
        rewardValue = mlp(v)
        let feasibilityCritics = (0..<c.ensemble).map { _ in mlp(q) }
        feasibilityValue = mlp(v)
        // Targets start as copies (the reference creates them from the same parameters).
        actorEMA = actor.clone()
        rewardTargets = rewardCritics.map { $0.clone() }
        feasibilityTargets = feasibilityCritics.map { $0.clone() }
        self.actor = actor
        self.rewardCritics = rewardCritics
        self.feasibilityCritics = feasibilityCritics
        super.init()
        actorEMA.freeze()
        actorEMA.eval()
        for t in rewardTargets + feasibilityTargets { t.freeze() }
    }

    /// One member's Q(s, a), [B].
    static func q(_ critic: MLP, _ s: Tensor, _ a: Tensor) -> Tensor {
        critic(Tensor.concat([s, a], axis: 1)).reshaped([s.shape[0]])
    }

    /// min_k Q_r,k(s, a) over `critics` (docs/fisor.md §2: the pessimistic reward estimate).
    public static func rewardQ(_ critics: [MLP], _ s: Tensor, _ a: Tensor) -> Tensor {
        critics.dropFirst().reduce(q(critics[0], s, a)) { Tensor.minimum($0, q($1, s, a)) }
    }

    /// max_k Q_h,k(s, a) over `critics` (docs/fisor.md §2: the pessimistic feasibility estimate).
    public static func feasibilityQ(_ critics: [MLP], _ s: Tensor, _ a: Tensor) -> Tensor {
        critics.dropFirst().reduce(q(critics[0], s, a)) { Tensor.maximum($0, q($1, s, a)) }
    }

    /// V(s), [B].
    static func v(_ value: MLP, _ s: Tensor) -> Tensor { value(s).reshaped([s.shape[0]]) }
}
