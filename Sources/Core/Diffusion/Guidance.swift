import Foundation
import NN
import TensorCore

/// Where the sampler is: a discrete timestep (with its ᾱ) or a continuous noise level σ.
public enum NoiseLevel: Sendable, Equatable {
    case timestep(Int, alphaBar: Float)
    case sigma(Float)
}

/// A source of guidance gradients: given x_t, the noise level and the current x̂₀ estimate, return
/// a gradient with x's shape (e.g. ∇ₓ Σ log π(a|s) for PGD, ∇ₓ V for Diffuser's value guidance).
public protocol Guidance {
    func gradient(x: Tensor, level: NoiseLevel, x0Estimate: Tensor) -> Tensor
    /// Whether `gradient` reads `x0Estimate`; when false, samplers skip the extra network
    /// evaluation that estimate costs for additive and posterior-variance scaling, and pass x.
    var usesX0Estimate: Bool { get }
}

extension Guidance {
    public var usesX0Estimate: Bool { false }
}

/// What an autodiff objective reads: the noisy sample x, or the denoised estimate x̂₀ (PGD's
/// "denoised guidance", docs/pgd.md §3; DPS without the denoiser's Jacobian).
public enum GuidanceTarget: String, Codable, Sendable, CaseIterable {
    case sample
    case denoised
}

/// Any differentiable scalar objective f(y, level) written with the library's tensors becomes
/// guidance through autodiff: g = ∇_y f at y = x (`.sample`) or at y = x̂₀ (`.denoised`). The
/// gradient with respect to x̂₀ is applied to x as is — nothing is back-propagated through the
/// denoiser (docs/pgd.md §3).
public struct ObjectiveGuidance: Guidance {
    public let objective: (Tensor, NoiseLevel) -> Tensor
    public let target: GuidanceTarget
    public init(on target: GuidanceTarget = .sample, _ objective: @escaping (Tensor, NoiseLevel) -> Tensor) {
        self.objective = objective
        self.target = target
    }
    public var usesX0Estimate: Bool { target == .denoised }
    public func gradient(x: Tensor, level: NoiseLevel, x0Estimate: Tensor) -> Tensor {
        Tensor.gradient(at: target == .denoised ? x0Estimate.detached() : x.detached()) { objective($0, level) }
    }
}

/// How a guidance gradient g changes the sampler's state (docs/conventions.md, Guidance).
public enum GuidanceScaling: String, Codable, Sendable, CaseIterable {
    /// x ← x + λ·g (PGD).
    case additive
    /// x ← x + λ·Σₜ·g, Σₜ the step's posterior variance (Diffuser's value guidance).
    case posteriorVariance
    /// ε̂ ← ε̂ − λ·√(1 − ᾱₜ)·g (classifier guidance, Dhariwal & Nichol 2021); with EDM, D ← D + λ·σ²·g.
    case classifier
}

/// λ as a function of the sampling step i of n.
public enum GuidanceSchedule: Codable, Sendable, Equatable {
    case constant(Float)
    /// λ·(1 − i/n)
    case linearDecay(Float)
    /// PGD: coeff·[(1 − i/n) + bump·sin(π(i + 1)/n)], and 0 at the last step.
    case pgdCosine(coeff: Float, bump: Float = 0.3)

    public func scale(step i: Int, of n: Int) -> Float {
        switch self {
        case let .constant(l): return l
        case let .linearDecay(l): return l * (1 - Float(i) / Float(n))
        case let .pgdCosine(c, bump):
            if i == n - 1 { return 0 }
            return c * ((1 - Float(i) / Float(n)) + bump * Foundation.sin(Float.pi * Float(i + 1) / Float(n)))
        }
    }
}

