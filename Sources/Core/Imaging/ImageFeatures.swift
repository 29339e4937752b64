import Foundation
import TensorCore

/// A small linear encoder fitted on the user's own images (issue #31), for Fréchet distances and
/// precision/recall when no task-specific scorer exists: each image is average-pooled to at most
/// `maxSide`×`maxSide` per channel, flattened, centred on the fitting data's mean and projected on its top
/// `dimensions` principal components. It knows only the data it was fitted on — unlike Inception features,
/// distances in it say "differs from this data along its main directions of variation", nothing about semantics.
public struct PCAFeatures: Sendable {
    public static let maxSide = 16
    public let pool: Int
    public let mean: [Double]
    /// Row-major [dimensions, d] principal directions, largest variance first.
    public let components: [Double]
    public let dimensions: Int
    /// Fraction of the pooled pixels' variance the components keep.
    public let explainedVariance: Double

    /// Fits on images [N, C, S, S] (N ≥ 2).
    public init(fitting images: Tensor, dimensions: Int = 32) throws {
        precondition(images.rank == 4 && images.shape[0] >= 2, "PCA features fit on [N ≥ 2, C, H, W] images")
        pool = Swift.max(1, (Swift.max(images.shape[2], images.shape[3]) + Self.maxSide - 1) / Self.maxSide)
        let x = Self.pooled(images, pool: pool)
        let (m, cov) = FrechetDistance.moments(x)
        let d = m.count
        let (values, vectors) = try SymmetricEigen.decompose(cov, n: d)
        let k = Swift.min(dimensions, d)
        var comps = [Double](repeating: 0, count: k * d)
        // Eigenvalues come ascending: the last k columns, largest first.
        for r in 0..<k { let col = d - 1 - r; for a in 0..<d { comps[r * d + a] = vectors[a * d + col] } }
        let total = values.reduce(0) { $0 + Swift.max($1, 0) }
        explainedVariance = total > 0 ? values.suffix(k).reduce(0) { $0 + Swift.max($1, 0) } / total : 1
        mean = m
        components = comps
        self.dimensions = k
    }

    /// Features [N, dimensions] of images with the fitted shape.
    public func encode(_ images: Tensor) -> Tensor {
        let x = Self.pooled(images, pool: pool)
        let n = x.shape[0], d = mean.count
        precondition(x.shape[1] == d, "images of another shape than the fitted ones")
        let v = x.scalars
        var out = [Float](repeating: 0, count: n * dimensions)
        for i in 0..<n { for r in 0..<dimensions {
            var s = 0.0
            for a in 0..<d { s += (Double(v[i * d + a]) - mean[a]) * components[r * d + a] }
            out[i * dimensions + r] = Float(s)
        } }
        return Tensor(out, shape: [n, dimensions])
    }

    /// Average pooling by `pool` × `pool` (edges: the pixels present), flattened to [N, C·H'·W'].
    static func pooled(_ images: Tensor, pool: Int) -> Tensor {
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let (ph, pw) = ((h + pool - 1) / pool, (w + pool - 1) / pool)
        let v = images.scalars
        var out = [Float](repeating: 0, count: n * c * ph * pw)
        for i in 0..<n { for k in 0..<c { for y in 0..<ph { for x in 0..<pw {
            var s: Float = 0, count: Float = 0
            for dy in 0..<pool where y * pool + dy < h { for dx in 0..<pool where x * pool + dx < w {
                s += v[((i * c + k) * h + y * pool + dy) * w + x * pool + dx]
                count += 1
            } }
            out[((i * c + k) * ph + y) * pw + x] = s / count
        } } } }
        return Tensor(out, shape: [n, c * ph * pw])
    }
}

/// Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of balls
/// around its points with radius the distance to their k-th nearest neighbour in the same set. Precision is the
/// fraction of generated points inside the real manifold (fidelity), recall the fraction of real points
/// inside the generated one (coverage).
public enum ManifoldPrecisionRecall {
    public static func measure(real: Tensor, generated: Tensor, k: Int = 3) -> (precision: Double, recall: Double) {
        precondition(real.rank == 2 && generated.rank == 2 && real.shape[1] == generated.shape[1], "features [N, d] of one dimension")
        precondition(real.shape[0] > k && generated.shape[0] > k, "more than k points in each set")
        let r = rows(real), g = rows(generated)
        let realRadii = kthNeighbourDistances(r, k: k), generatedRadii = kthNeighbourDistances(g, k: k)
        func inside(_ p: [Double], _ set: [[Double]], _ radii: [Double]) -> Bool {
            set.indices.contains { squaredDistance(p, set[$0]) <= radii[$0] }
        }
        let precision = Double(g.filter { inside($0, r, realRadii) }.count) / Double(g.count)
        let recall = Double(r.filter { inside($0, g, generatedRadii) }.count) / Double(r.count)
        return (precision, recall)
    }

    static func rows(_ x: Tensor) -> [[Double]] {
        let d = x.shape[1], v = x.scalars
        return (0..<x.shape[0]).map { i in (0..<d).map { Double(v[i * d + $0]) } }
    }

    static func squaredDistance(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for j in a.indices { let e = a[j] - b[j]; s += e * e }
        return s
    }

    /// Squared distance of each point to its k-th nearest other point.
    static func kthNeighbourDistances(_ set: [[Double]], k: Int) -> [Double] {
        set.indices.map { i in
            var d = set.indices.filter { $0 != i }.map { squaredDistance(set[i], set[$0]) }
            d.sort()
            return d[k - 1]
        }
    }
}
