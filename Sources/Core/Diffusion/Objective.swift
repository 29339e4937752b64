import Foundation
import TensorCore

/// The noise of one training draw: a noise level per row and the Gaussian noise itself. Drawn
/// once and passed explicitly, so two networks (a model and its reference, DPO/SePPO) can be
/// scored on the same corruption of the same x₀.
public struct DiffusionNoise {
    /// Discrete objectives: the timestep t of each row.
    public var timesteps: [Int]
    /// EDM: σ of each row (empty for discrete objectives).
    public var sigmas: [Float]
    /// ε or n, with x₀'s shape.
    public var noise: Tensor

    public init(timesteps: [Int] = [], sigmas: [Float] = [], noise: Tensor) {
        self.timesteps = timesteps; self.sigmas = sigmas; self.noise = noise
    }

    /// The rows of `indices` (e.g. the same noise for both halves of a preference pair).
    public func rows(_ indices: [Int]) -> DiffusionNoise {
        DiffusionNoise(timesteps: timesteps.isEmpty ? [] : indices.map { timesteps[$0] }, sigmas: sigmas.isEmpty ? [] : indices.map { sigmas[$0] },
                       noise: noise.indexSelect(axis: 0, indices))
    }
}

/// How a sample's squared errors over its data dimensions become one number.
public enum ErrorReduction: String, Codable, Sendable {
    /// Mean over the data dimensions (the library's default: a loss whose scale does not grow
    /// with the data's size; docs/conventions.md).
    case mean
    /// Sum over the data dimensions (FISOR's reference, docs/fisor.md: mean × dimension).
    case sum
}

/// The denoising training objective, with per-sample weights (FISOR's weighted regression) and
/// per-element weights (Diffuser's heavier first action).
public enum DiffusionObjective: Codable, Sendable, Equatable {
    /// Discrete-time DDPM training: t ~ U{0…T−1}, x_t = √ᾱ·x₀ + √(1 − ᾱ)·ε; the network sees the
    /// integer t as a float and regresses ε, x₀ or v.
    case discrete(schedule: BetaSchedule, steps: Int, prediction: PredictionType)
    /// EDM: ln σ ~ N(P_mean, P_std²), loss λ(σ)·‖D(x₀ + σn; σ) − x₀‖² with the preconditioned D.
    case edm(EDM)

    /// Draws a noise level per row and the noise for `x0` (discrete: t then ε; EDM: σ then n).
    public func drawNoise(like x0: Tensor, rng: RandomGenerator) -> DiffusionNoise { drawNoise(shape: x0.shape, rng: rng) }

    /// The same for samples of `shape` ([rows, …]).
    public func drawNoise(shape: [Int], rng: RandomGenerator) -> DiffusionNoise {
        let rows = shape[0]
        switch self {
        case let .discrete(_, steps, _):
            let t = rng.integers([rows], high: steps).scalars
            return DiffusionNoise(timesteps: t, noise: rng.normal(shape))
        case let .edm(edm):
            let sigma = (rng.normal([rows]) * edm.pStd + edm.pMean).exp().scalars
            return DiffusionNoise(sigmas: sigma, noise: rng.normal(shape))
        }
    }

    /// The denoising error of each row, [B], for the given noise: w_element·(output − target)²
    /// reduced over the data dimensions (discrete: target ε, x₀ or v; EDM: λ(σ)·(D − x₀)²).
    /// Differentiable in the network's parameters.
    public func perSampleError(_ network: DenoisingNetwork, x0: Tensor, noise n: DiffusionNoise, elementWeights: Tensor? = nil,
                               reduction: ErrorReduction = .mean) -> Tensor {
        let rows = x0.shape[0]
        precondition(n.noise.shape == x0.shape, "noise \(n.noise.shape) does not match x0 \(x0.shape)")
        let rowShape = [rows] + [Int](repeating: 1, count: x0.rank - 1)
        var perElement: Tensor
        switch self {
        case let .discrete(kind, steps, prediction):
            precondition(n.timesteps.count == rows, "discrete noise needs one timestep per row")
            let s = NoiseSchedule(kind, steps: steps)
            let xt = s.addNoise(x0, noise: n.noise, timesteps: n.timesteps)
            let target: Tensor
            switch prediction {
            case .epsilon: target = n.noise
            case .sample: target = x0
            case .vPrediction: target = s.velocity(x0, noise: n.noise, timesteps: n.timesteps)
            }
            perElement = (network(xt, Tensor(n.timesteps.map(Float.init))) - target).squared()
        case let .edm(edm):
            precondition(n.sigmas.count == rows, "EDM noise needs one σ per row")
            let sv = n.sigmas
            func row(_ f: (Float) -> Float) -> Tensor { Tensor(sv.map(f), shape: rowShape) }
            let noisy = x0 + n.noise * row { $0 }
            let f = network(noisy * row(edm.cIn), Tensor(sv.map(edm.cNoise)))
            let d = noisy * row(edm.cSkip) + f * row(edm.cOut)
            perElement = (d - x0).squared() * row(edm.lossWeight)
        }
        if let elementWeights { perElement = perElement * elementWeights }
        let flat = perElement.reshaped([rows, perElement.count / Swift.max(rows, 1)])
        return reduction == .mean ? flat.mean(axis: 1) : flat.sum(axis: 1)
    }

    /// The training loss: the batch mean of `sampleWeights`·perSampleError over fresh noise
    /// (with `.mean`, the mean over rows and elements of w·(output − target)²).
    /// `sampleWeights`: [B]; `elementWeights`: broadcastable to one row (e.g. [1, H, D]).
    ///
    /// In a data-parallel run (`ProcessGroup.active`) every rank draws the noise of the whole global
    /// batch (the same draws on every rank, so generators stay in step) and keeps its shard's rows:
    /// x0 is either the whole batch (then sharded here) or already the rank's shard of a batch of
    /// `group.shardedBatch` rows (an offline-RL update). R ranks thus compute exactly the per-row
    /// errors one process computes (docs/distributed.md).
    public func loss(_ network: DenoisingNetwork, x0: Tensor, rng: RandomGenerator, sampleWeights: Tensor? = nil,
                     elementWeights: Tensor? = nil, reduction: ErrorReduction = .mean) -> Tensor {
        let rows = x0.shape[0]
        precondition(sampleWeights == nil || sampleWeights!.shape == [rows], "sample weights must be [\(rows)], got \(sampleWeights!.shape)")
        guard let group = ProcessGroup.parallel else {
            let errors = perSampleError(network, x0: x0, noise: drawNoise(like: x0, rng: rng), elementWeights: elementWeights, reduction: reduction)
            return sampleWeights.map { (errors * $0).mean() } ?? errors.mean()
        }
        let global = group.shardedBatch ?? rows
        precondition(global % group.size == 0, "a batch of \(global) rows does not split evenly over \(group.size) ranks")
        let mine = Array(group.shard(global))
        let noise = drawNoise(shape: [global] + Array(x0.shape.dropFirst()), rng: rng).rows(mine)
        var x = x0, weights = sampleWeights
        if group.shardedBatch == nil {
            x = x0.indexSelect(axis: 0, mine)
            weights = sampleWeights?.indexSelect(axis: 0, mine)
        }
        // While the network runs on the shard, per-row draws inside it (dropout) also follow the global batch.
        let errors = group.onShard(of: global) {
            perSampleError(network, x0: x, noise: noise, elementWeights: elementWeights, reduction: reduction)
        }
        return weights.map { (errors * $0).mean() } ?? errors.mean()
    }
}
