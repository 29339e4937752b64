import Foundation
import OfflineRL
@testable import PGD
import Testing
import TensorCore

/// The fidelity metrics of `pgd evaluate` (docs/pgd.md §6.1) against values computed by hand.
@Suite("Synthetic-data fidelity metrics")
struct FidelityMetricsTests {
    nonisolated(unsafe) static let real: OfflineDataset = try! DataCollection.collect(environment: "pendulum", quality: .mixed, steps: 600, seed: 3)

    static func dataset(observations: [[Float]], actions: [[Float]], next: [[Float]], ends: Set<Int>) throws -> OfflineDataset {
        let n = observations.count
        return try OfflineDataset(observations: Tensor(observations.flatMap { $0 }, shape: [n, observations[0].count]),
                                  actions: Tensor(actions.flatMap { $0 }, shape: [n, actions[0].count]),
                                  rewards: Tensor([Float](repeating: 0, count: n)),
                                  nextObservations: Tensor(next.flatMap { $0 }, shape: [n, next[0].count]),
                                  terminals: Tensor([Float](repeating: 0, count: n)),
                                  timeouts: Tensor((0..<n).map { ends.contains($0) ? 1 : 0 }))
    }

    /// Two windows: states 0, 1, 4, 9 (rows 0–2, the last s′ = 9) and 0, 0, 3 (rows 3–4), σ = 2;
    /// actions 0, 2, 0 and 5, 5 (σ = 2). Observation second differences 2, 2 → (2/2)² = 1, 1, mean 1;
    /// and 3 → (3/2)² = 2.25; over windows (1 + 2.25)/2 = 1.625. Actions: −4 → (−4/2)² = 4 in the
    /// first window, none in the second (2 points): 4.
    @Test func roughnessByHand() throws {
        let d = try Self.dataset(observations: [[0], [1], [4], [0], [0]], actions: [[0], [2], [0], [5], [5]], next: [[1], [4], [9], [0], [3]], ends: [2, 4])
        let r = Fidelity.roughness(d, observationScale: [2], actionScale: [2])
        #expect(r.observations == 1.625)
        #expect(r.actions == 4)
        // A straight line is perfectly smooth.
        let line = try Self.dataset(observations: [[0], [1], [2]], actions: [[1], [1], [1]], next: [[1], [2], [3]], ends: [2])
        let smooth = Fidelity.roughness(line, observationScale: [1], actionScale: [1])
        #expect(smooth.observations == 0 && smooth.actions == 0)
    }

    /// W1 of {0, 1} and {0, 1, 2, 3}: ∫|F − G| = 0.25·1 + 0.5·1 + 0.25·1 = 1; a shift by c costs c.
    @Test func wassersteinByHand() {
        #expect(Fidelity.wasserstein1([0, 1], [0, 1, 2, 3]) == 1)
        #expect(Fidelity.wasserstein1([3, 1, 0, 2], [0, 1]) == 1)
        #expect(abs(Fidelity.wasserstein1([0, 1, 2], [0.5, 1.5, 2.5]) - 0.5) < 1e-12)  // 3 × (1/3 · 0.5)
        #expect(Fidelity.wasserstein1([1, 2, 3], [3, 2, 1]) == 0)
        let t = Tensor([0, 10, 1, 10], shape: [2, 2]), u = Tensor([0, 14, 1, 14, 2, 14, 3, 14], shape: [4, 2])
        #expect(Fidelity.marginalW1(t, u, scale: [2, 4]) == [0.5, 1])
    }

    /// σ and the mean one-step change computed here by hand (population std, as the reference uses).
    static func handStatistics(_ d: OfflineDataset) -> (std: [Double], change: Double) {
        let o = d.observationDim, n = d.count, s = d.observations.scalars, t = d.nextObservations.scalars
        var std = [Double]()
        for j in 0..<o {
            let x: [Double] = (0..<n).map { Double(s[$0 * o + j]) }
            let mean: Double = x.reduce(0, +) / Double(n)
            let variance: Double = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            std.append(variance.squareRoot())
        }
        var change = 0.0
        for i in 0..<n {
            var sq = 0.0
            for j in 0..<o {
                let d: Double = (Double(t[i * o + j]) - Double(s[i * o + j])) / std[j]
                sq += d * d
            }
            change += sq.squareRoot() / Double(n)
        }
        return (std, change)
    }

