import Foundation
import TensorCore

/// A network as samplers call it: (x, per-row timestep or c_noise) → output.
public typealias DenoisingNetwork = (Tensor, Tensor) -> Tensor

/// A sampling loop: noise in, samples out, with optional guidance and inpainting.
public protocol Sampler {
    func sample(_ network: DenoisingNetwork, shape: [Int], guidance: GuidanceConfig?, inpainting: Inpainting?, rng: RandomGenerator) -> Tensor
}

extension Sampler {
    public func sample(_ network: DenoisingNetwork, shape: [Int], rng: RandomGenerator) -> Tensor {
        sample(network, shape: shape, guidance: nil, inpainting: nil, rng: rng)
    }
}

/// Guidance at one step of a discrete sampler: returns the (possibly moved) x and the network
/// output (an ε estimate when classifier guidance rewrote it). Scaling: `GuidanceScaling.coefficient`.
private func guidedOutput(_ network: DenoisingNetwork, x: Tensor, t: Int, tt: Tensor, alphaBar: Float, posteriorVariance: Float,
                          prediction: PredictionType, guidance: GuidanceConfig?, step i: Int, of n: Int) -> (x: Tensor, output: Tensor, prediction: PredictionType) {
    guard let g = guidance else { return (x, network(x, tt), prediction) }
    let lambda = g.schedule.scale(step: i, of: n)
    guard lambda != 0 else { return (x, network(x, tt), prediction) }
    let level = NoiseLevel.timestep(t, alphaBar: alphaBar)
    let c = g.scaling.coefficient(lambda: lambda, level: level, posteriorVariance: posteriorVariance)
    if g.scaling.movesSample {
        let x0 = g.source.usesX0Estimate ? predictedOriginalAndNoise(network(x, tt), sample: x, alphaBar: alphaBar, type: prediction).x0 : x
        let moved = x + g.gradient(x: x, level: level, x0Estimate: x0) * c
        return (moved, network(moved, tt), prediction)
    }
    let (x0, eps) = predictedOriginalAndNoise(network(x, tt), sample: x, alphaBar: alphaBar, type: prediction)
    return (x, eps - g.gradient(x: x, level: level, x0Estimate: x0) * c, .epsilon)
}

/// The loop both discrete samplers run: start from N(0, I), then for each timestep take the
/// (possibly guided) network output and let `step` produce the next sample, re-inpainting after
/// every step. `posteriorVariance(t)` is Σₜ for posterior-variance guidance; `step(output, t,
/// movedX, prediction)` is the scheduler's pure step.
private func discreteSampling(_ network: DenoisingNetwork, shape: [Int], timesteps ts: [Int], schedule s: NoiseSchedule,
                              prediction: PredictionType, guidance: GuidanceConfig?, inpainting: Inpainting?, rng: RandomGenerator,
                              posteriorVariance: (Int) -> Float, step: (Tensor, Int, Tensor, PredictionType) -> Tensor) -> Tensor {
    noGrad {
        var x = rng.rowNoise(shape)
        if let inpainting { x = inpainting.apply(x) }
        for (i, t) in ts.enumerated() {
            let tt = Tensor(repeating: Float(t), shape: [shape[0]])
            let (moved, out, kind) = guidedOutput(network, x: x, t: t, tt: tt, alphaBar: s.alphaBar(t), posteriorVariance: posteriorVariance(t),
                                                  prediction: prediction, guidance: guidance, step: i, of: ts.count)
            x = step(out, t, moved, kind)
            if let inpainting { x = inpainting.apply(x) }
        }
        return x
    }
}

/// DDPM ancestral sampling over all T steps or a spaced subset (diffusers' DDPMScheduler loop).
public struct DDPMSampler: Sampler {
    public var scheduler: DDPMScheduler
    public var inferenceSteps: Int?
    /// Clamp the sample itself after every step (FISOR's action sampler clips x to [−1, 1]; diffusers'
    /// clip_sample clips x̂₀ instead).
    public var clipAfterStep: ClosedRange<Float>?

    public init(scheduler: DDPMScheduler, inferenceSteps: Int? = nil, clipAfterStep: ClosedRange<Float>? = nil) {
        self.scheduler = scheduler
        self.inferenceSteps = inferenceSteps
        self.clipAfterStep = clipAfterStep
    }

