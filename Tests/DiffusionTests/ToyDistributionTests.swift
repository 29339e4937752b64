import Diffusion
import Foundation
import Testing
import TensorCore

/// The structure metrics on data whose answer is known: the true distributions score what their
/// definitions give, uniform noise scores chance, collapsed samples cover one component.
@Suite("Toy structure metrics")
struct ToyDistributionStructureTests {
    static let n = 4000

    /// 4 binomial standard errors of a fraction p estimated from n samples.
    static func tolerance(_ p: Float, n: Int = n) -> Float { 4 * (p * (1 - p) / Float(n)).squareRoot() }

    @Test func trueSamplesScoreIdeal() {
        let board = ToyDistribution.checkerboard.structure(of: ToyDistribution.checkerboard.sample(Self.n, rng: RandomGenerator(seed: 1)))
        #expect(board.onStructure == 1 && board.componentsCovered == 8 && board.meanDistance == nil, "\(board)")
        // Each square holds 1/8 of the samples.
        #expect(board.componentFractions.allSatisfy { abs($0 - 0.125) < Self.tolerance(0.125) }, "\(board.componentFractions)")

        // A 2-D Gaussian's radius is Rayleigh: P(r ≤ 3σ) = 1 − e^(−9/2), E r = σ√(π/2), sd σ√((4 − π)/2).
        let sigma = ToyDistribution.eightGaussiansStd
        let gauss = ToyDistribution.eightGaussians.structure(of: ToyDistribution.eightGaussians.sample(Self.n, rng: RandomGenerator(seed: 2)))
        let within = 1 - Float(Foundation.exp(-4.5))
        #expect(abs(gauss.onStructure - within) < Self.tolerance(within), "\(gauss)")
        let rayleighSE = sigma * ((4 - Float.pi) / 2).squareRoot() / Float(Self.n).squareRoot()
        #expect(abs(gauss.meanDistance! - sigma * (Float.pi / 2).squareRoot()) < 4 * rayleighSE, "\(gauss)")
        #expect(gauss.componentsCovered == 8 && gauss.componentFractions.allSatisfy { abs($0 - within / 8) < Self.tolerance(within / 8) },
                "\(gauss.componentFractions)")

