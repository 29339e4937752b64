import Foundation
import TensorCore

/// A per-channel affine map x ↦ (x − shift) / scale. One type serves the action map to [−1, 1]
/// (shift = centre, scale = half-range of the env's bounds) and z-scoring of observations or
/// rewards; it is stored in checkpoint metadata so a loaded model maps data exactly as in training.
public struct AffineNormalizer: Codable, Sendable, Equatable {
    public var shift: [Float]
    public var scale: [Float]

    public init(shift: [Float], scale: [Float]) {
        precondition(shift.count == scale.count, "AffineNormalizer: \(shift.count) shifts, \(scale.count) scales")
        self.shift = shift; self.scale = scale
    }

    public static func identity(_ n: Int) -> AffineNormalizer { .init(shift: .init(repeating: 0, count: n), scale: .init(repeating: 1, count: n)) }

    /// Maps the box [low, high] onto [−1, 1].
    public static func box(low: [Double], high: [Double]) -> AffineNormalizer {
        .init(shift: zip(low, high).map { Float(($0 + $1) / 2) }, scale: zip(low, high).map { Float(($1 - $0) / 2) })
    }

    /// z-scoring of the columns of `x` [N, D]: (x − mean) / (std + eps); as PGD's agents (eps 1e-3).
    public static func zScore(_ x: Tensor, eps: Float = 1e-3) -> AffineNormalizer {
        let s = ColumnStatistics(x)
        return .init(shift: s.mean.map(Float.init), scale: s.std.map { Float($0) + eps })
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { (x - Tensor(shift)) / Tensor(scale) }
    public func inverse(_ y: Tensor) -> Tensor { y * Tensor(scale) + Tensor(shift) }
    public func inverse(_ y: [Float]) -> [Float] { (0..<y.count).map { y[$0] * scale[$0 % scale.count] + shift[$0 % shift.count] } }
}

/// Mean, standard deviation (population), min and max of each column of a [N, D] tensor, in Double.
public struct ColumnStatistics: Sendable {
    public var mean: [Double], std: [Double], min: [Double], max: [Double]

    public init(_ x: Tensor) {
        let n = x.shape[0], d = x.count / Swift.max(n, 1)
        var sum = [Double](repeating: 0, count: d), sq = sum
        var lo = [Double](repeating: .infinity, count: d), hi = [Double](repeating: -.infinity, count: d)
        x.withUnsafeBufferPointer { p in
            for i in 0..<n { for j in 0..<d {
                let v = Double(p[i * d + j])
                sum[j] += v; sq[j] += v * v; lo[j] = Swift.min(lo[j], v); hi[j] = Swift.max(hi[j], v)
            } }
        }
        let count = Double(Swift.max(n, 1))
        mean = sum.map { $0 / count }
        std = (0..<d).map { (Swift.max(sq[$0] / count - (sum[$0] / count) * (sum[$0] / count), 0)).squareRoot() }
        min = lo; max = hi
    }
}