extension GuidanceScaling {
    /// The one place the scaling rules live (docs/conventions.md, Guidance): the coefficient c that
    /// multiplies g at a step. Additive and posterior-variance guidance move the sample, x ← x + c·g
    /// (c = λ, or λ·Σ with Σ the step's posterior variance — σ² for EDM); classifier guidance moves
    /// the model's estimate, ε̂ ← ε̂ − c·g with c = λ·√(1 − ᾱₜ) (discrete), D ← D + c·g with c = λ·σ² (EDM).
    public func coefficient(lambda: Float, level: NoiseLevel, posteriorVariance: Float) -> Float {
        switch (self, level) {
        case (.additive, _): return lambda
        case (.posteriorVariance, _): return lambda * posteriorVariance
        case let (.classifier, .timestep(_, alphaBar)): return lambda * (1 - alphaBar).squareRoot()
        case let (.classifier, .sigma(s)): return lambda * s * s
        }
    }

    /// Whether guidance moves the sample (else the model's estimate).
    public var movesSample: Bool { self != .classifier }
}

/// Guidance as a sampler uses it: the source, its scaling and schedule, optionally restricted to
/// named channel groups of the data's last axis (e.g. a trajectory's `action` channels) and
/// normalized per sample.
public struct GuidanceConfig {
    public var source: Guidance
    public var scaling: GuidanceScaling
    public var schedule: GuidanceSchedule
    /// The data's channel layout and the groups guidance may change (all channels when nil).
    public var channels: (layout: ChannelLayout, groups: [String])?
    /// g ← g / (‖g‖ + 1e-8) per sample over the guided channels (PGD's option; its reference adds
    /// the 1e-8 after dividing, which differs only for ‖g‖ ≈ 0).
    public var normalizeGradient: Bool

    public init(_ source: Guidance, scaling: GuidanceScaling, schedule: GuidanceSchedule,
                channels: (layout: ChannelLayout, groups: [String])? = nil, normalizeGradient: Bool = false) {
        if let channels { for g in channels.groups { precondition(channels.layout.range(of: g) != nil, "guidance: the layout has no channel group '\(g)'") } }
        self.source = source; self.scaling = scaling; self.schedule = schedule
        self.channels = channels; self.normalizeGradient = normalizeGradient
    }

    /// The source's gradient, zero outside the guided channels, normalized if asked.
    public func gradient(x: Tensor, level: NoiseLevel, x0Estimate: Tensor) -> Tensor {
        var g = source.gradient(x: x, level: level, x0Estimate: x0Estimate)
        precondition(g.shape == x.shape, "guidance gradient \(g.shape) does not match the sample \(x.shape)")
        if let (layout, groups) = channels {
            precondition(x.shape.last == layout.width, "guidance layout has \(layout.width) channels, the sample \(x.shape)")
            g = g * layout.mask(groups, rank: g.rank)
        }
        if normalizeGradient {
            let rows = g.shape[0]
            let norm = g.reshaped([rows, g.count / rows]).squared().sum(axis: 1).sqrt() + 1e-8
            g = g / norm.reshaped([rows] + [Int](repeating: 1, count: g.rank - 1))
        }
        return g
    }
}

/// Entries held fixed during sampling (inpainting): wherever `mask` is 1 the sample takes `values`
/// after every step and at the start (e.g. the first observation of a trajectory, a goal).
public struct Inpainting {
    public var mask: Tensor
    public var values: Tensor
    public init(mask: Tensor, values: Tensor) { self.mask = mask; self.values = values }

    public func apply(_ x: Tensor) -> Tensor { Tensor.where(mask, values, x) }
}

/// Classifier-free guidance (Ho & Salimans 2022): w·f(x, c) + (1 − w)·f(x, ∅), as CleanDiffuser.
public func classifierFree(_ model: @escaping (Tensor, Tensor, Tensor?) -> Tensor, condition: Tensor, unconditional: Tensor? = nil,
                           weight w: Float) -> (Tensor, Tensor) -> Tensor {
    { x, t in
        let c = model(x, t, condition), u = model(x, t, unconditional)
        return c * w + u * (1 - w)
    }
}
