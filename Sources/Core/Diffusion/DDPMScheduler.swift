import Foundation
import TensorCore

/// DDPM ancestral sampling (Ho et al. 2020) with diffusers' DDPMScheduler semantics: β recomputed
/// from ᾱ between the current and previous timestep, x̂₀ clipping, three variance types.
/// `step` is a pure function of (model output, timestep, sample, noise).
public struct DDPMScheduler: Codable, Sendable, Equatable {
    public enum VarianceType: String, Codable, Sendable, CaseIterable {
        /// β̃ₜ, the posterior variance (√β̃ₜ·z)
        case fixedSmall = "fixed_small"
        /// the same value through exp(½·log β̃ₜ) (improved DDPM's form)
        case fixedSmallLog = "fixed_small_log"
        /// βₜ (the forward-process variance)
        case fixedLarge = "fixed_large"
    }

    public var trainSteps = 1000
    public var schedule: BetaSchedule = .linear()
    public var prediction: PredictionType = .epsilon
    public var variance: VarianceType = .fixedSmall
    /// Clamp x̂₀ to ±clipRange (diffusers' default: on, 1.0).
    public var clipSample = true
    public var clipRange: Float = 1
    public var spacing: TimestepSpacing = .leading
    public var stepsOffset = 0

    public init(trainSteps: Int = 1000, schedule: BetaSchedule = .linear(), prediction: PredictionType = .epsilon,
                variance: VarianceType = .fixedSmall, clipSample: Bool = true, clipRange: Float = 1,
                spacing: TimestepSpacing = .leading, stepsOffset: Int = 0) {
        self.trainSteps = trainSteps; self.schedule = schedule; self.prediction = prediction; self.variance = variance
        self.clipSample = clipSample; self.clipRange = clipRange; self.spacing = spacing; self.stepsOffset = stepsOffset
    }

    public var noiseSchedule: NoiseSchedule { NoiseSchedule(schedule, steps: trainSteps) }

    /// All T timesteps (nil) or the spaced subset for `inferenceSteps`.
    public func timesteps(inferenceSteps: Int? = nil) -> [Int] {
        guard let n = inferenceSteps, n != trainSteps || spacing != .leading || stepsOffset != 0 else {
            return Array((0..<trainSteps).reversed())
        }
        return spacing.timesteps(trainSteps: trainSteps, inferenceSteps: n, stepsOffset: stepsOffset)
    }

    /// The timestep after `t` in `timesteps` (−1 after the last).
    public static func previous(_ t: Int, in timesteps: [Int]) -> Int {
        guard let i = timesteps.firstIndex(of: t) else { return t - 1 }
        return i + 1 < timesteps.count ? timesteps[i + 1] : -1
    }

    /// The variance added at t → prev (before the square root).
    func varianceValue(_ s: NoiseSchedule, _ t: Int, _ prev: Int) -> Float {
        let abT = s.alphaBar(t), abP = s.alphaBar(prev)
        let currentBeta = 1 - abT / abP
        switch variance {
        case .fixedSmall: return max((1 - abP) / (1 - abT) * currentBeta, 1e-20)
        case .fixedSmallLog: return max((1 - abP) / (1 - abT) * currentBeta, 1e-20)
        case .fixedLarge: return currentBeta
        }
    }

    /// One reverse step x_t → x_prev. `noise` is z ~ N(0, I) (ignored at t = 0).
    /// Returns the previous sample and the x̂₀ estimate.
    public func step(_ output: Tensor, timestep t: Int, sample x: Tensor, noise: Tensor?, schedule s: NoiseSchedule,
                     previous prev: Int) -> (previous: Tensor, x0: Tensor) {
        let abT = s.alphaBar(t), abP = s.alphaBar(prev)
        let betaT = 1 - abT, betaP = 1 - abP
        let currentAlpha = abT / abP, currentBeta = 1 - currentAlpha
        var x0 = predictedOriginalAndNoise(output, sample: x, alphaBar: abT, type: prediction).x0
        if clipSample { x0 = x0.clamped(min: -clipRange, max: clipRange) }
        let c0 = (abP.squareRoot() * currentBeta) / betaT
        let ct = currentAlpha.squareRoot() * betaP / betaT
        var mean = x0 * c0 + x * ct
        if t > 0, let noise {
            let v = varianceValue(s, t, prev)
            let scale = variance == .fixedSmallLog ? Foundation.exp(0.5 * Foundation.log(v)) : v.squareRoot()
            mean = mean + noise * scale
        }
        return (mean, x0)
    }
}
