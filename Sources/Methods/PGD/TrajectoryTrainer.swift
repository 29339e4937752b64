import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// Training settings of the trajectory model, with the PGD reference code's values (docs/pgd.md §1–§2)
/// unless noted.
public struct TrajectoryTrainingSettings: Codable, Sendable, Equatable {
    /// Window length H and start stride (§1: 32 and 8).
    public var horizon = 32
    public var stride = 8
    /// Modeled action channel: atanh of the normalized action (§1).
    public var actionTransform: TrajectoryLayout.ActionTransform = .atanh
    /// Optimizer steps. The reference runs epochs (count unknown for the paper, §2); 10k steps of
    /// batch 32 is what two CPU cores train in minutes — a reduced default, not the paper's budget.
    public var steps = 10_000
    /// Batch 32 (§2).
    public var batchSize = 32
    /// LR: linear warm-up from 2e-4 to 2e-3 over the first 10 % of steps, then cosine to 0 (§2).
    public var warmupLearningRate: Float = 2e-4
    public var peakLearningRate: Float = 2e-3
    public var warmupFraction = 0.1
    /// EMA every 10 steps with decay 0.995; the EMA weights are checkpointed and sampled (§2).
    public var emaDecay: Float = 0.995
    public var emaEvery = 10
    /// Fraction of episodes held out for the validation loss (§1: 5 %).
    public var validationFraction = 0.05
    public var seed: UInt64 = 0

    public init() {}

    /// The transition generator's settings (docs/pgd.md §2.1): one transition per sample (H = 2, every
    /// start, stride 1) and SynthER's batch 256; 20k steps with EMA decay 0.99, which (with the window
    /// MLP at width 128) gave the most fidelity per CPU-minute on two cores (docs/fidelity-results.md,
    /// "Defaults"); the rest as above. With `TrajectoryNetwork.windowMLP` this is what
    /// `diffuse train trajectory` trains by default.
    public static var transitions: TrajectoryTrainingSettings {
        var s = TrajectoryTrainingSettings()
        s.horizon = 2
        s.stride = 1
        s.batchSize = 256
        s.steps = 20_000
        s.emaDecay = 0.99
        return s
    }

    public var learningRate: LRSchedule {
        let warm = Int((Double(steps) * warmupFraction).rounded())
        return .warmup(start: warmupLearningRate, steps: warm, then: .cosine(base: peakLearningRate, final: 0, steps: Swift.max(steps - warm, 1)))
    }
}

/// Why a PGD trainer (trajectory model, world model) cannot start or resume.
public enum PGDTrainingError: Error, Equatable, CustomStringConvertible {
    /// Fewer training samples (`what`: windows, transitions) than one batch; `hint` says what to change.
    case tooFewSamples(what: String, train: Int, batch: Int, hint: String)
    /// The horizon is not a multiple of what the network's down-sampling needs.
    case horizon(Int, multiple: Int)

    public var description: String {
        switch self {
        case let .tooFewSamples(what, train, batch, hint): return "only \(train) training \(what), fewer than one batch of \(batch): \(hint)"
        case let .horizon(h, m): return "horizon \(h) must be a multiple of \(m) (the network halves the length at each level but the last)"
        }
    }
}

/// Trains a `TrajectoryModel` on a dataset's windows (docs/pgd.md §2): EDM (or discrete) denoising
/// loss, Adam with warm-up + cosine, EMA every 10 steps, a validation loss on held-out episodes.
/// Resumable: online weights, EMA, Adam, the window sampler, the noise stream and the step.
public final class TrajectoryTrainer: Trainer {
    public let settings: TrajectoryTrainingSettings
    /// The online model (trained) and its EMA (checkpointed, sampled).
    public let model: TrajectoryModel
    public let ema: EMA<TrajectoryModel>
    public let trainWindows: Tensor
    public let validationWindows: Tensor
    let optimizer: Adam
    let sampler: MinibatchSampler
    let rng: RandomGenerator
    public var step = 0

    public init(dataset: OfflineDataset, actionSpace: Box, network: TrajectoryNetwork? = nil, objective: DiffusionObjective = .edm(EDM()),
                settings: TrajectoryTrainingSettings) throws {
        self.settings = settings
        let layout = try TrajectoryLayout(dataset: dataset, actionSpace: actionSpace, horizon: settings.horizon, stride: settings.stride,
                                          actionTransform: settings.actionTransform)
        // Windows of held-out episodes are validation windows (whole episodes, §1).
        let (_, held) = dataset.splitEpisodes(validationFraction: settings.validationFraction, seed: settings.seed)
        var heldRow = [Bool](repeating: false, count: dataset.count)
        for e in held { for i in e { heldRow[i] = true } }
        let starts = dataset.windowStarts(horizon: settings.horizon, stride: settings.stride)
        let trainStarts = starts.filter { !heldRow[$0] }, validationStarts = starts.filter { heldRow[$0] }
        guard trainStarts.count >= settings.batchSize else { throw PGDTrainingError.tooFewSamples(what: "windows", train: trainStarts.count, batch: settings.batchSize, hint: "collect more data or lower --horizon") }
        trainWindows = try layout.encode(dataset, starts: trainStarts)
        validationWindows = validationStarts.isEmpty ? Tensor(zeros: [0, settings.horizon, layout.width]) : try layout.encode(dataset, starts: validationStarts)

        rng = RandomGenerator(seed: settings.seed)
        let config = TrajectoryModel.Config(layout: layout, network: network, objective: objective)
        let multiple = config.network.lengthMultiple  // checked before the network is built (its init traps)
        guard settings.horizon % multiple == 0 else { throw PGDTrainingError.horizon(settings.horizon, multiple: multiple) }
        model = TrajectoryModel(config: config, rng: rng.fork())
        ema = EMA(model, decay: settings.emaDecay)
        optimizer = Adam(model, learningRate: settings.peakLearningRate)
        sampler = MinibatchSampler(count: trainStarts.count, batchSize: settings.batchSize, seed: rng.nextUInt64())
    }

    /// One optimizer step on a batch of training windows; returns the loss and learning rate.
    public func trainStep() -> [String: Float] {
        let lr = settings.learningRate(step)
        optimizer.learningRate = lr
        let loss = model.loss(trainWindows.indexSelect(axis: 0, sampler.next()), rng: rng)
        optimizer.minimize(loss)
        step += 1
        if step % settings.emaEvery == 0 { ema.update(from: model) }
        return ["loss": loss.item, "lr": lr]
    }

    /// The EMA model's loss on the held-out windows, with fixed noise (comparable across steps);
    /// nil without validation windows.
    public func validationLoss(maxWindows: Int = 256) -> Float? {
        let n = Swift.min(validationWindows.shape[0], maxWindows)
        guard n > 0 else { return nil }
        let noise = RandomGenerator(seed: settings.seed &+ 0xC0FFEE)
        return noGrad {
            var total: Float = 0
            for start in Swift.stride(from: 0, to: n, by: 64) {
                let x = validationWindows.slice(axis: 0, start..<Swift.min(start + 64, n))
                total += ema.average.loss(x, rng: noise).item * Float(x.shape[0])
            }
            return total / Float(n)
        }
    }

    // Trainer: checkpoints hold the EMA model (what sampling loads).
    public var savedModule: any ConfigurableModule { ema.average }
    public var resumableParts: [(String, any Resumable)] { [("online", model), ("optimizer", optimizer), ("sampler", sampler), ("noise", rng)] }
    public var resumeSettings: [String: String] { ["trajectory_training": canonicalJSON(settings)] }
}
