import TensorCore

/// What the network predicts (diffusers' `prediction_type`).
public enum PredictionType: String, Codable, Sendable, CaseIterable {
    /// the noise ε (DDPM)
    case epsilon
    /// the clean sample x₀ (Diffuser's trajectory model)
    case sample
    /// v = √ᾱ·ε − √(1 − ᾱ)·x₀ (Salimans & Ho 2022)
    case vPrediction = "v_prediction"
}

/// How sampling enumerates timesteps when it uses fewer steps than training (diffusers'
/// `timestep_spacing`, Table 2 of Lin et al. 2024).
public enum TimestepSpacing: String, Codable, Sendable, CaseIterable {
    case leading, trailing, linspace

    /// The descending timesteps for `n` inference steps of a T-step schedule.
    public func timesteps(trainSteps t: Int, inferenceSteps n: Int, stepsOffset: Int = 0) -> [Int] {
        precondition(n >= 1 && n <= t, "inference steps must be in 1...\(t), got \(n)")
        switch self {
        case .leading:
            let ratio = t / n
            return (0..<n).reversed().map { $0 * ratio + stepsOffset }
        case .trailing:
            // np.round(np.arange(T, 0, −T/n)) − 1, rounding half to even as numpy does.
            let ratio = Double(t) / Double(n)
            var out: [Int] = []
            var v = Double(t)
            while v > 0 { out.append(Int(v.rounded(.toNearestOrEven)) - 1); v = Double(t) - ratio * Double(out.count) }
            return out
        case .linspace:
            return (0..<n).map { i -> Int in
                let v = n == 1 ? 0 : Double(t - 1) * Double(i) / Double(n - 1)
                return Int(v.rounded(.toNearestOrEven))
            }.reversed()
        }
    }
}

/// Turns a network output into the x₀ and ε estimates at ᾱₜ (elementwise; float32 in diffusers'
/// order: e.g. x̂₀ = (x − √(1 − ᾱ)·out)/√ᾱ).
public func predictedOriginalAndNoise(_ output: Tensor, sample x: Tensor, alphaBar: Float, type: PredictionType) -> (x0: Tensor, epsilon: Tensor) {
    let sa = alphaBar.squareRoot(), sb = (1 - alphaBar).squareRoot()
    switch type {
    case .epsilon: return ((x - output * sb) / sa, output)
    case .sample: return (output, (x - output * sa) / sb)
    case .vPrediction: return (x * sa - output * sb, output * sa + x * sb)
    }
}
