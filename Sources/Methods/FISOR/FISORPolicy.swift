import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// A trained FISOR agent as a policy (docs/fisor.md §6): per state, N candidates from the EMA
/// actor by T-step DDPM (x̂₀ not clipped by the scheduler; the sample clipped to [−1, 1] after each
/// step), then the candidate with the smallest max_k Q̄_h,k (or, as an option, the largest
/// min_k Q̄_r,k among feasible candidates); actions mapped back to the environment's box.
public final class FISORPolicy: Policy {
    public let networks: FISORNetworks
    public let settings: FISORSettings
    public let observationNormalizer: AffineNormalizer
    public let actionMap: AffineNormalizer
    public let metadata: [String: String]

    public init(networks: FISORNetworks, settings: FISORSettings, observationNormalizer: AffineNormalizer, actionMap: AffineNormalizer,
                metadata: [String: String] = [:]) {
        self.networks = networks; self.settings = settings; self.observationNormalizer = observationNormalizer
        self.actionMap = actionMap; self.metadata = metadata
    }

    public var observationDim: Int { networks.config.observationDim }
    public var actionDim: Int { networks.config.actionDim }

    /// The reference sampler: ε-prediction DDPM with β_t variance (diffusers' fixed_large), temperature 1
    /// (the diffusion actor's sampler in Diffusion, shared with the diffusion policies).
    public var actorSampler: DiffusionActorSampler { DiffusionActorSampler(steps: settings.diffusionSteps) }
    public var sampler: DDPMSampler { actorSampler.ddpm }

    /// `candidates` actions per row of `observations` ([B, obs], training units) from the EMA actor:
    /// [B·N, act], rows i·N ..< (i + 1)·N for state i.
    public func candidates(_ observations: Tensor, rng: RandomGenerator) -> Tensor {
        actorSampler.candidates(networks.actorEMA, observations: observations, count: settings.candidates, actionDim: actionDim, rng: rng)
    }

    /// Each state's row repeated N times, [B·N, obs].
    func tile(_ observations: Tensor) -> Tensor { DiffusionActorSampler.tile(observations, count: settings.candidates) }

    /// The chosen candidate per state: `candidates` [B·N, act] for `observations` [B, obs] (training
    /// units) → [B, act], by the settings' selection rule over the target critics.
    public func choose(_ observations: Tensor, candidates: Tensor) -> Tensor {
        let b = observations.shape[0], n = settings.candidates
        precondition(candidates.shape == [b * n, actionDim], "choose expects [\(b * n), \(actionDim)] candidates, got \(candidates.shape)")
        let picks: [Int] = noGrad {
            let tiled = tile(observations)
            let qh = (FISORNetworks.feasibilityQ(networks.feasibilityTargets, tiled, candidates) - settings.qcThreshold).scalars
            let qr = settings.selection == .maxQr ? FISORNetworks.rewardQ(networks.rewardTargets, tiled, candidates).scalars : []
            return (0..<b).map { i in
                Self.select(feasibilityQ: Array(qh[(i * n)..<((i + 1) * n)]), rewardQ: qr.isEmpty ? nil : Array(qr[(i * n)..<((i + 1) * n)]),
                            rule: settings.selection) + i * n
            }
        }
        return candidates.indexSelect(axis: 0, picks)
    }

    /// The index of the chosen candidate among one state's N: argmin Q_h ("minqc"), argmax Q_r
    /// over those with Q_h ≤ 0 ("maxq"; argmin Q_h if none is feasible), or the first with Q_h ≤ 0
    /// ("feasible-sample"; argmin Q_h if none is feasible). Ties go to the first.
    public static func select(feasibilityQ qh: [Float], rewardQ qr: [Float]?, rule: CandidateSelection) -> Int {
        precondition(!qh.isEmpty, "select needs at least one candidate")
        let safest = qh.indices.min { qh[$0] < qh[$1] }!
        if rule == .feasibleSample { return qh.firstIndex { $0 <= 0 } ?? safest }
        guard rule == .maxQr, let qr else { return safest }
        precondition(qr.count == qh.count, "select: reward and feasibility values differ in length")
        return qh.indices.filter { qh[$0] <= 0 }.max { qr[$0] < qr[$1] || (qr[$0] == qr[$1] && $0 > $1) } ?? safest
    }

    public func actions(for observations: [[Double]], environments: [any Environment], rng: RandomGenerator) -> [[Double]] {
        let d = observationDim
        precondition(observations.allSatisfy { $0.count == d }, "policy expects \(d)-dimensional observations")
        let x = observationNormalizer(Tensor(observations.flatMap { $0.map(Float.init) }, shape: [observations.count, d]))
        let a = noGrad { actionMap.inverse(choose(x, candidates: candidates(x, rng: rng))) }.scalars
        let k = actionDim
        return (0..<observations.count).map { i in (0..<k).map { Double(a[i * k + $0]) } }
    }

    /// Loads a checkpoint written by a FISOR run (`diffuse fisor train`).
    public static func load(_ url: URL) throws -> FISORPolicy {
        let (networks, metadata, _) = try Checkpoint.load(FISORNetworks.self, from: url)
        func decode<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let text = metadata[key], let v = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
                throw Checkpoint.Error.badConfig("\(key) is missing or malformed")
            }
            return v
        }
        let obs = try decode("observation_normalizer", AffineNormalizer.self), act = try decode("action_map", AffineNormalizer.self)
        guard let text = metadata["hyperparameters"], let settings = try? FISORSettings.decode(json: text) else {
            throw Checkpoint.Error.badConfig("hyperparameters is missing or malformed")
        }
        guard obs.shift.count == networks.config.observationDim, act.shift.count == networks.config.actionDim else {
            throw Checkpoint.Error.badConfig("normalizer sizes do not match the networks")
        }
        return FISORPolicy(networks: networks, settings: settings, observationNormalizer: obs, actionMap: act, metadata: metadata)
    }
}
