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

/// Prints a [String: Any] as sorted JSON.
func jsonLine(_ object: [String: Any]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}
