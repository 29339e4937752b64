import Foundation
import NN
import TensorCore

/// 2-D toy distributions for checking that a diffusion model reproduces what it was trained on.
public enum ToyDistribution: String, Codable, Sendable, CaseIterable {
    /// 8 Gaussians (σ 0.15) on a circle of radius 2.
    case eightGaussians = "eight-gaussians"
    /// Two interleaved half-circles (as scikit-learn's make_moons, noise 0.05), centred at 0.
    case twoMoons = "two-moons"
    /// Uniform on the dark squares of a 4×4 checkerboard over [−2, 2]².
    case checkerboard

    public func sample(_ n: Int, rng: RandomGenerator) -> Tensor {
        var out = [Float]()
        out.reserveCapacity(2 * n)
        switch self {
        case .eightGaussians:
            let noise = rng.normal([n, 2], std: 0.15).scalars
            for i in 0..<n {
                let a = Float(rng.nextInt(below: 8)) * Float.pi / 4
                out += [2 * Foundation.cos(a) + noise[2 * i], 2 * Foundation.sin(a) + noise[2 * i + 1]]
            }
        case .twoMoons:
            let noise = rng.normal([n, 2], std: 0.05).scalars
            for i in 0..<n {
                let u = Float(rng.nextDouble()) * Float.pi
                let upper = rng.nextInt(below: 2) == 0
                let (x, y) = upper ? (Foundation.cos(u), Foundation.sin(u)) : (1 - Foundation.cos(u), 0.5 - Foundation.sin(u))
                out += [(x - 0.5) * 1.5 + noise[2 * i], (y - 0.25) * 1.5 + noise[2 * i + 1]]
            }
        case .checkerboard:
            for _ in 0..<n {
                while true {
                    let x = Float(rng.nextDouble()) * 4 - 2, y = Float(rng.nextDouble()) * 4 - 2
                    if (Int(Foundation.floor(x)) + Int(Foundation.floor(y))) & 1 == 0 { out += [x, y]; break }
                }
            }
        }
        return Tensor(out, shape: [n, 2])
    }
}

/// Maximum mean discrepancy² (biased V-statistic) with an RBF kernel exp(−‖a − b‖²/(2h²)).
public func mmdSquared(_ a: Tensor, _ b: Tensor, bandwidth h: Float = 0.5) -> Float {
    func meanKernel(_ x: Tensor, _ y: Tensor) -> Double {
        let xs = x.scalars, ys = y.scalars, d = x.shape[1]
        let nx = x.shape[0], ny = y.shape[0]
        var s = 0.0
        let inv = 1 / (2 * Double(h) * Double(h))
        for i in 0..<nx {
            for j in 0..<ny {
                var q = 0.0
                for k in 0..<d { let v = Double(xs[i * d + k] - ys[j * d + k]); q += v * v }
                s += exp(-q * inv)
            }
        }
        return s / Double(nx * ny)
    }
    return Float(meanKernel(a, a) + meanKernel(b, b) - 2 * meanKernel(a, b))
}

/// Trains a denoiser on a toy distribution: what `diffuse train toy` runs.
public struct ToyTraining: Codable, Sendable, Equatable {
    public var distribution: ToyDistribution
    public var objective: DiffusionObjective
    public var steps = 4000
    public var batchSize = 512
    public var learningRate: Float = 1e-3
    public var hidden = [128, 128, 128]
    public var seed: UInt64 = 0

    public init(distribution: ToyDistribution, objective: DiffusionObjective, steps: Int = 4000, batchSize: Int = 512,
                learningRate: Float = 1e-3, hidden: [Int] = [128, 128, 128], seed: UInt64 = 0) {
        self.distribution = distribution; self.objective = objective; self.steps = steps; self.batchSize = batchSize
        self.learningRate = learningRate; self.hidden = hidden; self.seed = seed
    }

    /// Fresh data every step; Adam with cosine decay to 1 % of the peak rate.
    public func run(log: @escaping (String) -> Void = { _ in }, logEvery: Int = 1000) throws -> MLPDenoiser {
        let rng = RandomGenerator(seed: seed)
        let model = MLPDenoiser(config: .init(dataDim: 2, hidden: hidden), rng: RandomGenerator(seed: seed &+ 1))
        let opt = Adam(model, learningRate: learningRate)
        let schedule = LRSchedule.cosine(base: learningRate, final: learningRate / 100, steps: steps)
        try TrainingLoop(steps: steps, logEvery: logEvery, log: log).run { step in
            opt.learningRate = schedule(step)
            let loss = objective.loss(model.network(), x0: distribution.sample(batchSize, rng: rng), rng: rng)
            opt.zeroGrad()
            loss.backward()
            opt.update()
            return ["loss": loss.item]
        }
        return model
    }
}
