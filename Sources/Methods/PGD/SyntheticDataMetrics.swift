import Foundation
import NN
import OfflineRL
import TensorCore

/// How good a synthetic dataset is (docs/pgd.md §6.1): dynamics error of each transition against
/// the environment's exact f(s, a), relative to the real data's one-step change; reward error
/// against the exact reward of that true transition; window roughness and per-dimension marginal
/// fidelity next to the real data's; the target policy's log-likelihood of the actions; and how
/// often, and how far, states leave the observation box. Every σ is the real data's
/// (`FidelityReference`), never the synthetic data's own.
public struct SyntheticDataMetrics: Codable, Sendable, Equatable {
    public var transitions: Int
    /// Where σ came from (e.g. "real data real.hdf5").
    public var units: String?
    /// Rows left out of the dynamics and reward error because the environment marks them ambiguous
    /// (Hopper/Walker2d velocities at the ±10 clip: f(s, a) is not determined by s there).
    public var ambiguousRows: Int?
    /// Mean, median and 90th percentile over the measured rows of ‖(s′ − f(s, a)) / σ_s‖₂.
    public var dynamicsError: Double
    public var dynamicsErrorMedian: Double
    public var dynamicsErrorP90: Double?
    /// The real data's mean ‖(s′ − s) / σ_s‖₂: the error of predicting "nothing moves".
    public var realOneStepChange: Double?
    /// Dynamics error ÷ `realOneStepChange` (mean, median, 90th percentile): below 1 beats s′ = s.
    public var relativeDynamicsError: Double?
    public var relativeDynamicsErrorMedian: Double?
    public var relativeDynamicsErrorP90: Double?
    /// Mean |r − r(s, a, f(s, a))| over the measured rows.
    public var rewardError: Double
    /// Mean log π(a | s) of the target policy (nil without one).
    public var meanLogLikelihood: Double?
    /// Window roughness (`Fidelity.roughness`, σ units) of the synthetic data and of the real data.
    public var roughnessObservations: Double?
    public var roughnessActions: Double?
    public var realRoughnessObservations: Double?
    public var realRoughnessActions: Double?
    /// Per-dimension 1-D Wasserstein distance to the real data, in σ units, with max and mean.
    public var observationW1: [Double]?
    public var actionW1: [Double]?
    public var observationW1Max: Double?
    public var observationW1Mean: Double?
    public var actionW1Max: Double?
    public var actionW1Mean: Double?
    /// Fraction of rows whose s or s′ is more than `outOfBoundsTolerance` σ outside the
    /// environment's observation box.
    public var outOfBoundsFraction: Double
    /// The tolerance (σ units) and the fraction outside the box by any amount (> 1e-6 raw).
    public var outOfBoundsTolerance: Double?
    public var outOfBoundsAnyFraction: Double?
    /// How far out: the largest excess of any row, and the mean excess of the rows out by any
    /// amount, max over dimensions of (low − v or v − high) / σ.
    public var outOfBoundsMaxExcess: Double?
    public var outOfBoundsMeanExcess: Double?
    /// Fraction of rows marked terminal.
    public var terminalFraction: Double
    /// Fraction of rows whose next observation the environment's termination rule calls terminal
    /// (`TerminationRule`; nil where the environment has none): what a correct labelling would mark.
    public var ruleTerminalFraction: Double?

    /// The default out-of-bounds tolerance, in σ units: pendulum's cos θ, sin θ a few thousandths
    /// past ±1 (σ ≈ 0.7) are inside, a state a tenth of a σ past a wall is not.
    public static let defaultOutOfBoundsTolerance = 0.05

    /// Measures `data` with σ_s given directly (typically the real dataset's): the metrics that need
    /// real transitions (relative error, roughness, W1) stay nil.
    public init(_ data: OfflineDataset, environment: any Environment, stateScale: [Double], policy: (any DifferentiablePolicy)? = nil) throws {
        try self.init(data, environment: environment, reference: FidelityReference(observationStd: stateScale, source: "the given σ"), policy: policy)
    }

