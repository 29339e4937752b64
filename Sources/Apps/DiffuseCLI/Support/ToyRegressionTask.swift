import Foundation
import PolicyDiffusion

/// The toy regression behind `diffuse train regression`: y = sin(f·x) + N(0, σ²), x ~ U(−2, 2).
/// Its noise variance σ² is the best test MSE any model can reach, so training quality is a ratio
/// to a known floor. Stored in the checkpoint so evaluation regenerates the same task.
public struct ToyRegressionTask: Codable, Sendable, Equatable {
    public var frequency: Float = 3
    public var noise: Float = 0.1
    public var trainingPoints = 4096

    public init(frequency: Float = 3, noise: Float = 0.1, trainingPoints: Int = 4096) {
        self.frequency = frequency; self.noise = noise; self.trainingPoints = trainingPoints
    }

    public var noiseFloor: Float { noise * noise }

    /// n noisy samples (x: [n, 1], y: [n, 1]).
    public func sample(_ n: Int, rng: RandomGenerator) -> (x: Tensor, y: Tensor) {
        let x = rng.uniform([n, 1], low: -2, high: 2)
        return (x, (x * frequency).sin() + rng.normal([n, 1], std: noise))
    }

    /// Test MSE of `model` on `n` fresh samples.
    public func testMSE(_ model: MLP, samples n: Int = 20_000, rng: RandomGenerator) -> Float {
        let (x, y) = sample(n, rng: rng)
        return noGrad { Loss.mse(model(x), y).item }
    }
}

/// Fits an MLP to a `ToyRegressionTask`: Adam with cosine decay to 1e-4, minibatches of a fixed
/// training sample. A `Trainer`: the model, Adam's moments and the sampler's position resume.
final class RegressionTrainer: Trainer {
    let task: ToyRegressionTask
    let model: MLP
    let xTrain: Tensor, yTrain: Tensor
    let optimizer: Adam
    let sampler: MinibatchSampler
    let schedule: LRSchedule
    var step = 0

    /// Streams from `seed`: the data from seed, the weights from seed + 1, the minibatch order from seed + 2.
    init(task: ToyRegressionTask, width: Int, steps: Int, batchSize: Int, learningRate: Float, seed: UInt64) {
        self.task = task
        (xTrain, yTrain) = task.sample(task.trainingPoints, rng: RandomGenerator(seed: seed))
        model = MLP([1, width, width, 1], activation: .mish, rng: RandomGenerator(seed: seed &+ 1))
        optimizer = Adam(model, learningRate: learningRate)
        sampler = MinibatchSampler(count: task.trainingPoints, batchSize: batchSize, seed: seed &+ 2)
        schedule = LRSchedule.cosine(base: learningRate, final: 1e-4, steps: steps)
    }

    var savedModule: any ConfigurableModule { model }
    var resumableParts: [(String, any Resumable)] { [("optimizer", optimizer), ("sampler", sampler)] }
    var resumeSettings: [String: String] { ["task": canonicalJSON(task)] }

    func trainStep() -> [String: Float] {
        let idx = sampler.next()
        optimizer.learningRate = schedule(step)
        let loss = Loss.mse(model(xTrain.indexSelect(axis: 0, idx)), yTrain.indexSelect(axis: 0, idx))
        optimizer.minimize(loss)
        step += 1
        return ["loss": loss.item]
    }
}

/// Prints a [String: Any] as sorted JSON.
func jsonLine(_ object: [String: Any]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}
