import Diffusion
import Foundation
import NN
import TensorCore

/// Every network a diffusion policy trains or acts with, in one checkpointable module: the ε-network
/// over actions (conditioned on the observation) and its EMA copy (the one sampling uses), and for
/// IDQL / Diffusion-QL twin critics Q(s, a) with their Polyak targets, and IDQL's value V(s).
public final class DiffusionPolicyNetworks: Module, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var algorithm: DiffusionAlgorithm
        public var observationDim: Int
        public var actionDim: Int
        public var criticHidden: [Int]
        public var actor: ResidualMLPDenoiser.Config

        public init(observationDim: Int, actionDim: Int, settings s: DiffusionPolicySettings) {
            algorithm = s.algorithm; self.observationDim = observationDim; self.actionDim = actionDim; criticHidden = s.criticHidden
            actor = .init(dataDim: actionDim, condDim: observationDim, width: s.actorWidth, hidden: s.actorHidden, blocks: s.actorBlocks,
                          dropout: s.dropout)
        }
    }

    public let config: Config
    public let actor: ResidualMLPDenoiser
    /// EMA of `actor` (frozen, always in evaluation mode).
    public let actorEMA: ResidualMLPDenoiser
    public let critics: [MLP]
    public let criticTargets: [MLP]
    public let value: MLP?

    public init(config c: Config, rng: RandomGenerator) {
        precondition(c.actor.dataDim == c.actionDim && c.actor.condDim == c.observationDim, "the actor's sizes do not match the data's")
        config = c
        let actor = ResidualMLPDenoiser(config: c.actor, rng: rng)
        func mlp(_ sizes: [Int]) -> MLP { MLP(sizes, activation: .relu, initializer: .xavierUniform, rng: rng) }
        let critics = c.algorithm.needsRewards ? (0..<2).map { _ in mlp([c.observationDim + c.actionDim] + c.criticHidden + [1]) } : []
        value = c.algorithm == .idql ? mlp([c.observationDim] + c.criticHidden + [1]) : nil
        actorEMA = actor.clone()
        criticTargets = critics.map { $0.clone() }
        self.actor = actor
        self.critics = critics
        super.init()
        actorEMA.freeze()
        actorEMA.eval()
        for t in criticTargets { t.freeze() }
    }

    /// One critic's Q(s, a), [B].
    public static func q(_ critic: MLP, _ s: Tensor, _ a: Tensor) -> Tensor {
        critic(Tensor.concat([s, a], axis: 1)).reshaped([s.shape[0]])
    }

    /// min(Q₁, Q₂)(s, a) over `critics`, [B] (clipped double Q).
    public static func minQ(_ critics: [MLP], _ s: Tensor, _ a: Tensor) -> Tensor {
        critics.dropFirst().reduce(q(critics[0], s, a)) { Tensor.minimum($0, q($1, s, a)) }
    }

    /// V(s), [B].
    public func v(_ s: Tensor) -> Tensor { value!(s).reshaped([s.shape[0]]) }
}
