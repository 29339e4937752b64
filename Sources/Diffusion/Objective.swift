import Foundation
import TensorCore

/// The denoising training objective, with per-sample weights (FISOR's weighted regression) and
/// per-element weights (Diffuser's heavier first action).
public enum DiffusionObjective: Codable, Sendable, Equatable {
    /// Discrete-time DDPM training: t ~ U{0…T−1}, x_t = √ᾱ·x₀ + √(1 − ᾱ)·ε; the network sees the
    /// integer t as a float and regresses ε, x₀ or v.
    case discrete(schedule: BetaSchedule, steps: Int, prediction: PredictionType)
    /// EDM: ln σ ~ N(P_mean, P_std²), loss λ(σ)·‖D(x₀ + σn; σ) − x₀‖² with the preconditioned D.
    case edm(EDM)

    /// Mean over rows and elements of w_sample·w_element·(output − target)².
    /// `sampleWeights`: [B]; `elementWeights`: broadcastable to one row (e.g. [1, H, D]).
    public func loss(_ network: DenoisingNetwork, x0: Tensor, rng: RandomGenerator, sampleWeights: Tensor? = nil,
                     elementWeights: Tensor? = nil) -> Tensor {
        let rows = x0.shape[0]
        let rowShape = [rows] + [Int](repeating: 1, count: x0.rank - 1)
        var perElement: Tensor
        switch self {
        case let .discrete(kind, steps, prediction):
            let s = NoiseSchedule(kind, steps: steps)
            let t = rng.integers([rows], high: steps).scalars
            let eps = rng.normal(x0.shape)
            let xt = s.addNoise(x0, noise: eps, timesteps: t)
            let target: Tensor
            switch prediction {
            case .epsilon: target = eps
            case .sample: target = x0
            case .vPrediction: target = s.velocity(x0, noise: eps, timesteps: t)
            }
            perElement = (network(xt, Tensor(t.map(Float.init))) - target).squared()
        case let .edm(edm):
            let sigma = (rng.normal([rows]) * edm.pStd + edm.pMean).exp()
            let sv = sigma.scalars
            let noisy = x0 + rng.normal(x0.shape) * sigma.reshaped(rowShape)
            func row(_ f: (Float) -> Float) -> Tensor { Tensor(sv.map(f), shape: rowShape) }
            let f = network(noisy * row(edm.cIn), Tensor(sv.map(edm.cNoise)))
            let d = noisy * row(edm.cSkip) + f * row(edm.cOut)
            perElement = (d - x0).squared() * row(edm.lossWeight)
        }
        if let elementWeights { perElement = perElement * elementWeights }
        if let sampleWeights {
            precondition(sampleWeights.shape == [rows], "sample weights must be [\(rows)], got \(sampleWeights.shape)")
            perElement = perElement * sampleWeights.reshaped(rowShape)
        }
        return perElement.mean()
    }
}
