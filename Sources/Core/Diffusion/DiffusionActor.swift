import Foundation
import NN
import TensorCore

/// The sampler of a state-conditioned diffusion actor (an ε-network over actions in [−1, 1],
/// conditioned on the observation), shared by FISOR and the diffusion policies (diffusion BC, IDQL,
/// Diffusion-QL): the VP schedule over T steps, ε-prediction DDPM with β_t variance (diffusers'
/// fixed_large), x̂₀ unclipped and the sample clipped to [−1, 1] after every step (docs/fisor.md §6;
/// IDQL's and FISOR's reference samplers). One place, so every method draws actions the same way.
/// `clipsPrediction` switches to Diffusion-QL's variant (its reference `clip_denoised=True`): x̂₀ is
/// clipped to [−1, 1] at every step and only the final sample is clamped, so the posterior mean keeps
/// a gradient through x_t where a per-step clamp of the sample would saturate (an untrained actor's
/// samples sit at ±1 with the per-step clamp, and the Q term's gradient is then exactly zero).
public struct DiffusionActorSampler: Sendable {
    /// Diffusion steps T (training and sampling use all of them).
    public var steps: Int
    public var clipsPrediction: Bool

    public init(steps: Int, clipsPrediction: Bool = false) {
        precondition(steps >= 1, "a diffusion actor needs at least one step")
        self.steps = steps
        self.clipsPrediction = clipsPrediction
    }

    public var scheduler: DDPMScheduler {
        DDPMScheduler(trainSteps: steps, schedule: .vp(), variance: .fixedLarge, clipSample: clipsPrediction)
    }

    /// The ancestral sampler (no gradient).
    public var ddpm: DDPMSampler { DDPMSampler(scheduler: scheduler, clipAfterStep: clipsPrediction ? nil : -1...1) }

    /// The denoising objective the actor is trained with: ε-regression on the same schedule (Eq. 2 of
    /// Diffusion-QL, Ho et al. 2020's simplified loss).
    public var objective: DiffusionObjective { .discrete(schedule: .vp(), steps: steps, prediction: .epsilon) }

    /// Each state's row repeated n times, [B·n, obs] (rows i·n ..< (i + 1)·n for state i).
    public static func tile(_ observations: Tensor, count n: Int) -> Tensor {
        let b = observations.shape[0], d = observations.shape[1]
        return observations.unsqueezed(axis: 1).broadcast(to: [b, n, d]).reshaped([b * n, d])
    }

    /// `n` candidate actions per row of `observations` ([B, obs], training units) from `actor`
    /// (usually the EMA copy, in evaluation mode): [B·n, act], rows i·n ..< (i + 1)·n for state i.
    /// In a data-parallel update the noise is the global batch's for this rank's rows (`rowNoise`).
    public func candidates<D: Denoiser>(_ actor: D, observations: Tensor, count n: Int, actionDim: Int, rng: RandomGenerator) -> Tensor {
        let b = observations.shape[0]
        return noGrad {
            let tiled = Self.tile(observations, count: n)
            return ddpm.sample(actor.network(condition: tiled), shape: [b * n, actionDim], rng: rng).clamped(min: -1, max: 1)
        }
    }

    /// One action per row of `observations` by the same reverse chain, recording gradients through
    /// every step (Diffusion-QL §3: the policy-improvement term −Q(s, a⁰) is differentiated through
    /// a⁰ = the end of the chain, back to the ε-network's weights). The noise draws are constants
    /// (`rowNoise`: in a data-parallel update, the global batch's draws for this rank's rows).
    public func differentiableSample(_ network: DenoisingNetwork, observations: Tensor, actionDim: Int, rng: RandomGenerator) -> Tensor {
        let shape = [observations.shape[0], actionDim]
        let sch = scheduler, s = sch.noiseSchedule, ts = sch.timesteps()
        var x = rng.rowNoise(shape)
        for t in ts {
            let out = network(x, Tensor(repeating: Float(t), shape: [shape[0]]))
            let noise = t > 0 ? rng.rowNoise(shape) : nil
            x = sch.step(out, timestep: t, sample: x, noise: noise, schedule: s, previous: DDPMScheduler.previous(t, in: ts)).previous
            if !clipsPrediction { x = x.clamped(min: -1, max: 1) }
        }
        return clipsPrediction ? x.clamped(min: -1, max: 1) : x
    }
}
