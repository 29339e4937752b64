import Foundation
import TensorCore

/// Central-difference gradient checks (docs/conventions.md, Numerics).
///
/// The function's output is projected on a fixed random tensor R so every output entry matters:
/// L(x) = Σ f(x)·R, accumulated in Double. For each input entry, the numeric derivative is
/// (L(x + ε) − L(x − ε)) / 2ε with ε = 1e-3, and it must satisfy
/// |analytic − numeric| ≤ 1e-2·|numeric| + 1e-3·max(1, max|numeric|).
/// Both tolerances were fixed from the numerics before any test ran: Float32 round-off in L over
/// ε = 1e-3 gives ~1e-4 absolute error, and the O(ε²) truncation term is ~1e-6 for inputs of order 1.
public struct GradientCheckResult: CustomStringConvertible {
    public var worstInput = 0
    public var worstIndex = 0
    public var analytic: Double = 0
    public var numeric: Double = 0
    public var passed = true
    public var description: String {
        "input \(worstInput)[\(worstIndex)]: analytic \(analytic) vs numeric \(numeric)"
    }
}

public func gradientCheck(_ inputs: [Tensor], eps: Float = 1e-3, rtol: Double = 1e-2, atol: Double = 1e-3,
                          seed: UInt64 = 99, _ f: ([Tensor]) -> Tensor) -> GradientCheckResult {
    let probe = noGrad { f(inputs) }
    let projection = RandomGenerator(seed: seed).normal(probe.shape)
    func objective(_ xs: [Tensor]) -> Double {
        let y = noGrad { f(xs) }
        var s = 0.0
        y.withUnsafeBufferPointer { yb in projection.withUnsafeBufferPointer { rb in
            for i in 0..<yb.count { s += Double(yb[i]) * Double(rb[i]) }
        } }
        return s
    }
    let analytic = Tensor.gradients(at: inputs) { xs in (f(xs) * projection).sum() }.gradients
    var result = GradientCheckResult()
    var worstExcess = -Double.infinity
    for (k, x) in inputs.enumerated() {
        var numeric = [Double](repeating: 0, count: x.count)
        for i in 0..<x.count {
            var plus = x, minus = x
            plus.withUnsafeMutableBufferPointer { $0[i] += eps }
            minus.withUnsafeMutableBufferPointer { $0[i] -= eps }
            var args = inputs
            args[k] = plus
            let lp = objective(args)
            args[k] = minus
            let lm = objective(args)
            numeric[i] = (lp - lm) / (2 * Double(eps))
        }
        let scale = max(1, numeric.map { abs($0) }.max() ?? 0)
        let a = analytic[k].scalars
        for i in 0..<x.count {
            let err = abs(Double(a[i]) - numeric[i])
            let allowed = rtol * abs(numeric[i]) + atol * scale
            if err - allowed > worstExcess {
                worstExcess = err - allowed
                result.worstInput = k
                result.worstIndex = i
                result.analytic = Double(a[i])
                result.numeric = numeric[i]
            }
            if err > allowed { result.passed = false }
        }
    }
    return result
}

/// Inputs of order 1 for gradient checks.
public func checkInput(_ shape: [Int], seed: UInt64, low: Float = -1.5, high: Float = 1.5) -> Tensor {
    RandomGenerator(seed: seed).uniform(shape, low: low, high: high)
}

/// Inputs of order 1 bounded away from zero (for kinks such as relu/abs at 0), magnitudes in [0.2, 1.5].
public func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
    let g = RandomGenerator(seed: seed)
    let mag = g.uniform(shape, low: 0.2, high: 1.5)
    let sign = g.uniform(shape) .> Tensor(0.5)
    return mag * (sign * 2 - 1)
}

/// Largest absolute difference between two tensors of the same shape.
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}
