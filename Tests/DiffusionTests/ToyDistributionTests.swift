import Diffusion
import Foundation
import Testing
import TensorCore

/// A model trained on each 2-D toy distribution reproduces it with every sampler: sample mean and
/// covariance within 4 standard errors of the data's (the SE of a difference of two n-sample
/// estimates, from the data's own moments), and MMD² (RBF, h = 0.5) below four times the largest
/// MMD² between two independent real samples of the same size (5 pairs).
@Suite("Toy distributions are reproduced")
struct ToyDistributionTests {
    static let n = 1000

    static func covariance(_ x: Tensor) -> [Float] {
        let m = x.mean(axis: 0, keepDims: true)
        let c = x - m
        return (Tensor.matmul(c.transposed(), c) / Float(x.shape[0] - 1)).scalars
    }

    @Test(arguments: ToyDistribution.allCases)
    func samplersReproduceTheDistribution(_ dist: ToyDistribution) throws {
        let real = dist.sample(Self.n, rng: RandomGenerator(seed: 100))
        let threshold = 4 * (0..<5).map { k in
            mmdSquared(dist.sample(Self.n, rng: RandomGenerator(seed: 200 + UInt64(k))), dist.sample(Self.n, rng: RandomGenerator(seed: 300 + UInt64(k))))
        }.max()!
        let ddpm = DDPMScheduler(clipSample: false)
        let discrete = try ToyTraining(distribution: dist, objective: .discrete(schedule: .linear(), steps: 1000, prediction: .epsilon),
                                       steps: 8000, learningRate: 2e-3).run()
        let edm = try ToyTraining(distribution: dist, objective: .edm(EDM())).run()
        let samplers: [(String, Sampler, MLPDenoiser)] = [
            ("DDPM 1000", DDPMSampler(scheduler: ddpm), discrete),
            ("DDPM 50", DDPMSampler(scheduler: ddpm, inferenceSteps: 50), discrete),
            ("DDIM 50", DDIMSampler(scheduler: DDIMScheduler(clipSample: false), inferenceSteps: 50), discrete),
            ("EDM 64", EDMSampler(steps: 64), edm),
        ]
        let realMean = real.mean(axis: 0).scalars, realCov = Self.covariance(real)
        // SE of a mean difference √(2σᵢ²/n); of a covariance difference √(2(σᵢ²σⱼ² + σᵢⱼ²)/n) (Gaussian approximation).
        let n = Float(Self.n)
        let meanTol = (0..<2).map { 4 * (2 * realCov[3 * $0] / n).squareRoot() }
        let covTol = (0..<4).map { k -> Float in
            let (i, j) = (k / 2, k % 2)
            return 4 * (2 * (realCov[3 * i] * realCov[3 * j] + realCov[k] * realCov[k]) / n).squareRoot()
        }
        for (name, sampler, model) in samplers {
            model.eval()
            let x = sampler.sample(model.network(), shape: [Self.n, 2], rng: RandomGenerator(seed: 7))
            let mean = x.mean(axis: 0).scalars, cov = Self.covariance(x)
            let mmd = mmdSquared(x, real)
            for k in 0..<2 { #expect(abs(mean[k] - realMean[k]) < meanTol[k], "\(dist) \(name): mean \(mean) vs \(realMean)") }
            for k in 0..<4 { #expect(abs(cov[k] - realCov[k]) < covTol[k], "\(dist) \(name): covariance \(cov) vs \(realCov)") }
            #expect(mmd < threshold, "\(dist) \(name): MMD² \(mmd) ≥ threshold \(threshold)")
            print("\(dist.rawValue) \(name): MMD² \(mmd) (threshold \(threshold)), mean \(mean), covariance \(cov)")
        }
    }
}
