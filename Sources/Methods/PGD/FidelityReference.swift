import Foundation
import OfflineRL
import TensorCore

/// What a synthetic dataset is measured against (docs/pgd.md §6.1): the real data's per-dimension
/// standard deviations, which set the units of every error, and, when the real transitions
/// themselves are at hand, the statistics that need them (mean one-step change, roughness,
/// marginals). Never the synthetic data's own std: a model that spreads its states too wide would
/// otherwise shrink its own error.
public struct FidelityReference {
    /// σ_s per observation dimension (0 → 1, so a constant dimension counts in raw units).
    public var observationStd: [Double]
    /// σ_a per action dimension (nil without real transitions).
    public var actionStd: [Double]?
    /// The real transitions (nil when only statistics are known, e.g. a trajectory model's).
    public var data: OfflineDataset?
    /// Where the units came from, said in every report ("real data real.hdf5", …).
    public var units: String

    /// The real dataset `data` (read from `source`).
    public init(real data: OfflineDataset, source: String) {
        observationStd = Self.positive(ColumnStatistics(data.observations).std)
        actionStd = Self.positive(ColumnStatistics(data.actions).std)
        self.data = data
        units = source
    }

    /// Only the real data's observation std (e.g. a trajectory model's normalization statistics).
    public init(observationStd: [Double], source: String) {
        self.observationStd = Self.positive(observationStd)
        units = source
    }

    static func positive(_ std: [Double]) -> [Double] { std.map { $0 > 0 && $0.isFinite ? $0 : 1 } }

    /// The trajectory model's normalization σ of the observation channels (taken over its training
    /// windows, i.e. over the real data it was trained on).
    public static func observationStd(of layout: TrajectoryLayout) -> [Double] {
        Array(layout.std[layout.channels.range(of: TrajectoryLayout.observation)!])
    }
}

/// Fidelity statistics shared by the metrics (pure functions, so tests check them by hand).
public enum Fidelity {
    /// Mean over rows of ‖(s′ − s) / σ‖₂: the error of predicting "nothing moves" (s′ = s). A
    /// dynamics error divided by this is below 1 exactly when it beats that trivial model.
    public static func meanOneStepChange(_ data: OfflineDataset, scale: [Double]) -> Double {
        let o = data.observationDim, n = data.count
        guard n > 0 else { return 0 }
        let s = data.observations.scalars, t = data.nextObservations.scalars
        var sum = 0.0
        for i in 0..<n {
            var e = 0.0
            for j in 0..<o {
                let d = (Double(t[i * o + j]) - Double(s[i * o + j])) / scale[j]
                e += d * d
            }
            sum += e.squareRoot()
        }
        return sum / Double(n)
    }

    /// Window roughness: the mean over episodes (windows) with at least 3 points of the mean over
    /// t and dimensions j of ((x_{t+1} − 2x_t + x_{t−1})_j / σ_j)². Observations use the episode's
    /// states s₀ … s_{n−1} and its last s′ (n + 1 points); actions a₀ … a_{n−1}. Smooth motion
    /// gives a small value, jitter a large one (the "scribbles" of issue #26 as a number).
    /// Returns (observations, actions); nil when no episode has 3 points.
    public static func roughness(_ data: OfflineDataset, observationScale: [Double], actionScale: [Double]) -> (observations: Double?, actions: Double?) {
        let o = data.observationDim, a = data.actionDim
        let s = data.observations.scalars, t = data.nextObservations.scalars, u = data.actions.scalars
        var obsSum = 0.0, obsCount = 0, actSum = 0.0, actCount = 0
        for e in data.episodes {
            let states: [[Double]] = e.map { i in (0..<o).map { Double(s[i * o + $0]) } } + [(0..<o).map { Double(t[(e.upperBound - 1) * o + $0]) }]
            let actions: [[Double]] = e.map { i in (0..<a).map { Double(u[i * a + $0]) } }
            if let r = meanSquaredSecondDifference(states, scale: observationScale) { obsSum += r; obsCount += 1 }
            if let r = meanSquaredSecondDifference(actions, scale: actionScale) { actSum += r; actCount += 1 }
        }
        return (obsCount > 0 ? obsSum / Double(obsCount) : nil, actCount > 0 ? actSum / Double(actCount) : nil)
    }

    /// Mean over t, j of ((x_{t+1} − 2x_t + x_{t−1})_j / σ_j)²; nil for fewer than 3 points.
    static func meanSquaredSecondDifference(_ x: [[Double]], scale: [Double]) -> Double? {
        guard x.count >= 3, let d = x.first?.count, d > 0 else { return nil }
        var sum = 0.0
        for k in 1..<(x.count - 1) {
            for j in 0..<d {
                let v = (x[k + 1][j] - 2 * x[k][j] + x[k - 1][j]) / scale[j]
                sum += v * v
            }
        }
        return sum / Double((x.count - 2) * d)
    }

    /// 1-D Wasserstein-1 distance between two empirical distributions: ∫ |F(x) − G(x)| dx over the
    /// merged sorted samples (exact for any two sample sizes). SynthER (Lu et al. 2023, §4)
    /// reports marginal fidelity this way, per dimension.
    public static func wasserstein1(_ a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        let x = a.sorted(), y = b.sorted()
        var i = 0, k = 0, distance = 0.0
        var previous = Swift.min(x[0], y[0])
        while i < x.count || k < y.count {
            let next: Double
            if k >= y.count || (i < x.count && x[i] <= y[k]) { next = x[i] } else { next = y[k] }
            distance += abs(Double(i) / Double(x.count) - Double(k) / Double(y.count)) * (next - previous)
            previous = next
            if k >= y.count || (i < x.count && x[i] <= y[k]) { i += 1 } else { k += 1 }
        }
        return distance
    }

    /// Per-dimension W1 between the columns of two [N, d] tensors, each divided by `scale`.
    public static func marginalW1(_ a: Tensor, _ b: Tensor, scale: [Double]) -> [Double] {
        let d = scale.count, x = a.scalars, y = b.scalars
        let n = a.shape[0], m = b.shape[0]
        return (0..<d).map { j in
            wasserstein1((0..<n).map { Double(x[$0 * d + j]) }, (0..<m).map { Double(y[$0 * d + j]) }) / scale[j]
        }
    }

    /// Value at quantile q (0…1) of `sorted` (nearest rank, the convention of the median before).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[Swift.min(sorted.count - 1, Int(q * Double(sorted.count)))]
    }
}
