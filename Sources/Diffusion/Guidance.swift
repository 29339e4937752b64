import Foundation
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

/// Any differentiable scalar objective of (x, level, x̂₀) written with the library's tensors becomes
/// guidance through autodiff: the gradient is ∇ₓ of the objective (x̂₀ enters as a constant).
public struct ObjectiveGuidance: Guidance {
    public let objective: (Tensor, NoiseLevel, Tensor) -> Tensor
    public let usesX0Estimate: Bool
    public init(usesX0Estimate: Bool = false, _ objective: @escaping (Tensor, NoiseLevel, Tensor) -> Tensor) {
        self.objective = objective
        self.usesX0Estimate = usesX0Estimate
    }
    public func gradient(x: Tensor, level: NoiseLevel, x0Estimate: Tensor) -> Tensor {
        Tensor.gradient(at: x) { objective($0, level, x0Estimate.detached()) }
    }
}

/// How a guidance gradient g changes the sampler's state (CONVENTIONS.md, Guidance).
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

/// Guidance as a sampler uses it: the source, its scaling and its schedule.
public struct GuidanceConfig {
    public var source: Guidance
    public var scaling: GuidanceScaling
    public var schedule: GuidanceSchedule
    public init(_ source: Guidance, scaling: GuidanceScaling, schedule: GuidanceSchedule) {
        self.source = source; self.scaling = scaling; self.schedule = schedule
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
