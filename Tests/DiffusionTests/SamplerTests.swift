import Diffusion
import Foundation
import NN
import Testing
import TensorCore

/// Samplers against closed forms: with data N(0, 1) the exact denoisers are known, and with a
/// Gaussian observation y = x₀ + N(0, s²) so are the noisy-likelihood gradient and the posterior
/// N(y/(1 + s²), s²/(1 + s²)).
@Suite("Samplers and guidance with known answers")
struct SamplerTests {
    static let n = 20_000
    static let y: Float = 1, s2: Float = 0.25
    static let posteriorMean = Double(y / (1 + s2)), posteriorVariance = Double(s2 / (1 + s2))

    /// ε̂(x_t) = √(1 − ᾱ)·x_t is the exact noise prediction for N(0, I) data.
    static func exactEpsilon(_ schedule: NoiseSchedule) -> DenoisingNetwork {
        { x, t in x * (1 - schedule.alphaBar(Int(t.scalars[0]))).squareRoot() }
    }

    /// log p(y | x_t) = −½(y − √ᾱ·x)²/(1 − ᾱ + s²) + const, differentiated by autodiff.
    static var likelihood: ObjectiveGuidance { ObjectiveGuidance { x, level in
        guard case let .timestep(_, ab) = level else { preconditionFailure("discrete level expected") }
        let residual: Tensor = x * ab.squareRoot() - y
        let scale: Float = -0.5 / (1 - ab + s2)
        return (residual.squared() * scale).sum()
    } }

