import Foundation
import TensorCore

/// β schedules, computed exactly as their reference implementations do (diffusers, Diffuser,
/// FISOR): Float32 arrays, with the double-precision steps where the reference uses them.
public enum BetaSchedule: Codable, Sendable, Equatable {
    /// linspace(β₀, β₁, T) in float32 (diffusers "linear"; DDPM's 1e-4…0.02).
    case linear(start: Float = 1e-4, end: Float = 0.02)
    /// linspace(√β₀, √β₁, T)² (diffusers "scaled_linear"; defaults as diffusers' DDPMScheduler — Stable Diffusion uses 0.00085…0.012).
    case scaledLinear(start: Float = 1e-4, end: Float = 0.02)
    /// Improved-DDPM cosine as diffusers' "squaredcos_cap_v2": f(s) = cos²(((s + 0.008)/1.008)·π/2),
    /// βᵢ = min(1 − f((i+1)/T)/f(i/T), 0.999), in double, then float32.
    case squaredCosCapV2
    /// Janner's Diffuser cosine: ᾱ over T + 1 points of linspace(0, T + 1, T + 1), normalized by ᾱ[0],
    /// β clipped to [0, 0.999]. Not the same as squaredCosCapV2.
    case jannerCosine(s: Double = 0.008)
    /// FISOR's discrete VP schedule: αₜ = exp(−β_min/T − ½(β_max − β_min)(2t − 1)/T²), t = 1…T.
    case vp(betaMin: Double = 0.1, betaMax: Double = 10)

    public var name: String {
        switch self {
        case .linear: return "linear"
        case .scaledLinear: return "scaled_linear"
        case .squaredCosCapV2: return "squaredcos_cap_v2"
        case .jannerCosine: return "janner_cosine"
        case .vp: return "vp"
        }
    }

    /// Parses the names `diffuse schedule --kind` accepts (diffusers' names plus ours).
    public init?(name: String) {
        switch name {
        case "linear": self = .linear()
        case "scaled_linear": self = .scaledLinear()
        case "squaredcos_cap_v2", "cosine": self = .squaredCosCapV2
        case "janner_cosine", "janner": self = .jannerCosine()
        case "vp", "fisor_vp": self = .vp()
        default: return nil
        }
    }

    public func betas(steps t: Int) -> [Float] {
        precondition(t >= 1, "a schedule needs at least one step")
        switch self {
        case let .linear(b0, b1):
            return Self.linspace(b0, b1, t)
        case let .scaledLinear(b0, b1):
            return Self.linspace(b0.squareRoot(), b1.squareRoot(), t).map { $0 * $0 }
        case .squaredCosCapV2:
            func f(_ s: Double) -> Double { let c = cos((s + 0.008) / 1.008 * Double.pi / 2); return c * c }
            return (0..<t).map { i in Float(min(1 - f(Double(i + 1) / Double(t)) / f(Double(i) / Double(t)), 0.999)) }
        case let .jannerCosine(s):
            let n = t + 1
            let x = (0..<n).map { Double(n) * Double($0) / Double(n - 1) }
            var abar = x.map { v -> Double in let c = cos(((v / Double(n)) + s) / (1 + s) * Double.pi * 0.5); return c * c }
            let first = abar[0]
            abar = abar.map { $0 / first }
            return (0..<t).map { i in Float(min(max(1 - abar[i + 1] / abar[i], 0), 0.999)) }
        case let .vp(bmin, bmax):
            let tt = Double(t)
            return (1...t).map { i in Float(1 - exp(-bmin / tt - 0.5 * (bmax - bmin) * (2 * Double(i) - 1) / (tt * tt))) }
        }
    }

    /// torch.linspace in float32: start + i·step for the first half, end − (n − 1 − i)·step after.
    static func linspace(_ a: Float, _ b: Float, _ n: Int) -> [Float] {
        if n == 1 { return [a] }
        let step = (b - a) / Float(n - 1)
        let half = n / 2
        return (0..<n).map { i in i < half ? a + step * Float(i) : b - step * Float(n - 1 - i) }
    }
}

/// A discrete noise schedule with T steps and everything derived from it (float32, diffusers'
/// operation order).
public struct NoiseSchedule: Sendable, Equatable {
    public let kind: BetaSchedule
    public let betas: [Float]
    /// αₜ = 1 − βₜ
    public let alphas: [Float]
    /// ᾱₜ = Π_{s ≤ t} α_s (sequential float32 product, as torch.cumprod)
    public let alphasCumprod: [Float]

    public init(_ kind: BetaSchedule, steps: Int) {
        self.kind = kind
        betas = kind.betas(steps: steps)
        alphas = betas.map { 1 - $0 }
        var prod: Float = 1
        alphasCumprod = alphas.map { prod *= $0; return prod }
    }

    public var steps: Int { betas.count }

    /// ᾱ at t, with ᾱ₋₁ = `final` (1 for DDPM; DDIM's final_alpha_cumprod).
    public func alphaBar(_ t: Int, final: Float = 1) -> Float { t >= 0 ? alphasCumprod[t] : final }

    /// Posterior q(x_{t−1} | x_t, x₀) variance β̃ₜ = (1 − ᾱ_{t−1})/(1 − ᾱₜ)·βₜ (Eq. 7 of DDPM), with
    /// β recomputed from ᾱ as diffusers does, clamped at 1e-20.
    public func posteriorVariance(_ t: Int, previous: Int? = nil) -> Float {
        let prev = previous ?? t - 1
        let abT = alphaBar(t), abP = alphaBar(prev)
        let currentBeta = 1 - abT / abP
        return max((1 - abP) / (1 - abT) * currentBeta, 1e-20)
    }

    /// Posterior mean coefficients (of x₀ and of x_t): √ᾱ_{t−1}·βₜ/(1 − ᾱₜ), √αₜ·(1 − ᾱ_{t−1})/(1 − ᾱₜ).
    public func posteriorMeanCoefficients(_ t: Int, previous: Int? = nil) -> (x0: Float, xt: Float) {
        let prev = previous ?? t - 1
        let abT = alphaBar(t), abP = alphaBar(prev)
        let alpha = abT / abP, beta = 1 - alpha
        return ((abP.squareRoot() * beta) / (1 - abT), alpha.squareRoot() * (1 - abP) / (1 - abT))
    }

    /// q(x_t | x₀): √ᾱₜ·x₀ + √(1 − ᾱₜ)·ε, per row of a batch (t: one timestep per row).
    public func addNoise(_ x0: Tensor, noise: Tensor, timesteps t: [Int]) -> Tensor {
        let (a, s) = rowCoefficients(t, rank: x0.rank)
        return x0 * a + noise * s
    }

    /// v = √ᾱₜ·ε − √(1 − ᾱₜ)·x₀ (Salimans & Ho 2022).
    public func velocity(_ x0: Tensor, noise: Tensor, timesteps t: [Int]) -> Tensor {
        let (a, s) = rowCoefficients(t, rank: x0.rank)
        return noise * a - x0 * s
    }

    /// √ᾱ and √(1 − ᾱ) per row, shaped [B, 1, …] to broadcast against a rank-`rank` batch.
    func rowCoefficients(_ t: [Int], rank: Int) -> (Tensor, Tensor) {
        let shape = [t.count] + [Int](repeating: 1, count: max(rank - 1, 0))
        return (Tensor(t.map { alphasCumprod[$0].squareRoot() }, shape: shape),
                Tensor(t.map { (1 - alphasCumprod[$0]).squareRoot() }, shape: shape))
    }
}
