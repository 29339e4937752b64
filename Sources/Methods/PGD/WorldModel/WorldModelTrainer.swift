import Foundation
import NN
import OfflineRL
import TensorCore

/// Training settings of the world model, MBPO's unless noted (Janner et al. 2019, and its code's
/// `BNN.train`).
public struct WorldModelTrainingSettings: Codable, Sendable, Equatable {
    /// Optimizer steps. MBPO trains until the holdout loss stops improving; a fixed budget keeps
    /// runs resumable and reproducible (10k: minutes on two cores; pendulum's one-step error is
    /// ~1.5 % of the identity's after 1k).
    public var steps = 10_000
    /// Batch 256 per member; Adam at 1e-3 (MBPO). MBPO's per-layer L2 decay is left out.
    public var batchSize = 256
    public var learningRate: Float = 1e-3
    /// Transitions held out for the validation MSE: 5 % (docs/pgd.md §1's fraction; MBPO holds out
    /// 20 %, at most 5000).
    public var validationFraction = 0.05
    /// Each member trains on its own bootstrap resample of the training rows (PETS, MBPO); false:
    /// on all of them, in its own shuffled order.
    public var bootstrap = true
    public var seed: UInt64 = 0

    public init(steps: Int = 10_000, batchSize: Int = 256, learningRate: Float = 1e-3, validationFraction: Double = 0.05,
                bootstrap: Bool = true, seed: UInt64 = 0) {
        self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate
        self.validationFraction = validationFraction; self.bootstrap = bootstrap; self.seed = seed
    }
}

/// Trains a `WorldModel` on a dataset's transitions: one loss summed over the members (each on its
/// own minibatch), Adam, a held-out split of transitions for a validation MSE per member. Resumable:
/// weights, Adam, every member's sampler, the generator and the step.
public final class WorldModelTrainer: Trainer {
    public let settings: WorldModelTrainingSettings
    public let model: WorldModel
    /// Held-out transitions (environment units), for validation.
    public let validation: OfflineDataset
    let inputs: Tensor
    let targets: Tensor
    /// Each member's training rows (a bootstrap resample, or every training row) and sampler over them.
    let memberRows: [[Int]]
    let samplers: [MinibatchSampler]
    let optimizer: Adam
    let rng: RandomGenerator
    public var step = 0

    public init(dataset: OfflineDataset, actionBounds: Box, architecture: WorldModel.Architecture = WorldModel.Architecture(),
                settings: WorldModelTrainingSettings) throws {
        self.settings = settings
        let rng = RandomGenerator(seed: settings.seed)
        self.rng = rng
        let order = rng.permutation(dataset.count)
        let held = Int((Double(dataset.count) * settings.validationFraction).rounded())
        let train = dataset.subset(Array(order[held...]).sorted())
        validation = dataset.subset(Array(order[..<held]).sorted())
        guard train.count >= settings.batchSize else { throw PGDTrainingError.tooFewSamples(what: "transitions", train: train.count, batch: settings.batchSize, hint: "collect more data or lower --batch-size") }
        // Normalizers from the training rows only (MBPO fits its input scaler after the holdout split).
        model = WorldModel(config: try .init(fitting: train, actionBounds: actionBounds, architecture: architecture), rng: rng.fork())
        inputs = model.inputs(observations: train.observations, actions: train.actions)
        targets = model.targets(observations: train.observations, rewards: train.rewards, nextObservations: train.nextObservations)
        let n = train.count
        memberRows = (0..<architecture.ensemble).map { _ in
            settings.bootstrap ? (0..<n).map { _ in rng.nextInt(below: n) } : Array(0..<n)
        }
        samplers = memberRows.map { MinibatchSampler(count: $0.count, batchSize: settings.batchSize, seed: rng.nextUInt64()) }
        optimizer = Adam(model, learningRate: settings.learningRate)
    }

    /// One Adam step on Σₖ lossₖ + the log-variance bounds' penalty; returns the loss and the mean
    /// training MSE of the members.
    public func trainStep() -> [String: Float] {
        var total = model.boundsPenalty()
        var mse: Float = 0
        for k in 0..<model.ensembleSize {
            let rows = samplers[k].next().map { memberRows[k][$0] }
            let (loss, e) = model.loss(member: k, inputs.indexSelect(axis: 0, rows), targets.indexSelect(axis: 0, rows))
            total = total + loss
            mse += e / Float(model.ensembleSize)
        }
        optimizer.minimize(total)
        step += 1
        return ["loss": total.item, "mse": mse]
    }

    /// Each member's MSE of its mean on the held-out transitions, in normalized target units
    /// (z-scored Δs and r); empty without validation rows.
    public func validationMSE() -> [Float] {
        guard validation.count > 0 else { return [] }
        let x = model.inputs(observations: validation.observations, actions: validation.actions)
        let y = model.targets(observations: validation.observations, rewards: validation.rewards, nextObservations: validation.nextObservations)
        return noGrad { (0..<model.ensembleSize).map { (model.member($0, x).mean - y).squared().mean().item } }
    }

    // Trainer. The config's normalizers tie a checkpoint to its training data.
    public var savedModule: any ConfigurableModule { model }
    public var resumableParts: [(String, any Resumable)] {
        [("optimizer", optimizer), ("generator", rng)] + samplers.enumerated().map { ("sampler.\($0.offset)", $0.element) }
    }
    public var resumeSettings: [String: String] { ["world_model_training": canonicalJSON(settings)] }
}
