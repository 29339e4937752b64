import Diffusion
import Foundation
import NN
import TensorCore

/// The class-conditional digits generator: the library's U-Net 2D (docs/unet2d.md) with a discrete
/// ε-objective, sampled with DDIM. Its checkpoints are plain `UNet2D` checkpoints whose metadata also
/// records the objective (`objectiveKey`), so `diffuse sample` and the SePPO commands can load them.
public enum DigitModel {
    /// Linear β, T = 1000, ε-prediction (docs/diffusion-core.md §1; the bench's unet2d workload).
    public static let defaultObjective = DiffusionObjective.discrete(schedule: .linear(), steps: 1000, prediction: .epsilon)
    public static let objectiveKey = "image_objective"

    public static func metadata(objective: DiffusionObjective) -> [String: String] { [objectiveKey: canonicalJSON(objective)] }

    /// Why a checkpoint is not a digits generator.
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Loads a `UNet2D` checkpoint with its objective (an error if it records none or is not discrete).
    public static func load(_ url: URL) throws -> (model: UNet2D, objective: DiffusionObjective) {
        let (model, metadata, _) = try Checkpoint.load(UNet2D.self, from: url)
        guard let text = metadata[objectiveKey], let objective = try? JSONDecoder().decode(DiffusionObjective.self, from: Data(text.utf8)) else {
            throw LoadError(description: "\(url.path) records no \(objectiveKey) (write it with `diffuse seppo train-base`)")
        }
        guard case .discrete = objective else { throw LoadError(description: "\(url.path): the digits generator needs a discrete objective") }
        model.eval()
        return (model, objective)
    }

    /// DDIM (η = 0, x̂₀ clipped to [−1, 1]) over `steps` of the objective's schedule.
    public static func sampler(_ objective: DiffusionObjective, steps: Int) -> DDIMSampler {
        guard case let .discrete(schedule, trainSteps, prediction) = objective else { preconditionFailure("DDIM needs a discrete objective") }
        return DDIMSampler(scheduler: DDIMScheduler(trainSteps: trainSteps, schedule: schedule, prediction: prediction), inferenceSteps: steps)
    }

    /// One sample per label from `model` (no gradient), clamped to [−1, 1]: [labels.count, C, S, S].
    public static func sample(_ model: UNet2D, labels: [Int], objective: DiffusionObjective, steps: Int, rng: RandomGenerator) -> Tensor {
        let c = model.config
        let x = sampler(objective, steps: steps).sample(model.network(condition: Tensor(labels.map(Float.init))),
                                                        shape: [labels.count, c.channels, c.size, c.size], rng: rng)
        return noGrad { x.clamped(min: -1, max: 1) }
    }
}

/// Why a SePPO trainer cannot start.
public enum SePPOTrainingError: Error, Equatable, CustomStringConvertible {
    case tooFewSamples(train: Int, batch: Int)
    case losersMissing
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case let .tooFewSamples(train, batch): return "only \(train) training digits, fewer than one batch of \(batch)"
        case .losersMissing: return "Diffusion-DPO needs losers paired with the winners (oracle pairs)"
        case let .shapeMismatch(detail): return detail
        }
    }
}

/// Settings of the base digits model (docs/seppo.md §6, Setup A: trained on a mix of clean and
/// degraded digits, 50 % each).
public struct BaseTrainingSettings: Codable, Sendable, Equatable {
    /// Optimizer steps (fresh minibatches of the mixed set).
    public var steps = 4000
    public var batchSize = 64
    /// Adam, cosine decay from 1e-3 to 1e-5 (the bench's unet2d workload uses 1e-3).
    public var learningRate: Float = 1e-3
    public var finalLearningRate: Float = 1e-5
    /// EMA of the weights (decay 0.999, every step); the checkpoint holds the EMA weights.
    public var emaDecay: Float = 0.999
    /// U-Net width (docs/unet2d.md default 32).
    public var width = 32
    /// Fraction of the training mix that is degraded (docs/seppo.md §6: 50 %).
    public var degradedFraction = 0.5
    public var seed: UInt64 = 0

    public init() {}
}

/// Trains the class-conditional base model p₀ on clean digits plus degraded copies. Resumable:
/// online weights, EMA, Adam, the minibatch sampler, the noise stream and the step.
public final class BaseTrainer {
    public let settings: BaseTrainingSettings
    public let objective: DiffusionObjective
    public let model: UNet2D
    public let ema: EMA<UNet2D>
    /// The training mix: clean digits first, then the degraded copies.
    public let mix: DigitsData
    let optimizer: Adam
    let sampler: MinibatchSampler
    let rng: RandomGenerator
    public private(set) var step = 0

    public init(clean: DigitsData, objective: DiffusionObjective = DigitModel.defaultObjective, settings: BaseTrainingSettings) throws {
        self.settings = settings
        self.objective = objective
        let rng = RandomGenerator(seed: settings.seed)
        self.rng = rng
        // Degraded copies of a random subset, so the mix is `degradedFraction` degraded.
        let f = Swift.min(Swift.max(settings.degradedFraction, 0), 0.99)
        let degradedCount = Int((Double(clean.count) * f / (1 - f)).rounded())
        let picks = (0..<degradedCount).map { _ in rng.nextInt(below: clean.count) }
        let source = clean.rows(picks)
        let degraded = Degradation.degrade(source.images, rng: rng).images
        mix = DigitsData(images: Tensor.concat([clean.images, degraded], axis: 0), labels: clean.labels + source.labels)
        guard mix.count >= settings.batchSize else { throw SePPOTrainingError.tooFewSamples(train: mix.count, batch: settings.batchSize) }
        var config = UNet2D.Config()
        config.width = settings.width
        model = UNet2D(config: config, rng: rng.fork())
        ema = EMA(model, decay: settings.emaDecay)
        optimizer = Adam(model, learningRate: settings.learningRate)
        sampler = MinibatchSampler(count: mix.count, batchSize: settings.batchSize, seed: rng.nextUInt64())
    }

    var schedule: LRSchedule { .cosine(base: settings.learningRate, final: settings.finalLearningRate, steps: settings.steps) }

    /// One optimizer step; returns the loss and learning rate.
    public func trainStep() -> [String: Float] {
        let lr = schedule(step)
        optimizer.learningRate = lr
        let batch = mix.rows(sampler.next())
        let loss = objective.loss(model.network(condition: batch.labelTensor), x0: batch.images, rng: rng)
        optimizer.minimize(loss)
        ema.update(from: model)
        step += 1
        return ["loss": loss.item, "lr": lr]
    }

    private var parts: [(String, any Resumable)] { [("online", model), ("optimizer", optimizer), ("sampler", sampler), ("noise", rng)] }
    private var runSettings: [String: String] { ["base_training": canonicalJSON(settings), "base_data": PreferenceSet.fingerprint(mix.images, labels: mix.labels)] }

    /// Writes the EMA model (what sampling and alignment load) with the run's state, atomically.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try Checkpoint.saveRun(ema.average, step: step, parts: parts, settings: runSettings,
                               metadata: metadata.merging(DigitModel.metadata(objective: objective)) { _, own in own }, to: url)
    }

    public func resume(from url: URL) throws {
        step = try Checkpoint.resumeRun(ema.average, parts: parts, settings: runSettings, from: url)
    }
}
