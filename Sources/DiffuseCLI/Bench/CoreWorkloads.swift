import Foundation
import PolicyDiffusion

/// The workloads of specs/bench.md that the foundation supports: `sgemm` and `mlp_train_step`.
/// bench/pytorch_bench.py mirrors each one line for line.
enum CoreWorkloads {
    /// C = A·B for square n; GFLOP/s = 2n³ / time.
    static func sgemm(n: Int, warmup: Int, repeats: Int) -> BenchResult {
        let g = RandomGenerator(seed: 1)
        let a = g.normal([n, n]), b = g.normal([n, n])
        var r = Bench.measure("sgemm_\(n)", warmup: warmup, repeats: repeats) { _ = Tensor.matmul(a, b) }
        r.extra["GFLOP/s"] = 2 * Double(n * n * n) / (r.medianMs * 1e6)
        return r
    }

    /// The ε-prediction MLP of specs/bench.md: x (17) ‖ 16-d sinusoidal embedding of t → 256 →
    /// 256 → 256 → 17 with Mish; MSE to ε; Adam (lr 1e-4); batch 256; the step draws x, t, ε and
    /// forms x_t = √ᾱ_t·x + √(1 − ᾱ_t)·ε with the linear schedule (β 1e-4…0.02, T = 1000).
    final class MLPDenoiserStep {
        let batch = 256, dim = 17, steps = 1000
        let rng = RandomGenerator(seed: 0)
        let embedding = SinusoidalEmbedding(16)
        let model: MLP
        let optimizer: Adam
        let sqrtAlphaBar: Tensor
        let sqrtOneMinusAlphaBar: Tensor

        init() {
            model = MLP([17 + 16, 256, 256, 256, 17], activation: .mish, rng: RandomGenerator(seed: 1))
            optimizer = Adam(model, learningRate: 1e-4)
            // Linear β schedule and ᾱ_t = Π(1 − β) in Float32 (diffusers' order).
            var alphaBar: [Float] = []
            var prod: Float = 1
            for i in 0..<steps {
                let beta = Float(1e-4) + (Float(0.02) - Float(1e-4)) * Float(i) / Float(steps - 1)
                prod *= 1 - beta
                alphaBar.append(prod)
            }
            sqrtAlphaBar = Tensor(alphaBar.map { $0.squareRoot() })
            sqrtOneMinusAlphaBar = Tensor(alphaBar.map { (1 - $0).squareRoot() })
        }

        @discardableResult
        func step() -> Float {
            let x0 = rng.normal([batch, dim])
            let t = rng.integers([batch], high: steps)
            let eps = rng.normal([batch, dim])
            let a = sqrtAlphaBar.indexSelect(axis: 0, t.scalars).reshaped([batch, 1])
            let s = sqrtOneMinusAlphaBar.indexSelect(axis: 0, t.scalars).reshaped([batch, 1])
            let xt = x0 * a + eps * s
            let input = Tensor.concat([xt, embedding(t.asTensor)], axis: 1)
            let loss = Loss.mse(model(input), eps)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.update()
            return loss.item
        }
    }

    static func mlpTrainStep(warmup: Int, repeats: Int) -> BenchResult {
        let w = MLPDenoiserStep()
        return Bench.measure("mlp_train_step", warmup: warmup, repeats: repeats) { w.step() }
    }
}
