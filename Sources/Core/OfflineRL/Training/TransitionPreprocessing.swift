import Foundation
import NN
import TensorCore

/// The fixed map from a dataset's raw rows to what an algorithm trains on: observations z-scored,
/// actions mapped from the environment's box to [−1, 1], rewards optionally rescaled, and `done`
/// per the chosen bootstrapping rule (docs/conventions.md, Data and spaces). Fitted once on the real
/// data; synthetic pools go through the same map. Stored in checkpoints so a loaded policy maps
/// observations exactly as in training.
public struct TransitionPreprocessing: Codable, Sendable, Equatable {
    public var observationNormalizer: AffineNormalizer
    public var actionMap: AffineNormalizer
    public var rewardMultiplier: Float
    public var bootstrapping: Bootstrapping

    public init(observationNormalizer: AffineNormalizer, actionMap: AffineNormalizer, rewardMultiplier: Float = 1,
                bootstrapping: Bootstrapping = .terminalsOnly) {
        self.observationNormalizer = observationNormalizer; self.actionMap = actionMap
        self.rewardMultiplier = rewardMultiplier; self.bootstrapping = bootstrapping
    }

    /// Fits the map to `dataset`. `rewardScale` > 0 multiplies rewards by rewardScale / (max − min
    /// episode return) (IQL's locomotion recipe); 0 leaves them.
    public init(fitting dataset: OfflineDataset, actionBounds: Box, normalizeObservations: Bool = true, rewardScale: Float = 0,
                bootstrapping: Bootstrapping = .terminalsOnly) throws {
        guard actionBounds.dimension == dataset.actionDim else {
            throw DataFileError.unsupported("the action bounds have \(actionBounds.dimension) dimensions, the dataset's actions \(dataset.actionDim)")
        }
        var multiplier: Float = 1
        if rewardScale > 0 {
            let returns = dataset.episodeSummaries().map(\.return)
            let range = (returns.max() ?? 1) - (returns.min() ?? 0)
            multiplier = range > 0 ? rewardScale / Float(range) : 1
        }
        self.init(observationNormalizer: normalizeObservations ? .zScore(dataset.observations) : .identity(dataset.observationDim),
                  actionMap: .box(low: actionBounds.low, high: actionBounds.high), rewardMultiplier: multiplier,
                  bootstrapping: bootstrapping)
    }

    public var observationDim: Int { observationNormalizer.shift.count }
    public var actionDim: Int { actionMap.shift.count }

    /// The dataset's transitions in training units (costs kept raw).
    public func callAsFunction(_ dataset: OfflineDataset) throws -> TransitionBatch {
        guard dataset.observationDim == observationDim, dataset.actionDim == actionDim else {
            throw DataFileError.unsupported("the data has \(dataset.observationDim)-d observations and \(dataset.actionDim)-d actions; the model expects \(observationDim) and \(actionDim)")
        }
        let done = bootstrapping == .terminalsOnly ? dataset.terminals : Tensor.maximum(dataset.terminals, dataset.timeouts)
        return TransitionBatch(observations: observationNormalizer(dataset.observations),
                               actions: actionMap(dataset.actions).clamped(min: -1, max: 1),
                               rewards: dataset.rewards * rewardMultiplier,
                               nextObservations: observationNormalizer(dataset.nextObservations),
                               dones: done, timeouts: dataset.timeouts, costs: dataset.costs)
    }
}