        // The noise's normal offset from a moon is half-normal: P(≤ 3σ) = 0.9973, E = σ√(2/π) (the
        // curvature, radius 1.5 ≫ σ, changes these only at second order).
        let noise = ToyDistribution.twoMoonsNoise
        let moons = ToyDistribution.twoMoons.structure(of: ToyDistribution.twoMoons.sample(Self.n, rng: RandomGenerator(seed: 3)))
        #expect(abs(moons.onStructure - 0.9973) < Self.tolerance(0.9973), "\(moons)")
        let halfNormalSE = noise * (1 - 2 / Float.pi).squareRoot() / Float(Self.n).squareRoot()
        #expect(abs(moons.meanDistance! - noise * (2 / Float.pi).squareRoot()) < 4 * halfNormalSE, "\(moons)")
        #expect(moons.componentsCovered == 2 && moons.componentFractions.allSatisfy { abs($0 - 0.5) < Self.tolerance(0.5) }, "\(moons)")
    }

    /// Uniform noise matches the checkerboard's mean and covariance but lands on a dark square half
    /// the time; it is rarely near a moon or a mode.
    @Test func uniformNoiseScoresChance() {
        let noise = RandomGenerator(seed: 4).uniform([Self.n, 2], low: -2, high: 2)
        let board = ToyDistribution.checkerboard.structure(of: noise)
        #expect(abs(board.onStructure - 0.5) < Self.tolerance(0.5), "\(board)")
        // Each square gets 1/16 of the samples: exactly the coverage threshold, so no count is asserted.
        #expect(board.componentFractions.allSatisfy { abs($0 - 1 / 16) < Self.tolerance(1 / 16) }, "\(board.componentFractions)")
        // Eight discs of radius 0.45, cut by the square's edge (centers at (±2, 0), (0, ±2) lose half
        // of theirs): (4 + 4/2)·π·0.45²/16 = 0.238 of the area.
        let discs = Float(6) * Float.pi * 0.45 * 0.45 / 16
        let gauss = ToyDistribution.eightGaussians.structure(of: noise)
        #expect(abs(gauss.onStructure - discs) < Self.tolerance(discs), "\(gauss)")
        #expect(gauss.meanDistance! > 0.45, "\(gauss)")
        let moons = ToyDistribution.twoMoons.structure(of: noise)
        // Two bands 0.3 wide along arcs of length 1.5π, with end caps: at most 0.19 of the area.
        #expect(moons.onStructure < 0.19 + Self.tolerance(0.19) && moons.meanDistance! > 0.3, "\(moons)")
    }

    /// Everything on one component: on the structure, but one component covered.
    @Test func collapsedSamplesCoverOneComponent() {
        let rng = RandomGenerator(seed: 5)
        let mode = rng.normal([Self.n, 2], std: ToyDistribution.eightGaussiansStd) + Tensor([2, 0], shape: [1, 2])
        let gauss = ToyDistribution.eightGaussians.structure(of: mode)
        #expect(gauss.componentsCovered == 1 && gauss.componentFractions[0] > 0.98 && gauss.onStructure > 0.98, "\(gauss)")

        let upper = ToyDistribution.twoMoons.sample(Self.n, rng: rng).scalars
        let oneMoon = stride(from: 0, to: upper.count, by: 2).filter { upper[$0 + 1] > 0.5 }.flatMap { [upper[$0], upper[$0 + 1]] }
        let moons = ToyDistribution.twoMoons.structure(of: Tensor(oneMoon, shape: [oneMoon.count / 2, 2]))
        #expect(moons.componentsCovered == 1 && moons.componentFractions[1] == 0, "\(moons)")

        let square = rng.uniform([Self.n, 2], low: 0, high: 1)
        let board = ToyDistribution.checkerboard.structure(of: square)
        #expect(board.componentsCovered == 1 && board.onStructure == 1, "\(board)")
        #expect(board.componentFractions == [0, 0, 0, 0, 0, 1, 0, 0], "square [0, 1)² is the second of the third row")
    }

    /// Hand-computed points: the board's edge, the moons' arc and end branches.
    @Test func exactPoints() {
        func board(_ x: Float, _ y: Float) -> Float { ToyDistribution.checkerboard.structure(of: Tensor([x, y], shape: [1, 2])).onStructure }
        #expect(board(-1.5, -1.5) == 1 && board(-0.5, -1.5) == 0 && board(1.5, 1.5) == 1)
        // ⌊x⌋ + ⌊y⌋ is even beyond the board too; off the board is off.
        #expect(board(2.5, 2.5) == 0 && board(-2.5, 0.5) == 0 && board(.nan, 0.5) == 0 && board(1e30, -1e30) == 0)

        func moon(_ x: Float, _ y: Float) -> Float { ToyDistribution.twoMoons.structure(of: Tensor([x, y], shape: [1, 2])).meanDistance! }
        // Upper arc: center (−0.75, −0.375), radius 1.5; its top and a point 0.1 outside it.
        #expect(abs(moon(-0.75, 1.125)) < 1e-6 && abs(moon(-0.75, 1.225) - 0.1) < 1e-5)
        // Below the upper arc's left end (−2.25, −0.375): the end is nearest.
        #expect(abs(moon(-2.25, -0.475) - 0.1) < 1e-5)
        // Lower arc: center (0.75, 0.375); its bottom.
        #expect(abs(moon(0.75, -1.125)) < 1e-6)

        let modes = ToyDistribution.eightGaussians.structure(of: Tensor([0, 2, 0.3, 2, 0, 2.5, 0, 0], shape: [4, 2]))
        #expect(abs(modes.meanDistance! - (0 + 0.3 + 0.5 + 2) / 4) < 1e-5 && modes.onStructure == 0.5, "\(modes)")
        #expect(modes.componentFractions[2] == 0.5, "(0, 2) is mode 2")
    }
}

