import Diffusion
import Foundation
import NN
import TensorCore

/// Why a SePPO trainer (base model, alignment) cannot start.
public enum SePPOTrainingError: Error, Equatable, CustomStringConvertible {
    case tooFewSamples(train: Int, batch: Int)
    case losersMissing
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case let .tooFewSamples(train, batch): return "only \(train) training samples, fewer than one batch of \(batch)"
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
public final class BaseTrainer: Trainer {
    public let settings: BaseTrainingSettings
    public let objective: DiffusionObjective
    public let model: UNet2D
    public let ema: EMA<UNet2D>
    /// The training mix: clean digits first, then the degraded copies.
    public let mix: DigitsData
    let optimizer: Adam
    let sampler: MinibatchSampler
    let rng: RandomGenerator
    public var step = 0

    public init(clean: DigitsData, objective: DiffusionObjective = ImageModel.defaultObjective, settings: BaseTrainingSettings) throws {
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

    // Trainer: checkpoints hold the EMA model (what sampling and alignment load).
    public var savedModule: any ConfigurableModule { ema.average }
    public var resumableParts: [(String, any Resumable)] { [("online", model), ("optimizer", optimizer), ("sampler", sampler), ("noise", rng)] }
    public var resumeSettings: [String: String] { ["base_training": canonicalJSON(settings), "base_data": PreferenceSet.fingerprint(mix.images, labels: mix.labels)] }
    public var checkpointMetadata: [String: String] { ImageModel.metadata(objective: objective) }
}
