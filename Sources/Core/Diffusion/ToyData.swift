import Foundation
import NN
import TensorCore

/// 2-D toy distributions for checking that a diffusion model reproduces what it was trained on.
public enum ToyDistribution: String, Codable, Sendable, CaseIterable {
    /// 8 Gaussians (σ 0.15) on a circle of radius 2.
    case eightGaussians = "eight-gaussians"
    /// Two interleaved half-circles (as scikit-learn's make_moons, noise 0.05), centered at 0.
    case twoMoons = "two-moons"
    /// Uniform on the dark squares of a 4×4 checkerboard over [−2, 2]².
    case checkerboard

    /// Per-coordinate σ of the eight Gaussians.
    public static let eightGaussiansStd: Float = 0.15
    /// Per-coordinate σ of the noise added to the two moons (after scaling).
    public static let twoMoonsNoise: Float = 0.05

    public func sample(_ n: Int, rng: RandomGenerator) -> Tensor {
        var out = [Float]()
        out.reserveCapacity(2 * n)
        switch self {
        case .eightGaussians:
            let noise = rng.normal([n, 2], std: Self.eightGaussiansStd).scalars
            for i in 0..<n {
                let a = Float(rng.nextInt(below: 8)) * Float.pi / 4
                out += [2 * Foundation.cos(a) + noise[2 * i], 2 * Foundation.sin(a) + noise[2 * i + 1]]
            }
        case .twoMoons:
            let noise = rng.normal([n, 2], std: Self.twoMoonsNoise).scalars
            for i in 0..<n {
                let u = Float(rng.nextDouble()) * Float.pi
                let upper = rng.nextInt(below: 2) == 0
                let (x, y) = upper ? (Foundation.cos(u), Foundation.sin(u)) : (1 - Foundation.cos(u), 0.5 - Foundation.sin(u))
                out += [(x - 0.5) * 1.5 + noise[2 * i], (y - 0.25) * 1.5 + noise[2 * i + 1]]
            }
        case .checkerboard:
            for _ in 0..<n {
                while true {
                    let x = Float(rng.nextDouble()) * 4 - 2, y = Float(rng.nextDouble()) * 4 - 2
                    if (Int(Foundation.floor(x)) + Int(Foundation.floor(y))) & 1 == 0 { out += [x, y]; break }
                }
            }
        }
        return Tensor(out, shape: [n, 2])
    }
}

/// How much of a sample set lies on a toy distribution's structure — what a scatter plot shows
/// and mean, covariance or a wide-kernel MMD do not (uniform noise on [−2, 2]² matches the
/// checkerboard's first two moments exactly). Each distribution has components (dark squares,
/// moons, modes); a sample is on one when it lies inside the square, or within 3 noise σ of the
/// moon's curve or the mode's center (3σ holds 99.7 % of a 1-D Gaussian's normal offset from a
/// curve and 98.9 % of a 2-D Gaussian's radius). A component is covered when it holds at least
/// half its fair share of the samples, n/(2·components), so a model that drops a mode or starves
/// one shows up even when everything it draws is on the structure.
public struct ToyStructure: Sendable, Equatable, CustomStringConvertible {
    public var distribution: ToyDistribution
    public var count: Int
    /// Fraction of samples on some component: on a dark square (checkerboard; outside [−2, 2]²
    /// counts as off), within 3σ (0.15) of a moon's curve, within 3σ (0.45) of a mode's center.
    public var onStructure: Float
    /// Mean Euclidean distance to the nearest point of the noise-free structure (the curves, the
    /// mode centers); nil for the checkerboard, whose support is an area.
    public var meanDistance: Float?
    /// Fraction of all samples on each component: the 8 dark squares (row by row from the bottom
    /// left), the upper and lower moon, the 8 modes (counterclockwise from angle 0).
    public var componentFractions: [Float]

    /// Samples on each component needed for it to count as covered: half its fair share.
    public var coverageThreshold: Float { 0.5 / Float(componentFractions.count) }
    public var componentsCovered: Int { componentFractions.filter { $0 >= coverageThreshold }.count }
    public var components: Int { componentFractions.count }

    /// One line for the CLI.
    public var description: String {
        let on = String(format: "%.1f %%", 100 * onStructure)
        let covered = "\(componentsCovered)/\(components)"
        switch distribution {
        case .checkerboard:
            return "structure: \(on) on dark squares, \(covered) squares covered"
        case .twoMoons:
            return String(format: "structure: mean distance to the curves %.3f, %@ within 3σ (%.2f), moons %.1f %% / %.1f %% (%@ covered)",
                          meanDistance ?? .nan, on, 3 * ToyDistribution.twoMoonsNoise, 100 * componentFractions[0],
                          100 * componentFractions[1], covered)
        case .eightGaussians:
            return String(format: "structure: mean distance to the nearest center %.3f, %@ within 3σ (%.2f), %@ modes covered",
                          meanDistance ?? .nan, on, 3 * ToyDistribution.eightGaussiansStd, covered)
        }
    }
}

