import Foundation
import TensorCore

/// EDM (Karras et al. 2022): preconditioning, log-normal σ training and the stochastic Heun sampler
/// (Algorithm 2). Defaults are PGD's and SynthER's (σ_data = 1; the paper uses 0.5 for images).
public struct EDM: Codable, Sendable, Equatable {
    public var sigmaMin: Float = 0.002
    public var sigmaMax: Float = 80
    public var rho: Float = 7
    public var sigmaData: Float = 1
    /// Training: ln σ ~ N(pMean, pStd²).
    public var pMean: Float = -1.2
    public var pStd: Float = 1.2
    public var sChurn: Float = 80
    public var sTmin: Float = 0.05
    public var sTmax: Float = 50
    public var sNoise: Float = 1.003
    /// PGD's reference code takes the Euler step from the pre-churn x instead of x̂ (a quirk;
    /// Algorithm 2 — the default — starts from x̂).
    public var eulerFromPreNoise = false

    public init(sigmaMin: Float = 0.002, sigmaMax: Float = 80, rho: Float = 7, sigmaData: Float = 1, pMean: Float = -1.2,
                pStd: Float = 1.2, sChurn: Float = 80, sTmin: Float = 0.05, sTmax: Float = 50, sNoise: Float = 1.003,
                eulerFromPreNoise: Bool = false) {
        self.sigmaMin = sigmaMin; self.sigmaMax = sigmaMax; self.rho = rho; self.sigmaData = sigmaData; self.pMean = pMean
        self.pStd = pStd; self.sChurn = sChurn; self.sTmin = sTmin; self.sTmax = sTmax; self.sNoise = sNoise
        self.eulerFromPreNoise = eulerFromPreNoise
    }

    // Preconditioning (Table 1 of EDM): D(x; σ) = c_skip·x + c_out·F(c_in·x, c_noise).
    public func cSkip(_ s: Float) -> Float { sigmaData * sigmaData / (s * s + sigmaData * sigmaData) }
    public func cOut(_ s: Float) -> Float { s * sigmaData / (s * s + sigmaData * sigmaData).squareRoot() }
    public func cIn(_ s: Float) -> Float { 1 / (s * s + sigmaData * sigmaData).squareRoot() }
    public func cNoise(_ s: Float) -> Float { Foundation.log(s) / 4 }
    /// λ(σ) = (σ² + σ_data²)/(σ·σ_data)² — weights the x₀ loss so the effective F-loss is unit-scaled.
    public func lossWeight(_ s: Float) -> Float { (s * s + sigmaData * sigmaData) / ((s * sigmaData) * (s * sigmaData)) }

    /// σ_i = (σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for i < N, and σ_N = 0 (Eq. 5).
    public func sigmas(steps n: Int) -> [Float] {
        precondition(n >= 1, "EDM needs at least one step")
        let a = Foundation.pow(sigmaMax, 1 / rho), b = Foundation.pow(sigmaMin, 1 / rho)
        return (0..<n).map { i in Foundation.pow(a + (n == 1 ? 0 : Float(i) / Float(n - 1)) * (b - a), rho) } + [0]
    }

    /// γ_i = min(S_churn/N, √2 − 1) inside [S_tmin, S_tmax], else 0.
    public func gamma(_ sigma: Float, steps n: Int) -> Float {
        sigma >= sTmin && sigma <= sTmax ? min(sChurn / Float(n), Float(2).squareRoot() - 1) : 0
    }

    /// D(x; σ) for a network F (called with c_in·x and c_noise per row).
    public func denoise(_ network: (Tensor, Tensor) -> Tensor, _ x: Tensor, sigma s: Float) -> Tensor {
        let rows = x.shape[0]
        let f = network(x * cIn(s), Tensor(repeating: cNoise(s), shape: [rows]))
        return x * cSkip(s) + f * cOut(s)
    }

    /// One stochastic Heun step of Algorithm 2, given the noise εᵢ and a denoiser D:
    /// churn to σ̂ = σ(1 + γ), Euler to σ_next, and (if σ_next > 0) the second-order correction.
    public func step(_ x: Tensor, sigma: Float, next: Float, gamma: Float, noise: Tensor, denoiser d: (Tensor, Float) -> Tensor) -> Tensor {
        let sHat = sigma * (1 + gamma)
        let xHat = gamma > 0 ? x + noise * ((sHat * sHat - sigma * sigma).squareRoot() * sNoise) : x
        let slope = (xHat - d(xHat, sHat)) / sHat
        let eulerStart = eulerFromPreNoise ? x : xHat
        let xNext = eulerStart + slope * (next - sHat)
        guard next > 0 else { return xNext }
        let slope2 = (xNext - d(xNext, next)) / next
        return xHat + (slope + slope2) * (0.5 * (next - sHat))
    }
}
