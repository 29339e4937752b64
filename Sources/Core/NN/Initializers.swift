import Foundation
import TensorCore

/// Weight initializers by fan-in/fan-out, as PyTorch and Flax define them.
public enum WeightInit: String, Codable, Sendable {
    /// torch.nn.Linear's default: kaiming_uniform(a = √5), i.e. U(±1/√fan_in); bias U(±1/√fan_in).
    case torchDefault
    /// Glorot/Xavier uniform: U(±√(6 / (fan_in + fan_out))); bias 0.
    case xavierUniform
    /// Glorot/Xavier normal: N(0, 2 / (fan_in + fan_out)); bias 0.
    case xavierNormal
    /// LeCun normal as Flax's `lecun_normal`: truncated normal (±2σ) rescaled to variance 1/fan_in; bias 0.
    case lecunNormal
    /// He/Kaiming uniform for ReLU: U(±√(6 / fan_in)); bias 0.
    case kaimingUniform
    /// He/Kaiming normal for ReLU: N(0, 2 / fan_in); bias 0.
    case kaimingNormal
    case zeros

    /// A weight of `shape` whose fan-in is `shape[1...]` and fan-out `shape[0]` (× receptive field).
    public func weight(_ shape: [Int], rng: RandomGenerator) -> Tensor {
        let receptive = shape.count > 2 ? shape[2...].reduce(1, *) : 1
        let fanIn = Float((shape.count > 1 ? shape[1] : 1) * receptive)
        let fanOut = Float(shape[0] * receptive)
        switch self {
        case .torchDefault:
            let b = 1 / fanIn.squareRoot()
            return rng.uniform(shape, low: -b, high: b)
        case .xavierUniform:
            let b = (6 / (fanIn + fanOut)).squareRoot()
            return rng.uniform(shape, low: -b, high: b)
        case .xavierNormal:
            return rng.normal(shape, std: (2 / (fanIn + fanOut)).squareRoot())
        case .lecunNormal:
            // Truncated standard normal has std 0.87962566; divide it out (as jax.nn.initializers).
            let std = (1 / fanIn).squareRoot() / 0.87962566103423978
            return WeightInit.truncatedNormal(shape, std: std, rng: rng)
        case .kaimingUniform:
            let b = (6 / fanIn).squareRoot()
            return rng.uniform(shape, low: -b, high: b)
        case .kaimingNormal:
            return rng.normal(shape, std: (2 / fanIn).squareRoot())
        case .zeros:
            return Tensor(zeros: shape)
        }
    }

    /// The matching bias for a layer with `fanIn` inputs.
    public func bias(_ count: Int, fanIn: Int, rng: RandomGenerator) -> Tensor {
        guard self == .torchDefault else { return Tensor(zeros: [count]) }
        let b = 1 / Float(fanIn).squareRoot()
        return rng.uniform([count], low: -b, high: b)
    }

    /// N(0, std²) restricted to ±2 std by redrawing the outliers.
    public static func truncatedNormal(_ shape: [Int], std: Float, rng: RandomGenerator) -> Tensor {
        var t = rng.normal(shape)
        t.withUnsafeMutableBufferPointer { b in
            for i in 0..<b.count {
                while Swift.abs(b[i]) > 2 { b[i] = rng.normal([1]).item }
                b[i] *= std
            }
        }
        return t
    }
}