    /// Measures `data` on `environment` against `reference`; `policy`: the target policy for the
    /// log-likelihood; `outOfBoundsTolerance` in σ units.
    public init(_ data: OfflineDataset, environment: any Environment, reference: FidelityReference, policy: (any DifferentiablePolicy)? = nil,
                outOfBoundsTolerance: Double = SyntheticDataMetrics.defaultOutOfBoundsTolerance) throws {
        let o = data.observationDim, n = data.count
        let scale = reference.observationStd
        precondition(scale.count == o, "the reference has \(scale.count) observation dimensions, the data \(o)")
        let truth = try environment.trueNextObservations(of: data)
        let next = data.nextObservations.scalars, obs = data.observations.scalars
        func row(_ x: [Float], _ i: Int) -> [Double] { (0..<o).map { Double(x[i * o + $0]) } }
        // Rows the environment cannot judge (velocity clip) are counted and left out.
        let locomotion = environment as? Locomotion
        let ambiguous = (0..<n).map { i in (locomotion?.clippedVelocityRows([row(obs, i)]) ?? 0) > 0 }
        let measured = (0..<n).filter { !ambiguous[$0] }
        var errors = [Double]()
        errors.reserveCapacity(measured.count)
        var trueNext = [Float]()
        trueNext.reserveCapacity(n * o)
        for i in 0..<n { trueNext.append(contentsOf: truth[i].map(Float.init)) }
        for i in measured {
            var e = 0.0
            for j in 0..<o {
                let d = (Double(next[i * o + j]) - truth[i][j]) / scale[j]
                e += d * d
            }
            errors.append(e.squareRoot())
        }
        // The exact reward of the true transition (s, a, f(s, a)), on the measured rows.
        var exact = data.subset(measured)
        exact.nextObservations = Tensor(measured.flatMap { i in trueNext[(i * o)..<((i + 1) * o)] }, shape: [measured.count, o])
        let trueRewards = measured.isEmpty ? [] : try environment.rewards(of: exact)
        let rewards = data.rewards.scalars
        let m = Double(Swift.max(measured.count, 1))
        transitions = n
        units = reference.units
        ambiguousRows = n - measured.count
        let sorted = errors.sorted()
        dynamicsError = errors.reduce(0, +) / m
        dynamicsErrorMedian = Fidelity.quantile(sorted, 0.5)
        dynamicsErrorP90 = Fidelity.quantile(sorted, 0.9)
        rewardError = zip(measured, trueRewards).map { abs(Double(rewards[$0]) - $1) }.reduce(0, +) / m
        meanLogLikelihood = policy.map { p in Double(noGrad { p.logProbability(observations: data.observations, actions: data.actions).mean().item }) }
        terminalFraction = Double(data.terminals.sum().item) / Double(Swift.max(n, 1))
        if let rule = TerminationRule.of(environment: environment.spec.name) {
            ruleTerminalFraction = Double(rule.falls(in: data).filter { $0 }.count) / Double(Swift.max(n, 1))
        }

        // Out of bounds, in σ units past the box.
        let box = environment.spec.observationSpace
        var out = 0, any = 0, maxExcess = 0.0, sumExcess = 0.0
        for i in 0..<n {
            var excess = 0.0, outside = false, nonFinite = false
            for x in [obs, next] {
                for j in 0..<o {
                    let v = Double(x[i * o + j])
                    let past = Swift.max(box.low[j] - v, v - box.high[j])
                    // A non-finite value is out of bounds by any measure; its excess is not a number.
                    guard v.isFinite else { outside = true; nonFinite = true; continue }
                    if past > 1e-6 { outside = true }
                    excess = Swift.max(excess, past / scale[j])
                }
            }
            if outside { any += 1; sumExcess += excess }
            if nonFinite || (outside && excess > outOfBoundsTolerance) { out += 1 }
            maxExcess = Swift.max(maxExcess, excess)
        }
        outOfBoundsFraction = Double(out) / Double(Swift.max(n, 1))
        self.outOfBoundsTolerance = outOfBoundsTolerance
        outOfBoundsAnyFraction = Double(any) / Double(Swift.max(n, 1))
        outOfBoundsMaxExcess = maxExcess
        outOfBoundsMeanExcess = any > 0 ? sumExcess / Double(any) : 0

        // What needs the real transitions.
        guard let real = reference.data, let actionScale = reference.actionStd else { return }
        let change = Fidelity.meanOneStepChange(real, scale: scale)
        realOneStepChange = change
        if change > 0 {
            relativeDynamicsError = dynamicsError / change
            relativeDynamicsErrorMedian = dynamicsErrorMedian / change
            relativeDynamicsErrorP90 = dynamicsErrorP90.map { $0 / change }
        }
        let rough = Fidelity.roughness(data, observationScale: scale, actionScale: actionScale)
        let realRough = Fidelity.roughness(real, observationScale: scale, actionScale: actionScale)
        (roughnessObservations, roughnessActions) = (rough.observations, rough.actions)
        (realRoughnessObservations, realRoughnessActions) = (realRough.observations, realRough.actions)
        let wo = Fidelity.marginalW1(data.observations, real.observations, scale: scale)
        let wa = Fidelity.marginalW1(data.actions, real.actions, scale: actionScale)
        observationW1 = wo
        actionW1 = wa
        observationW1Max = wo.max()
        observationW1Mean = wo.reduce(0, +) / Double(Swift.max(wo.count, 1))
        actionW1Max = wa.max()
        actionW1Mean = wa.reduce(0, +) / Double(Swift.max(wa.count, 1))
    }
}
