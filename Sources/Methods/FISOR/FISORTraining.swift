import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// Why a FISOR run cannot start (one line each).
public enum FISORError: Error, Equatable, CustomStringConvertible {
    case noCosts
    case invalidSettings(String)
    case tooFewTransitions(Int, needed: Int)
    case noSafeEpisodes(costLimit: Double, lowest: Double)

    public var description: String {
        switch self {
        case .noCosts: return "the dataset has no costs (FISOR and BC-Safe need a safe-RL dataset with a 'costs' field)"
        case let .invalidSettings(reason): return "invalid FISOR settings: \(reason)"
        case let .tooFewTransitions(n, needed): return "the dataset has \(n) transitions, fewer than one critic batch of \(needed)"
        case let .noSafeEpisodes(k, lowest):
            return String(format: "no episode has a cost return ≤ %g (the lowest is %g): BC-Safe has nothing to imitate", k, lowest)
        }
    }
}

extension FISOR {
    /// A trainer for FISOR on `dataset` (docs/fisor.md §1): observations not normalized, actions
    /// mapped from `actionBounds` to [−1, 1], rewards × L/(R_max − R_min) over the data's episode
    /// returns, bootstrapping cut at terminals and timeouts, batches of `settings.batchSize` rows
    /// drawn uniformly with replacement. `convergenceEvery` > 0 records the feasibility critic's
    /// convergence every that many critic steps (`FeasibilityProbe`, read with `takeConvergence()`).
    public static func trainer(dataset: OfflineDataset, settings: FISORSettings, actionBounds: Box, seed: UInt64,
                               convergenceEvery: Int = 0) throws -> OfflineTrainer {
        guard dataset.costs != nil else { throw FISORError.noCosts }
        if let reason = settings.validationError() { throw FISORError.invalidSettings(reason) }
        guard dataset.count >= settings.criticBatchSize else { throw FISORError.tooFewTransitions(dataset.count, needed: settings.criticBatchSize) }
        let preprocessing = try TransitionPreprocessing(fitting: dataset, actionBounds: actionBounds, normalizeObservations: false,
                                                        rewardScale: settings.rescaleRewards ? Float(settings.episodeLength) : 0,
                                                        bootstrapping: .terminalsOrTimeouts)
        // One stream: networks first, then the sampler's seed, then the algorithm's noise.
        let rng = RandomGenerator(seed: seed)
        let networks = FISORNetworks(config: .init(observationDim: dataset.observationDim, actionDim: dataset.actionDim, settings: settings),
                                     rng: rng.fork())
        let batches = TransitionSampler(try preprocessing(dataset), batchSize: settings.batchSize, mode: .withReplacement, seed: rng.nextUInt64())
        let probe = convergenceEvery > 0 ? FeasibilityProbe(dataset: dataset, every: convergenceEvery) : nil
        return OfflineTrainer(algorithm: FISOR(networks: networks, settings: settings, rng: rng.fork(), probe: probe), batches: batches,
                              preprocessing: preprocessing)
    }
}

extension OfflineDataset {
    /// The whole episodes whose cost return is at most `costLimit` (BC-Safe's data, DSRL/OSRL).
    public func safeEpisodes(costLimit: Double) throws -> OfflineDataset {
        guard costs != nil else { throw FISORError.noCosts }
        let summaries = episodeSummaries()
        let kept = zip(episodes, summaries).filter { $0.1.cost <= costLimit }.flatMap { Array($0.0) }
        guard !kept.isEmpty else { throw FISORError.noSafeEpisodes(costLimit: costLimit, lowest: summaries.map(\.cost).min() ?? 0) }
        return subset(kept)
    }
}
