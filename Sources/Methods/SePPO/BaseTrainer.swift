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
    /// Fraction of the training mix that is degraded (docs/seppo.md §6: 50 %; the digits setup only).
    public var degradedFraction = 0.5
    /// Probability that a training label is replaced by the null class, so one network also learns the
    /// unconditional model that classifier-free guidance needs (Ho & Salimans 2022 train with 0.1–0.2).
    /// 0 for the digits base model (docs/seppo.md: sampling always conditions on the class).
    public var unconditionalFraction = 0.0
    public var seed: UInt64 = 0

    public init() {}
}

/// Trains an image generator (the library's U-Net 2D, sized from the data) on a set of images: SePPO's base
/// model p₀ on clean digits plus degraded copies (`init(clean:)`), or any user's images (`init(images:)`,
/// `diffuse train image`). Labelled data gives a class-conditional model, unlabelled data an unconditional one
/// (every label the null class). Resumable: online weights, EMA, Adam, the minibatch sampler, the noise
/// stream and the step.
public final class BaseTrainer: Trainer {
    public let settings: BaseTrainingSettings
    public let objective: DiffusionObjective
    public let model: UNet2D
    public let ema: EMA<UNet2D>
    /// The training set (digits: clean first, then the degraded copies).
    public let mix: ImageSet
    /// Classes of the conditional model; 0 for an unconditional one.
    public let classes: Int
    let optimizer: Adam
    let sampler: MinibatchSampler
    let rng: RandomGenerator
    public var step = 0

    /// SePPO's digits base model: clean digits plus `degradedFraction` degraded copies, 10 classes.
    public convenience init(clean: DigitsData, objective: DiffusionObjective = ImageModel.defaultObjective, settings: BaseTrainingSettings) throws {
        let rng = RandomGenerator(seed: settings.seed)
        // Degraded copies of a random subset, so the mix is `degradedFraction` degraded.
        let f = Swift.min(Swift.max(settings.degradedFraction, 0), 0.99)
        let degradedCount = Int((Double(clean.count) * f / (1 - f)).rounded())
        let picks = (0..<degradedCount).map { _ in rng.nextInt(below: clean.count) }
        let source = clean.rows(picks)
        let degraded = Degradation.degrade(source.images, rng: rng).images
        let mix = ImageSet(images: Tensor.concat([clean.images, degraded], axis: 0), labels: clean.labels + source.labels,
                           range: PixelRange(low: 0, high: DigitsData.maxPixel))
        try self.init(images: mix, classes: DigitsData.classes, objective: objective, settings: settings, rng: rng)
    }

    /// Any square images: the U-Net takes their channels and side; `classes` defaults to the labels' range.
    public convenience init(images: ImageSet, classes: Int? = nil, objective: DiffusionObjective = ImageModel.defaultObjective, settings: BaseTrainingSettings) throws {
        try self.init(images: images, classes: classes ?? images.classes, objective: objective, settings: settings, rng: RandomGenerator(seed: settings.seed))
    }

    init(images mix: ImageSet, classes: Int, objective: DiffusionObjective, settings: BaseTrainingSettings, rng: RandomGenerator) throws {
        self.settings = settings
        self.objective = objective
        self.rng = rng
        self.mix = mix
        self.classes = mix.labels == nil ? 0 : classes
        let (height, width) = mix.side
        guard height == width else { throw SePPOTrainingError.shapeMismatch("the U-Net 2D takes square images; these are \(height)×\(width)") }
        guard mix.count >= settings.batchSize else { throw SePPOTrainingError.tooFewSamples(train: mix.count, batch: settings.batchSize) }
        let config = UNet2D.Config(channels: mix.channels, size: height, width: settings.width, classes: self.classes)
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
        let indices = sampler.next()
        // Labels, with the null class (index `classes`) for unlabelled data and for the CFG dropout.
        let null = Float(classes)
        var labels = indices.map { i in mix.labels.map { Float($0[i]) } ?? null }
        if settings.unconditionalFraction > 0 {
            labels = labels.map { rng.nextDouble() < settings.unconditionalFraction ? null : $0 }
        }
        let loss = objective.loss(model.network(condition: Tensor(labels)), x0: mix.images.indexSelect(axis: 0, indices), rng: rng)
        optimizer.minimize(loss)
        ema.update(from: model)
        step += 1
        return ["loss": loss.item, "lr": lr]
    }

    // Trainer: checkpoints hold the EMA model (what sampling and alignment load).
    public var savedModule: any ConfigurableModule { ema.average }
    public var resumableParts: [(String, any Resumable)] { [("online", model), ("optimizer", optimizer), ("sampler", sampler), ("noise", rng)] }
    public var resumeSettings: [String: String] { ["base_training": canonicalJSON(settings), "base_data": PreferenceSet.fingerprint(mix.images, labels: mix.labels ?? [])] }
    /// The objective, and the map from the data's pixel values to [−1, 1] (so samples can be written back).
    public var checkpointMetadata: [String: String] { ImageModel.metadata(objective: objective).merging([ImageSet.rangeKey: canonicalJSON(mix.range)]) { a, _ in a } }
}