/// A model trained with `ToyTrainingSettings`'s defaults on each 2-D toy distribution reproduces it with
/// every sampler. Moments: sample mean and covariance within 4 standard errors of the data's (the
/// SE of a difference of two n-sample estimates, from the data's own moments), and MMD² (RBF,
/// h = 0.5) below four times the largest MMD² between two independent real samples of the same size
/// (5 pairs). Structure, which the moments cannot see (uniform noise on [−2, 2]² has the
/// checkerboard's mean and covariance): ≥ 90 % of samples on the structure (dark squares, within
/// 3σ of a curve or a mode center — the true distributions give 100 %, 99.7 %, 98.9 %, uniform noise
/// 50 % on the board) and every component covered (dark square, moon, mode holds ≥ half its share).
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
        // One thread per case: the three cases run side by side, and the models are too small for
        // splitting their matrices to pay (the results do not depend on the count).
        let (discrete, edm) = try Threads.withCount(1) {
            (try ToyTrainingSettings(distribution: dist, objective: .discrete(schedule: .linear(), steps: 1000, prediction: .epsilon)).run(),
             try ToyTrainingSettings(distribution: dist, objective: .edm(EDM())).run())
        }
        let ddpm = DDPMScheduler(clipSample: false)
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
            let x = Threads.withCount(1) { sampler.sample(model.network(), shape: [Self.n, 2], rng: RandomGenerator(seed: 7)) }
            let mean = x.mean(axis: 0).scalars, cov = Self.covariance(x)
            let mmd = mmdSquared(x, real)
            for k in 0..<2 { #expect(abs(mean[k] - realMean[k]) < meanTol[k], "\(dist) \(name): mean \(mean) vs \(realMean)") }
            for k in 0..<4 { #expect(abs(cov[k] - realCov[k]) < covTol[k], "\(dist) \(name): covariance \(cov) vs \(realCov)") }
            #expect(mmd < threshold, "\(dist) \(name): MMD² \(mmd) ≥ threshold \(threshold)")
            let s = dist.structure(of: x)
            #expect(s.onStructure >= 0.9, "\(dist) \(name): \(s)")
            #expect(s.componentsCovered == s.components, "\(dist) \(name): \(s), fractions \(s.componentFractions)")
            print("\(dist.rawValue) \(name): \(s); MMD² \(mmd) (threshold \(threshold)), mean \(mean), covariance \(cov)")
        }
    }

    /// Records from before the positional encoding existed describe models without it.
    @Test func oldRecordsDecodeWithoutTheEncoding() throws {
        let config = try JSONDecoder().decode(MLPDenoiser.Config.self, from: Data("""
            {"activation":"mish","condDim":0,"dataDim":2,"hidden":[128,128,128],"timeEmbedding":16}
            """.utf8))
        #expect(config == MLPDenoiser.Config(dataDim: 2, hidden: [128, 128, 128], inputFrequencies: 0))
        // The record of the two-moons checkpoint shipped before the encoding (verbatim).
        let training = try JSONDecoder().decode(ToyTrainingSettings.self, from: Data("""
            {"batchSize":512,"distribution":"two-moons","hidden":[128,128,128],"learningRate":0.001,"objective":{"edm":{"_0":{\
            "eulerFromPreNoise":false,"pMean":-1.2,"pStd":1.2,"rho":7,"sChurn":80,"sNoise":1.003,"sTmax":50,"sTmin":0.05,"sigmaData":1,\
            "sigmaMax":80,"sigmaMin":0.002}}},"seed":0,"steps":4000}
            """.utf8))
        #expect(training.inputFrequencies == 0 && training.learningRate == 1e-3 && training.modelConfig == config)
        let current = ToyTrainingSettings(distribution: .twoMoons, objective: .edm(EDM()))
        #expect(try JSONDecoder().decode(ToyTrainingSettings.self, from: JSONEncoder().encode(current)) == current)
    }

    /// Same seed, same model: training is deterministic (and independent of the thread count).
    @Test func trainingIsDeterministic() throws {
        let short = ToyTrainingSettings(distribution: .checkerboard, objective: .edm(EDM()), steps: 20, seed: 3)
        let a = try Threads.withCount(1) { try short.run() }, b = try Threads.withCount(2) { try short.run() }
        for ((name, p), (_, q)) in zip(a.namedParameters(), b.namedParameters()) { #expect(p.value.scalars == q.value.scalars, "\(name)") }
    }
}
