import Foundation
import NN
import OfflineRL
import TensorCore

/// How good a synthetic dataset is, measured against the environment's exact equations
/// (docs/pgd.md §6): dynamics error of each transition against the true f(s, a), reward error
/// against the exact reward of that true transition, the target policy's log-likelihood of the
/// actions, and how often states leave the observation box.
public struct SyntheticDataMetrics: Codable, Sendable, Equatable {
    public var transitions: Int
    /// Mean and median over rows of ‖(s′ − f(s, a)) / σ_s‖₂, σ_s the per-dimension standard deviation
    /// of the reference observations (state-std units; dimensions with σ = 0 use 1).
    public var dynamicsError: Double
    public var dynamicsErrorMedian: Double
    /// Mean |r − r(s, a, f(s, a))|.
    public var rewardError: Double
    /// Mean log π(a | s) of the target policy (nil without one).
    public var meanLogLikelihood: Double?
    /// Fraction of rows whose s or s′ leaves the environment's observation box.
    public var outOfBoundsFraction: Double
    /// Fraction of rows marked terminal.
    public var terminalFraction: Double

    /// Measures `data` on `environment`. `stateScale`: σ_s per observation dimension (typically the
    /// real dataset's); `policy`: the target policy for the log-likelihood.
    public init(_ data: OfflineDataset, environment: any Environment, stateScale: [Double], policy: (any DifferentiablePolicy)? = nil) throws {
        let o = data.observationDim, n = data.count
        precondition(stateScale.count == o, "stateScale needs \(o) values")
        let truth = try environment.trueNextObservations(of: data)
        let next = data.nextObservations.scalars, obs = data.observations.scalars
        var errors = [Double](repeating: 0, count: n)
        var trueNext = [Float]()
        trueNext.reserveCapacity(n * o)
        for i in 0..<n {
            var e = 0.0
            for j in 0..<o {
                let d = (Double(next[i * o + j]) - truth[i][j]) / (stateScale[j] > 0 ? stateScale[j] : 1)
                e += d * d
            }
            errors[i] = e.squareRoot()
            trueNext.append(contentsOf: truth[i].map(Float.init))
        }
        // The exact reward of the true transition (s, a, f(s, a)).
        var exact = data
        exact.nextObservations = Tensor(trueNext, shape: [n, o])
        let trueRewards = try environment.rewards(of: exact)
        let rewards = data.rewards.scalars
        let box = environment.spec.observationSpace
        var outside = 0
        for i in 0..<n {
            let rows = [obs[(i * o)..<((i + 1) * o)], next[(i * o)..<((i + 1) * o)]]
            if rows.contains(where: { r in r.enumerated().contains { j, v in Double(v) < box.low[j] - 1e-6 || Double(v) > box.high[j] + 1e-6 } }) {
                outside += 1
            }
        }
        transitions = n
        dynamicsError = errors.reduce(0, +) / Double(Swift.max(n, 1))
        dynamicsErrorMedian = errors.sorted()[n / 2]
        rewardError = zip(rewards, trueRewards).map { abs(Double($0) - $1) }.reduce(0, +) / Double(Swift.max(n, 1))
        meanLogLikelihood = policy.map { p in Double(noGrad { p.logProbability(observations: data.observations, actions: data.actions).mean().item }) }
        outOfBoundsFraction = Double(outside) / Double(Swift.max(n, 1))
        terminalFraction = Double(data.terminals.sum().item) / Double(Swift.max(n, 1))
    }
}
