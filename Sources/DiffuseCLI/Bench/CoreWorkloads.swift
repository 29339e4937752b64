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

    /// specs/bench.md `conv1d` (64→64, k 5, pad 2, L 64, batch 64) and `conv2d` (32→32, 3×3, pad 1,
    /// 32×32, batch 64): forward, and forward+backward (gradients of input and weight).
    static func conv(twoD: Bool, warmup: Int, repeats: Int) -> [BenchResult] {
        let g = RandomGenerator(seed: 3)
        let x = twoD ? g.normal([64, 32, 32, 32]) : g.normal([64, 64, 64])
        let w = twoD ? g.normal([32, 32, 3, 3]) * 0.1 : g.normal([64, 64, 5]) * 0.1
        let b = g.normal([w.shape[0]])
        func run(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
            twoD ? Tensor.conv2d(x, weight: w, bias: b, padding: .symmetric(1)) : Tensor.conv1d(x, weight: w, bias: b, padding: .symmetric(2))
        }
        let name = twoD ? "conv2d" : "conv1d"
        let seed = noGrad { g.normal(run(x, w, b).shape) }
        return [
            Bench.measure("\(name)_forward", warmup: warmup, repeats: repeats) { _ = noGrad { run(x, w, b) } },
            Bench.measure("\(name)_forward_backward", warmup: warmup, repeats: repeats) {
                run(x.requiringGrad(), w.requiringGrad(), b).backward(seed: seed)
            },
        ]
    }

    static func mlpTrainStep(warmup: Int, repeats: Int) -> BenchResult {
        let w = MLPDenoiserStep()
        return Bench.measure("mlp_train_step", warmup: warmup, repeats: repeats) { w.step() }
    }
}