    public func sample(_ network: DenoisingNetwork, shape: [Int], guidance: GuidanceConfig?, inpainting: Inpainting?, rng: RandomGenerator) -> Tensor {
        let s = scheduler.noiseSchedule
        let ts = scheduler.timesteps(inferenceSteps: inferenceSteps)
        return discreteSampling(network, shape: shape, timesteps: ts, schedule: s, prediction: scheduler.prediction, guidance: guidance,
                                inpainting: inpainting, rng: rng,
                                posteriorVariance: { s.posteriorVariance($0, previous: DDPMScheduler.previous($0, in: ts)) }) { out, t, x, kind in
            var stepper = scheduler
            stepper.prediction = kind
            let noise = t > 0 ? rng.rowNoise(shape) : nil
            let next = stepper.step(out, timestep: t, sample: x, noise: noise, schedule: s, previous: DDPMScheduler.previous(t, in: ts)).previous
            guard let r = clipAfterStep else { return next }
            return next.clamped(min: r.lowerBound, max: r.upperBound)
        }
    }
}

/// DDIM sampling (η = 0: deterministic) over a spaced subset of timesteps.
public struct DDIMSampler: Sampler {
    public var scheduler: DDIMScheduler
    public var inferenceSteps: Int
    public var eta: Float

    public init(scheduler: DDIMScheduler, inferenceSteps: Int = 50, eta: Float = 0) {
        self.scheduler = scheduler
        self.inferenceSteps = inferenceSteps
        self.eta = eta
    }

    public func sample(_ network: DenoisingNetwork, shape: [Int], guidance: GuidanceConfig?, inpainting: Inpainting?, rng: RandomGenerator) -> Tensor {
        let s = scheduler.noiseSchedule
        let stride = scheduler.trainSteps / inferenceSteps
        return discreteSampling(network, shape: shape, timesteps: scheduler.timesteps(inferenceSteps: inferenceSteps), schedule: s,
                                prediction: scheduler.prediction, guidance: guidance, inpainting: inpainting, rng: rng,
                                posteriorVariance: { $0 - stride >= 0 ? s.posteriorVariance($0, previous: $0 - stride) : 0 }) { out, t, x, kind in
            var stepper = scheduler
            stepper.prediction = kind
            let noise = eta > 0 ? rng.normal(shape) : nil
            return stepper.step(out, timestep: t, sample: x, eta: eta, noise: noise, schedule: s, inferenceSteps: inferenceSteps).previous
        }
    }
}

/// EDM's stochastic Heun sampler (Algorithm 2) with PGD's guidance: before each step,
/// x ← x + λᵢ·g (additive) — or D ← D + λ·σ²·g (classifier scaling).
public struct EDMSampler: Sampler {
    public var edm: EDM
    public var steps: Int

    public init(edm: EDM = EDM(), steps: Int = 128) {
        self.edm = edm
        self.steps = steps
    }

    public func sample(_ network: DenoisingNetwork, shape: [Int], guidance: GuidanceConfig?, inpainting: Inpainting?, rng: RandomGenerator) -> Tensor {
        noGrad {
            let sigmas = edm.sigmas(steps: steps)
            var x = rng.normal(shape, std: sigmas[0])
            if let inpainting { x = inpainting.apply(x) }
            for i in 0..<steps {
                let (sigma, next) = (sigmas[i], sigmas[i + 1])
                let lambda = guidance?.schedule.scale(step: i, of: steps) ?? 0
                // Classifier scaling moves D inside every denoiser call; the others move x first.
                func denoise(_ x: Tensor, _ s: Float) -> Tensor {
                    let d = edm.denoise(network, x, sigma: s)
                    guard let g = guidance, lambda != 0, !g.scaling.movesSample else { return d }
                    let c = g.scaling.coefficient(lambda: lambda, level: .sigma(s), posteriorVariance: s * s)
                    return d + g.gradient(x: x, level: .sigma(s), x0Estimate: d) * c
                }
                if let g = guidance, lambda != 0, g.scaling.movesSample {
                    let x0 = g.source.usesX0Estimate ? edm.denoise(network, x, sigma: sigma) : x
                    let c = g.scaling.coefficient(lambda: lambda, level: .sigma(sigma), posteriorVariance: sigma * sigma)
                    x = x + g.gradient(x: x, level: .sigma(sigma), x0Estimate: x0) * c
                }
                let gamma = edm.gamma(sigma, steps: steps)
                let noise = gamma > 0 ? rng.normal(shape) : Tensor(zeros: shape)
                x = edm.step(x, sigma: sigma, next: next, gamma: gamma, noise: noise, denoiser: denoise)
                if let inpainting { x = inpainting.apply(x) }
            }
            return x
        }
    }
}
