import Foundation
import TensorCore

/// DDIM (Song et al. 2021) with diffusers' DDIMScheduler semantics: previous timestep
/// t − T/n (arithmetic), ᾱ after the last step = 1 (`setAlphaToOne`) or ᾱ₀, σ = η·√((1 − ᾱₚ)/(1 − ᾱₜ)·(1 − ᾱₜ/ᾱₚ)),
/// x_prev = √ᾱₚ·x̂₀ + √(1 − ᾱₚ − σ²)·ε̂ + σ·z (Eq. 12). `step` is a pure function.
public struct DDIMScheduler: Codable, Sendable, Equatable {
    public var trainSteps = 1000
    public var schedule: BetaSchedule = .linear()
    public var prediction: PredictionType = .epsilon
    public var clipSample = true
    public var clipRange: Float = 1
    public var setAlphaToOne = true
    public var spacing: TimestepSpacing = .leading
    public var stepsOffset = 0
    /// Recompute ε̂ from the clipped x̂₀ (diffusers' use_clipped_model_output).
    public var useClippedModelOutput = false

    public init(trainSteps: Int = 1000, schedule: BetaSchedule = .linear(), prediction: PredictionType = .epsilon,
                clipSample: Bool = true, clipRange: Float = 1, setAlphaToOne: Bool = true, spacing: TimestepSpacing = .leading,
                stepsOffset: Int = 0, useClippedModelOutput: Bool = false) {
        self.trainSteps = trainSteps; self.schedule = schedule; self.prediction = prediction; self.clipSample = clipSample
        self.clipRange = clipRange; self.setAlphaToOne = setAlphaToOne; self.spacing = spacing; self.stepsOffset = stepsOffset
        self.useClippedModelOutput = useClippedModelOutput
    }

    public var noiseSchedule: NoiseSchedule { NoiseSchedule(schedule, steps: trainSteps) }

    public func timesteps(inferenceSteps n: Int) -> [Int] {
        spacing.timesteps(trainSteps: trainSteps, inferenceSteps: n, stepsOffset: stepsOffset)
    }

    /// One step from t with `inferenceSteps` in the schedule; `noise` is used only when η > 0.
    public func step(_ output: Tensor, timestep t: Int, sample x: Tensor, eta: Float = 0, noise: Tensor?, schedule s: NoiseSchedule,
                     inferenceSteps n: Int) -> (previous: Tensor, x0: Tensor) {
        let prev = t - trainSteps / n
        let abT = s.alphaBar(t)
        let abP = prev >= 0 ? s.alphaBar(prev) : (setAlphaToOne ? 1 : s.alphasCumprod[0])
        let betaT = 1 - abT, betaP = 1 - abP
        var (x0, eps) = predictedOriginalAndNoise(output, sample: x, alphaBar: abT, type: prediction)
        if clipSample { x0 = x0.clamped(min: -clipRange, max: clipRange) }
        let variance = (betaP / betaT) * (1 - abT / abP)
        let sigma = eta * variance.squareRoot()
        if useClippedModelOutput { eps = (x - x0 * abT.squareRoot()) / betaT.squareRoot() }
        let direction = eps * (1 - abP - sigma * sigma).squareRoot()
        var previous = x0 * abP.squareRoot() + direction
        if eta > 0, let noise { previous = previous + noise * sigma }
        return (previous, x0)
    }
}