extension ToyDistribution {
    /// The structure metrics of `samples` ([n, 2]) against this distribution.
    public func structure(of samples: Tensor) -> ToyStructure {
        precondition(samples.rank == 2 && samples.shape[1] == 2, "structure needs [N, 2] points, got \(samples.shape)")
        let p = samples.scalars, n = samples.shape[0]
        let points = (0..<n).map { (p[2 * $0], p[2 * $0 + 1]) }
        switch self {
        case .checkerboard: return Self.checkerboardStructure(points)
        case .twoMoons: return Self.twoMoonsStructure(points)
        case .eightGaussians: return Self.eightGaussiansStructure(points)
        }
    }

    /// Which dark square (0..<8) holds (x, y), if any: cells [k, k+1) with k = −2…1 and
    /// ⌊x⌋ + ⌊y⌋ even, as `sample` draws them.
    static func darkSquare(_ x: Float, _ y: Float) -> Int? {
        // Checked before converting to Int, which traps on huge values (a diverged sampler's).
        guard (-2..<2).contains(x), (-2..<2).contains(y) else { return nil }
        let ix = Int(Foundation.floor(x)) + 2, iy = Int(Foundation.floor(y)) + 2
        guard (0..<4).contains(ix), (0..<4).contains(iy), (ix + iy) & 1 == 0 else { return nil }
        return iy * 2 + ix / 2
    }

    /// Distances from (x, y) to the upper and lower moon. `sample` draws the moons as arcs of
    /// radius 1.5 about (−0.75, −0.375) (upper half) and (0.75, 0.375) (lower half); a point on
    /// the arc's side of its diameter is nearest to the arc along the radius, any other point
    /// to one of the arc's ends.
    static func moonDistances(_ x: Float, _ y: Float) -> (upper: Float, lower: Float) {
        func arc(cx: Float, cy: Float, upper: Bool) -> Float {
            let (dx, dy) = (x - cx, y - cy), r: Float = 1.5
            if upper ? dy >= 0 : dy <= 0 { return abs((dx * dx + dy * dy).squareRoot() - r) }
            return min(((dx - r) * (dx - r) + dy * dy).squareRoot(), ((dx + r) * (dx + r) + dy * dy).squareRoot())
        }
        return (arc(cx: -0.75, cy: -0.375, upper: true), arc(cx: 0.75, cy: 0.375, upper: false))
    }

    static func checkerboardStructure(_ points: [(Float, Float)]) -> ToyStructure {
        var counts = [Int](repeating: 0, count: 8)
        for (x, y) in points { if let k = darkSquare(x, y) { counts[k] += 1 } }
        return ToyStructure(distribution: .checkerboard, count: points.count, onStructure: fraction(counts.reduce(0, +), of: points.count),
                            meanDistance: nil, componentFractions: counts.map { fraction($0, of: points.count) })
    }

    static func twoMoonsStructure(_ points: [(Float, Float)]) -> ToyStructure {
        let radius = 3 * twoMoonsNoise
        var counts = [0, 0], total = 0.0
        for (x, y) in points {
            let (u, l) = moonDistances(x, y)
            total += Double(min(u, l))
            if min(u, l) <= radius { counts[u <= l ? 0 : 1] += 1 }
        }
        return ToyStructure(distribution: .twoMoons, count: points.count, onStructure: fraction(counts.reduce(0, +), of: points.count),
                            meanDistance: Float(total / Double(points.count)), componentFractions: counts.map { fraction($0, of: points.count) })
    }

    static func eightGaussiansStructure(_ points: [(Float, Float)]) -> ToyStructure {
        let radius = 3 * eightGaussiansStd
        let centers = (0..<8).map { k in (2 * Foundation.cos(Float(k) * Float.pi / 4), 2 * Foundation.sin(Float(k) * Float.pi / 4)) }
        var counts = [Int](repeating: 0, count: 8), total = 0.0
        for (x, y) in points {
            let d = centers.map { c in ((x - c.0) * (x - c.0) + (y - c.1) * (y - c.1)).squareRoot() }
            let k = d.indices.min { d[$0] < d[$1] }!
            total += Double(d[k])
            if d[k] <= radius { counts[k] += 1 }
        }
        return ToyStructure(distribution: .eightGaussians, count: points.count, onStructure: fraction(counts.reduce(0, +), of: points.count),
                            meanDistance: Float(total / Double(points.count)), componentFractions: counts.map { fraction($0, of: points.count) })
    }

    private static func fraction(_ k: Int, of n: Int) -> Float { n == 0 ? 0 : Float(k) / Float(n) }
}

/// Maximum mean discrepancy² (biased V-statistic) with an RBF kernel exp(−‖a − b‖²/(2h²)).
public func mmdSquared(_ a: Tensor, _ b: Tensor, bandwidth h: Float = 0.5) -> Float {
    func meanKernel(_ x: Tensor, _ y: Tensor) -> Double {
        let xs = x.scalars, ys = y.scalars, d = x.shape[1]
        let nx = x.shape[0], ny = y.shape[0]
        var s = 0.0
        let inv = 1 / (2 * Double(h) * Double(h))
        for i in 0..<nx {
            for j in 0..<ny {
                var q = 0.0
                for k in 0..<d { let v = Double(xs[i * d + k] - ys[j * d + k]); q += v * v }
                s += exp(-q * inv)
            }
        }
        return s / Double(nx * ny)
    }
    return Float(meanKernel(a, a) + meanKernel(b, b) - 2 * meanKernel(a, b))
}
