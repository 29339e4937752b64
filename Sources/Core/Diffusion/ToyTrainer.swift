import Foundation
import NN
import TensorCore

/// Trains a denoiser on a toy distribution: what `diffuse train toy` runs.
///
/// The defaults (docs/toy.md has the measurements) draw every toy distribution visibly right with
/// both objectives and the default samplers in about 20 s on one core: 4000 Adam steps of 512
/// fresh points, a 128×3 Mish MLP with 4 positional-encoding bands of x, and a peak learning rate
/// of 1e-2. The encoding and the higher rate are what the checkerboard's sharp edges need: with
/// neither, the model drew a blurred box (53 % of samples on dark squares, uniform noise gives 50 %).
public struct ToyTrainingSettings: Codable, Sendable, Equatable {
    public var distribution: ToyDistribution
    public var objective: DiffusionObjective
    public var steps = 4000
    public var batchSize = 512
    public var learningRate: Float = 1e-2
    public var hidden = [128, 128, 128]
    /// Positional-encoding bands of x (`MLPDenoiser.Config.inputFrequencies`).
    public var inputFrequencies = 4
    public var seed: UInt64 = 0

    public init(distribution: ToyDistribution, objective: DiffusionObjective, steps: Int = 4000, batchSize: Int = 512,
                learningRate: Float = 1e-2, hidden: [Int] = [128, 128, 128], inputFrequencies: Int = 4, seed: UInt64 = 0) {
        self.distribution = distribution; self.objective = objective; self.steps = steps; self.batchSize = batchSize
        self.learningRate = learningRate; self.hidden = hidden; self.inputFrequencies = inputFrequencies; self.seed = seed
    }

    /// Records written before `inputFrequencies` existed decode with 0, what those runs used.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        distribution = try c.decode(ToyDistribution.self, forKey: .distribution)
        objective = try c.decode(DiffusionObjective.self, forKey: .objective)
        steps = try c.decode(Int.self, forKey: .steps)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        hidden = try c.decode([Int].self, forKey: .hidden)
        inputFrequencies = try c.decodeIfPresent(Int.self, forKey: .inputFrequencies) ?? 0
        seed = try c.decode(UInt64.self, forKey: .seed)
    }

    public var modelConfig: MLPDenoiser.Config { .init(dataDim: 2, hidden: hidden, inputFrequencies: inputFrequencies) }

    /// Fresh data every step; Adam with cosine decay to 1 % of the peak rate.
    public func run(log: @escaping (String) -> Void = { _ in }, logEvery: Int = 1000) throws -> MLPDenoiser {
        let trainer = ToyTrainer(self)
        try TrainingLoop(steps: steps, logEvery: logEvery, log: log).run { _ in trainer.trainStep() }
        return trainer.model
    }
}

/// The state of a toy run, one step at a time, so `diffuse train toy` can checkpoint and resume it:
/// the model, Adam's moments, the data/noise generator and the step (docs/conventions.md).
public final class ToyTrainer: Trainer {
    public let settings: ToyTrainingSettings
    public let model: MLPDenoiser
    let optimizer: Adam
    let rng: RandomGenerator
    let schedule: LRSchedule
    public var step = 0

    public init(_ settings: ToyTrainingSettings) {
        self.settings = settings
        rng = RandomGenerator(seed: settings.seed)
        model = MLPDenoiser(config: settings.modelConfig, rng: RandomGenerator(seed: settings.seed &+ 1))
        optimizer = Adam(model, learningRate: settings.learningRate)
        schedule = LRSchedule.cosine(base: settings.learningRate, final: settings.learningRate / 100, steps: settings.steps)
    }

    public func trainStep() -> [String: Float] {
        optimizer.learningRate = schedule(step)
        let loss = settings.objective.loss(model.network(), x0: settings.distribution.sample(settings.batchSize, rng: rng), rng: rng)
        optimizer.minimize(loss)
        step += 1
        return ["loss": loss.item]
    }

    public var savedModule: any ConfigurableModule { model }
    public var resumableParts: [(String, any Resumable)] { [("optimizer", optimizer), ("data", rng)] }
    public var resumeSettings: [String: String] { ["training": canonicalJSON(settings)] }
}