    /// Synthetic rows: real (s, a) with s′ = f(s, a) + δᵢ on the angular velocity (δᵢ = 0.01·(i + 1)
    /// for 10 rows), so row i's error is δᵢ/σ₂ and the relative error (mean δ)/σ₂ ÷ the real
    /// one-step change; the median (nearest rank, index 5) is δ₆/σ₂ and the 90th percentile δ₁₀/σ₂.
    @Test func relativeDynamicsErrorByHand() throws {
        let env = try Environments.make("pendulum")
        let rows = Array(0..<10)
        var synthetic = Self.real.subset(rows)
        let truth = try env.trueNextObservations(of: synthetic)
        var next = [Float]()
        for i in rows { next += [Float(truth[i][0]), Float(truth[i][1]), Float(truth[i][2] + 0.01 * Double(i + 1))] }
        synthetic.nextObservations = Tensor(next, shape: [10, 3])
        let m = try SyntheticDataMetrics(synthetic, environment: env, reference: FidelityReference(real: Self.real, source: "real"))
        let (std, change) = Self.handStatistics(Self.real)
        let expected = 0.055 / std[2]  // mean of 0.01 … 0.10
        // Float storage of s′ (about 1e-7 relative on values up to 8) bounds the agreement.
        #expect(abs(m.dynamicsError - expected) < 1e-5)
        #expect(abs(m.realOneStepChange! - change) < 1e-9)
        #expect(abs(m.relativeDynamicsError! - expected / change) < 1e-5)
        #expect(abs(m.relativeDynamicsErrorMedian! - 0.06 / std[2] / change) < 1e-5)
        #expect(abs(m.relativeDynamicsErrorP90! - 0.10 / std[2] / change) < 1e-5)
        #expect(m.units == "real" && m.ambiguousRows == 0)
    }

    /// A perfect copy of real transitions: no dynamics error (up to Float storage), no marginal
    /// distance, the real data's own roughness, nothing out of bounds.
    @Test func perfectCopyScoresZero() throws {
        let env = try Environments.make("pendulum")
        let m = try SyntheticDataMetrics(Self.real, environment: env, reference: FidelityReference(real: Self.real, source: "real"))
        #expect(m.dynamicsError < 1e-5 && m.relativeDynamicsError! < 1e-4)
        #expect(m.observationW1Max == 0 && m.actionW1Max == 0)
        #expect(m.roughnessObservations == m.realRoughnessObservations && m.roughnessActions == m.realRoughnessActions)
        #expect(m.outOfBoundsFraction == 0 && m.outOfBoundsAnyFraction == 0)
    }

    /// The same on pointmaze, whose collected data has the ball resting on walls: positions stored as
    /// Float (3.4 → 3.4000001) still replay exactly (docs/environments.md §2, the cell tests' slack).
    @Test func perfectCopyOfPointmazeScoresZero() throws {
        let real = try DataCollection.collect(environment: "pointmaze-umaze", quality: .mixed, steps: 6000, seed: 0)
        let m = try SyntheticDataMetrics(real, environment: try Environments.make("pointmaze-umaze"), reference: FidelityReference(real: real, source: "real"))
        #expect(m.dynamicsError < 1e-5 && m.relativeDynamicsError! < 1e-4, "\(m.dynamicsError)")
    }

    /// The units are the reference's σ, not the synthetic data's own: the same rows measured against
    /// a reference twice as wide score half the error.
    @Test func unitsAreTheReferences() throws {
        let env = try Environments.make("pendulum")
        var synthetic = Self.real.subset(Array(0..<20))
        synthetic.nextObservations = synthetic.nextObservations + Tensor([Float](repeating: 0.05, count: 60), shape: [20, 3])
        let (std, _) = Self.handStatistics(Self.real)
        let a = try SyntheticDataMetrics(synthetic, environment: env, reference: FidelityReference(real: Self.real, source: "real"))
        let b = try SyntheticDataMetrics(synthetic, environment: env, reference: FidelityReference(observationStd: std.map { 2 * $0 }, source: "wide"))
        #expect(abs(a.dynamicsError - 2 * b.dynamicsError) < 1e-6)
        let own = try SyntheticDataMetrics(synthetic, environment: env, reference: FidelityReference(real: synthetic, source: "own"))
        #expect(abs(own.dynamicsError - a.dynamicsError) > 1e-3)
        #expect(b.units == "wide" && b.relativeDynamicsError == nil && b.observationW1 == nil)
    }

    /// Pendulum's box is cos, sin ∈ [−1, 1]: with σ = (0.5, 0.5, 2), cos θ = 1.002 is 0.004 σ out
    /// (inside the default 0.05 σ tolerance), 1.2 is 0.4 σ out, exactly ±1 is inside.
    @Test func outOfBoundsToleranceAtOne() throws {
        let env = try Environments.make("pendulum")
        let inside: [Float] = [1, 0, 0], hair: [Float] = [1.002, 0, 0], far: [Float] = [1.2, 0, 0], minus: [Float] = [-1, 0, 0]
        let d = try Self.dataset(observations: [inside, hair, far, minus], actions: [[0], [0], [0], [0]], next: [inside, inside, inside, minus], ends: [3])
        let reference = FidelityReference(observationStd: [0.5, 0.5, 2], source: "σ")
        let m = try SyntheticDataMetrics(d, environment: env, reference: reference)
        #expect(m.outOfBoundsFraction == 0.25 && m.outOfBoundsAnyFraction == 0.5)
        #expect(abs(m.outOfBoundsMaxExcess! - 0.4) < 1e-6)  // Float(1.2) − 1 = 0.2000000477
        #expect(abs(m.outOfBoundsMeanExcess! - 0.202) < 1e-6)
        let strict = try SyntheticDataMetrics(d, environment: env, reference: reference, outOfBoundsTolerance: 0)
        #expect(strict.outOfBoundsFraction == 0.5)
        let loose = try SyntheticDataMetrics(d, environment: env, reference: reference, outOfBoundsTolerance: 0.5)
        #expect(loose.outOfBoundsFraction == 0)
    }
}