    static func moments(_ x: Tensor) -> (mean: Double, variance: Double) {
        let v = x.scalars.map(Double.init)
        let m = v.reduce(0, +) / Double(v.count)
        return (m, v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1))
    }

    /// Mean within 5 standard errors; variance within 5 standard errors (√(2/n)·σ²) plus 3 %
    /// for the discretisation of 1000 steps.
    static func expectPosterior(_ x: Tensor, _ label: String) {
        let (m, v) = moments(x)
        let seMean = (posteriorVariance / Double(n)).squareRoot()
        #expect(abs(m - posteriorMean) < 5 * seMean + 0.01, "\(label): mean \(m) vs \(posteriorMean)")
        #expect(abs(v - posteriorVariance) < 5 * posteriorVariance * (2 / Double(n)).squareRoot() + 0.03 * posteriorVariance,
                "\(label): variance \(v) vs \(posteriorVariance)")
    }

    @Test func unguidedDDPMReproducesTheData() {
        let sched = DDPMScheduler(clipSample: false)
        let x = DDPMSampler(scheduler: sched).sample(Self.exactEpsilon(sched.noiseSchedule), shape: [Self.n, 1], rng: RandomGenerator(seed: 1))
        let (m, v) = Self.moments(x)
        #expect(abs(m) < 5 / Double(Self.n).squareRoot() && abs(v - 1) < 0.05, "mean \(m) variance \(v)")
    }

    @Test(arguments: [GuidanceScaling.classifier, .posteriorVariance])
    func guidedDDPMSamplesThePosterior(_ scaling: GuidanceScaling) {
        let sched = DDPMScheduler(clipSample: false)
        let guidance = GuidanceConfig(Self.likelihood, scaling: scaling, schedule: .constant(1))
        let x = DDPMSampler(scheduler: sched).sample(Self.exactEpsilon(sched.noiseSchedule), shape: [Self.n, 1], guidance: guidance,
                                                     inpainting: nil, rng: RandomGenerator(seed: 2))
        Self.expectPosterior(x, "\(scaling)")
    }

    /// Additive scaling moves x by exactly λ·g before the step: with a constant gradient c and a
    /// deterministic DDIM, the guided run equals an unguided run whose every step starts from x + λc.
    @Test func additiveScalingAddsLambdaTimesGradient() {
        let sched = DDIMScheduler(clipSample: false)
        let net = Self.exactEpsilon(sched.noiseSchedule)
        let c = Tensor([0.3, -0.2], shape: [1, 2])
        struct Constant: Guidance { let c: Tensor; func gradient(x: Tensor, level: NoiseLevel, x0Estimate: Tensor) -> Tensor { c.broadcast(to: x.shape) } }
        let guided = DDIMSampler(scheduler: sched, inferenceSteps: 10).sample(net, shape: [4, 2],
            guidance: GuidanceConfig(Constant(c: c), scaling: .additive, schedule: .linearDecay(0.5)), inpainting: nil, rng: RandomGenerator(seed: 3))
        var x = RandomGenerator(seed: 3).normal([4, 2])
        let ts = sched.timesteps(inferenceSteps: 10)
        for (i, t) in ts.enumerated() {
            x = x + c * (0.5 * (1 - Float(i) / 10))
            x = sched.step(net(x, Tensor(repeating: Float(t), shape: [4])), timestep: t, sample: x, noise: nil,
                           schedule: sched.noiseSchedule, inferenceSteps: 10).previous
        }
        #expect(guided.scalars == x.scalars)
    }

    /// EDM with σ_data = 1 and N(0, 1) data: D(x; σ) = x/(1 + σ²) exactly, so the exact network F is
    /// zero; the sampler must equal Algorithm 2 of the EDM paper written out here in Double, with
    /// the same noise draws.
    @Test(arguments: [false, true])
    func edmMatchesAlgorithm2(_ pgdVariant: Bool) {
        let edm = EDM(eulerFromPreNoise: pgdVariant)
        let steps = 32, shape = [512, 1]
        let out = EDMSampler(edm: edm, steps: steps).sample({ x, _ in Tensor(zeros: x.shape) }, shape: shape, rng: RandomGenerator(seed: 4))
        // Algorithm 2 (Karras et al. 2022), Double precision.
        let rng = RandomGenerator(seed: 4)
        let (smax, smin, rho) = (80.0, 0.002, 7.0)
        let a = pow(smax, 1 / rho), b = pow(smin, 1 / rho)
        var sig: [Double] = (0..<steps).map { i -> Double in
            let frac = Double(i) / Double(steps - 1)
            return pow(a + frac * (b - a), rho)
        }
        sig.append(0)
        var x: [Double] = rng.normal(shape, std: Float(sig[0])).scalars.map(Double.init)
        func d(_ v: Double, _ s: Double) -> Double { v / (1 + s * s) }
        for i in 0..<steps {
            let inChurn = sig[i] >= 0.05 && sig[i] <= 50
            let gamma: Double = inChurn ? min(80.0 / Double(steps), 2.0.squareRoot() - 1) : 0
            let eps: [Double] = gamma > 0 ? rng.normal(shape).scalars.map(Double.init) : [Double](repeating: 0, count: x.count)
            let sHat: Double = sig[i] * (1 + gamma)
            let churn: Double = (sHat * sHat - sig[i] * sig[i]).squareRoot() * 1.003
            let h: Double = sig[i + 1] - sHat
            for k in 0..<x.count {
                let xHat: Double = x[k] + churn * eps[k]
                let dk: Double = (xHat - d(xHat, sHat)) / sHat
                var next: Double = (pgdVariant ? x[k] : xHat) + h * dk
                if sig[i + 1] > 0 {
                    let d2: Double = (next - d(next, sig[i + 1])) / sig[i + 1]
                    next = xHat + h * (dk + d2) / 2
                }
                x[k] = next
            }
        }
        let err = zip(out.scalars, x).map { abs(Double($0) - $1) / max(1, abs($1)) }.max()!
        #expect(err < 1e-4, "EDM sampler vs Algorithm 2: \(err)")
        if !pgdVariant {
            let (m, v) = Self.moments(out)
            #expect(abs(m) < 5 / 512.0.squareRoot() && abs(v - 1) < 5 * (2 / 512.0).squareRoot(), "N(0, 1) data: mean \(m), variance \(v)")
        }
    }

    @Test func inpaintedEntriesStayExactlyFixed() {
        let sched = DDPMScheduler(clipSample: false)
        let mask = Tensor([1, 0, 0, 1], shape: [1, 4])
        let values = Tensor([0.25, 0, 0, -1.5], shape: [1, 4])
        let guidance = GuidanceConfig(ObjectiveGuidance { x, _ in x.sum() }, scaling: .additive, schedule: .constant(0.1))
        for sampler in [DDPMSampler(scheduler: sched, inferenceSteps: 20) as Sampler, DDIMSampler(scheduler: DDIMScheduler(clipSample: false), inferenceSteps: 10),
                        EDMSampler(steps: 8)] {
            let x = sampler.sample(Self.exactEpsilon(sched.noiseSchedule), shape: [16, 4], guidance: guidance,
                                   inpainting: Inpainting(mask: mask, values: values), rng: RandomGenerator(seed: 5))
            for r in 0..<16 {
                #expect(x[r, 0] == 0.25 && x[r, 3] == -1.5)
                #expect(x[r, 1] != 0)
            }
        }
    }

    /// Classifier-free guidance combines conditional and unconditional outputs as w·f(x, c) + (1 − w)·f(x, ∅).
    @Test func classifierFreeGuidanceCombination() {
        let model: (Tensor, Tensor, Tensor?) -> Tensor = { x, _, c in x + (c ?? Tensor(0)) }
        let guided = classifierFree(model, condition: Tensor([2]), weight: 3)
        let out = guided(Tensor([1, 1]), Tensor([0, 0]))
        #expect(out.scalars == [7, 7]) // 3·(1 + 2) + (1 − 3)·(1 + 0)
    }

    @Test func guidanceSchedules() {
        #expect(GuidanceSchedule.constant(2).scale(step: 5, of: 10) == 2)
        #expect(GuidanceSchedule.linearDecay(2).scale(step: 5, of: 10) == 1)
        let pgd = GuidanceSchedule.pgdCosine(coeff: 1)
        #expect(abs(pgd.scale(step: 0, of: 4) - (1 + 0.3 * sin(Float.pi / 4))) < 1e-6)
        #expect(pgd.scale(step: 3, of: 4) == 0)
    }

    /// Guidance restricted to a channel group changes only that group: with a channel-wise network
    /// and deterministic DDIM, every other channel equals the unguided run exactly; the gradient is
    /// zero outside the group, and normalization gives unit norm per sample.
    @Test func channelGroupGuidanceLeavesOtherChannelsUntouched() {
        let layout = ChannelLayout([("observation", 3), ("action", 2), ("reward", 1), ("done", 1)])
        let sched = DDIMScheduler(clipSample: false)
        let net: DenoisingNetwork = { x, t in x * (1 - sched.noiseSchedule.alphaBar(Int(t.scalars[0]))).squareRoot() }
        let pull = ObjectiveGuidance { x, _ in -(x - 2).squared().sum() }
        let guided = GuidanceConfig(pull, scaling: .additive, schedule: .constant(0.05), channels: (layout, ["action"]))
        let sampler = DDIMSampler(scheduler: sched, inferenceSteps: 20)
        let plain = sampler.sample(net, shape: [4, 8, 7], rng: RandomGenerator(seed: 1))
        let moved = sampler.sample(net, shape: [4, 8, 7], guidance: guided, inpainting: nil, rng: RandomGenerator(seed: 1))
        let action = layout.range(of: "action")!
        for i in 0..<plain.count {
            if action.contains(i % 7) { #expect(plain.scalars[i] != moved.scalars[i]) } else { #expect(plain.scalars[i] == moved.scalars[i]) }
        }
        let x = RandomGenerator(seed: 2).normal([3, 8, 7])
        let g = guided.gradient(x: x, level: .sigma(1), x0Estimate: x).scalars
        for i in 0..<g.count where !action.contains(i % 7) { #expect(g[i] == 0) }
        var normalized = guided
        normalized.normalizeGradient = true
        let n = normalized.gradient(x: x, level: .sigma(1), x0Estimate: x)
        for r in 0..<3 { #expect(abs(n.slice(axis: 0, r..<(r + 1)).squared().sum().item - 1) < 1e-5) }
    }

    /// Autodiff guidance on the denoised estimate differentiates the objective at x̂₀ (the bug it
    /// replaces gave zero): central differences of f around x̂₀ agree, and x itself does not enter.
    @Test func denoisedGuidanceEqualsFiniteDifferences() {
        func f(_ y: Tensor) -> Tensor { (y.sin() * Tensor([1.5, -0.5, 2], shape: [1, 3])).sum() + y.squared().sum() * 0.25 }
        let guidance = ObjectiveGuidance(on: .denoised) { y, _ in f(y) }
        let x = RandomGenerator(seed: 3).normal([2, 3]), x0 = RandomGenerator(seed: 4).normal([2, 3], std: 0.7)
        let g = guidance.gradient(x: x, level: .sigma(0.5), x0Estimate: x0).scalars
        #expect(guidance.gradient(x: x * 3, level: .sigma(0.5), x0Estimate: x0).scalars == g)
        let h: Float = 1e-2
        for i in 0..<6 {
            var plus = x0.scalars, minus = x0.scalars
            plus[i] += h
            minus[i] -= h
            let fd = (f(Tensor(plus, shape: [2, 3])).item - f(Tensor(minus, shape: [2, 3])).item) / (2 * h)
            #expect(abs(g[i]) > 0.01 && abs(g[i] - fd) <= 1e-2 * max(1, abs(fd)), "entry \(i): \(g[i]) vs \(fd)")
        }
    }

    /// The scaling rules, all in one function.
    @Test func scalingCoefficients() {
        #expect(GuidanceScaling.additive.coefficient(lambda: 2, level: .sigma(3), posteriorVariance: 5) == 2)
        #expect(GuidanceScaling.posteriorVariance.coefficient(lambda: 2, level: .timestep(4, alphaBar: 0.64), posteriorVariance: 5) == 10)
        #expect(GuidanceScaling.classifier.coefficient(lambda: 2, level: .timestep(4, alphaBar: 0.64), posteriorVariance: 5) == 2 * 0.6)
        #expect(GuidanceScaling.classifier.coefficient(lambda: 2, level: .sigma(3), posteriorVariance: 5) == 18)
    }
}
