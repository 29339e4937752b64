import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// A trained diffusion policy: per state, N candidates from the EMA actor by the shared T-step
/// sampler (`DiffusionActorSampler`), then one chosen by the settings' selector over the target
/// critics; actions mapped back to the environment's box.
public final class DiffusionAgentPolicy: TensorPolicy {
    public let networks: DiffusionPolicyNetworks
    public let settings: DiffusionPolicySettings
    public let observationNormalizer: AffineNormalizer
    public let actionMap: AffineNormalizer
    public let metadata: [String: String]

    public init(networks: DiffusionPolicyNetworks, settings: DiffusionPolicySettings, observationNormalizer: AffineNormalizer,
                actionMap: AffineNormalizer, metadata: [String: String] = [:]) {
        self.networks = networks; self.settings = settings; self.observationNormalizer = observationNormalizer
        self.actionMap = actionMap; self.metadata = metadata
    }

    public var observationDim: Int { networks.config.observationDim }
    public var actionDim: Int { networks.config.actionDim }

    /// `settings.candidates` actions per row of `observations` ([B, obs], training units): [B·N, act].
    public func candidates(_ observations: Tensor, rng: RandomGenerator) -> Tensor {
        settings.sampler.candidates(networks.actorEMA, observations: observations, count: settings.candidates,
                                                                         actionDim: actionDim, rng: rng)
    }

    /// The chosen candidate per state, [B, act]: `candidates` [B·N, act] for `observations` [B, obs].
    public func choose(_ observations: Tensor, candidates: Tensor, rng: RandomGenerator) -> Tensor {
        let b = observations.shape[0], n = settings.candidates
        precondition(candidates.shape == [b * n, actionDim], "choose expects [\(b * n), \(actionDim)] candidates, got \(candidates.shape)")
        guard settings.selection != .sample else { return candidates.indexSelect(axis: 0, (0..<b).map { $0 * n }) }
        let picks: [Int] = noGrad {
            let tiled = DiffusionActorSampler.tile(observations, count: n)
            let q = DiffusionPolicyNetworks.minQ(networks.criticTargets, tiled, candidates).scalars
            let v = settings.selection == .expectileWeights ? networks.v(tiled).scalars : []
            return (0..<b).map { i in
                let rows = (i * n)..<((i + 1) * n)
                return Self.select(q: Array(q[rows]), value: v.isEmpty ? nil : v[i * n], rule: settings.selection, expectile: settings.expectile,
                                   uniform: settings.selection == .argmaxQ ? 0 : Float(rng.nextDouble())) + i * n
            }
        }
        return candidates.indexSelect(axis: 0, picks)
    }

    /// The index of the chosen candidate among one state's N, given Q of each (and V(s) for the
    /// expectile weights) and a uniform draw u ∈ [0, 1):
    /// - argmax-q: argmax_i Q_i (ties to the first);
    /// - expectile-weights (Eq. 5 of IDQL with the expectile's implicit weights, §4.2):
    ///   p_i ∝ |τ − 1(Q_i − V < 0)| / |Q_i − V|, the inverse CDF at u;
    /// - softmax-q (Diffusion-QL's code): p_i ∝ exp(Q_i − max Q), the inverse CDF at u;
    /// - sample: 0.
    public static func select(q: [Float], value: Float?, rule: DiffusionSelection, expectile tau: Float, uniform u: Float) -> Int {
        precondition(!q.isEmpty, "select needs at least one candidate")
        let best = q.indices.max { q[$0] < q[$1] || (q[$0] == q[$1] && $0 > $1) }!
        let weights: [Double]
        switch rule {
        case .sample: return 0
        case .argmaxQ: return best
        case .expectileWeights:
            guard let value else { preconditionFailure("expectile weights need V(s)") }
            weights = q.map { qi in
                let adv = Double(qi - value)
                // 1e-6 keeps a candidate with Q = V finite (the reference adds no ε: it would be inf there).
                return Double(adv < 0 ? 1 - tau : tau) / Swift.max(abs(adv), 1e-6)
            }
        case .softmaxQ:
            weights = q.map { Foundation.exp(Double($0 - q[best])) }
        }
        let total = weights.reduce(0, +)
        guard total.isFinite, total > 0 else { return best }
        var acc = 0.0
        for (i, w) in weights.enumerated() {
            acc += w / total
            if Double(u) < acc { return i }
        }
        return weights.count - 1
    }

    /// One chosen candidate per row of `observations` (environment units), in environment units.
    public func actions(_ observations: Tensor, rng: RandomGenerator) -> Tensor {
        let x = observationNormalizer(observations)
        return noGrad { actionMap.inverse(choose(x, candidates: candidates(x, rng: rng), rng: rng)) }
    }

    /// Loads a checkpoint written by `diffuse train agent --algo diffusion-bc | idql | dql`.
    public static func load(_ url: URL) throws -> DiffusionAgentPolicy {
        let (networks, metadata, _) = try Checkpoint.load(DiffusionPolicyNetworks.self, from: url)
        func decode<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let text = metadata[key], let v = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
                throw Checkpoint.Error.badConfig("\(key) is missing or malformed")
            }
            return v
        }
        let obs = try decode("observation_normalizer", AffineNormalizer.self), act = try decode("action_map", AffineNormalizer.self)
        let settings = try decode("hyperparameters", DiffusionPolicySettings.self)
        guard obs.shift.count == networks.config.observationDim, act.shift.count == networks.config.actionDim else {
            throw Checkpoint.Error.badConfig("normalizer sizes do not match the networks")
        }
        return DiffusionAgentPolicy(networks: networks, settings: settings, observationNormalizer: obs, actionMap: act, metadata: metadata)
    }
}

extension OfflineTrainer {
    /// The standard setup for a diffusion policy (the settings are its recipe). IDQL and Diffusion-QL need rewards.
    public convenience init(dataset: OfflineDataset, diffusion s: DiffusionPolicySettings, actionBounds: Box, seed: UInt64) throws {
        try self.init(dataset: dataset, recipe: s, actionBounds: actionBounds, seed: seed)
    }
}

extension DiffusionPolicySettings: OfflineAlgorithmRecipe {
    public func algorithmBuilder(observationDim: Int, actionDim: Int, networkRNG: RandomGenerator) -> (RandomGenerator) -> any OfflineAlgorithm {
        let networks = DiffusionPolicyNetworks(config: .init(observationDim: observationDim, actionDim: actionDim, settings: self), rng: networkRNG)
        return { [self] rng in algorithm.make(networks: networks, settings: self, rng: rng) }
    }
}
