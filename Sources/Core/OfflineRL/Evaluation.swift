import Foundation
import TensorCore

/// Results of evaluating a policy over seeded episodes.
public struct EvaluationResult: Codable, Sendable {
    public var environment: String
    public var episodes: Int
    public var returns: [Double]
    public var costs: [Double]
    public var returnMean: Double
    public var returnStd: Double
    /// (R − random) / (expert − random) × 100, as D4RL / DSRL report it.
    public var normalizedScoreMean: Double
    public var normalizedScoreStd: Double
    public var costMean: Double
    /// DSRL's normalized cost (cost / κ); ≤ 1 is safe. nil for tasks without a cost.
    public var normalizedCostMean: Double?
    /// Fraction of episodes with any cost (any constraint violation).
    public var violationRate: Double
    /// Fraction of episodes whose cost exceeds κ (unsafe by DSRL's criterion).
    public var unsafeRate: Double?
    /// DSRL's normalized return as a fraction, (R − R_min)/(R_max − R_min) (FISOR's tables).
    public var normalizedReturnMean: Double?
    public var normalizedReturnStd: Double?
    /// The κ the cost figures use (the environment's default unless the caller chose one).
    public var costLimit: Double?
    /// DSRL's verdict: the mean normalized cost is ≤ 1. nil for tasks without a cost.
    public var safe: Bool?
}

public enum Evaluation {
    /// Plays one episode in each environment (reset seeds seed, seed+1, …) in lockstep, so the policy
    /// acts on a batch of observations per step; `step(i, result)` sees every step of episode i in
    /// order, and `progress` the number of finished episodes. Returns the reset observations.
    /// Deterministic in `seed`. A simulation that fails (NaN, instability) stops with its reason.
    @discardableResult
    public static func play(_ policy: Policy, in envs: [any Environment], seed: UInt64, progress: ((Int) -> Void)? = nil,
                            step: (Int, StepResult) -> Void) throws -> [[Double]] {
        let initial = envs.enumerated().map { $0.element.reset(seed: seed &+ UInt64($0.offset)) }
        var observations = initial
        var active = Array(envs.indices)
        let rng = RandomGenerator(seed: seed ^ 0x5EED_E7A1)
        var finished = 0
        while !active.isEmpty {
            let actions = policy.actions(for: active.map { observations[$0] }, environments: active.map { envs[$0] }, rng: rng)
            var still: [Int] = []
            for (k, i) in active.enumerated() {
                let r = envs[i].step(actions[k])
                if let failure = envs[i].failure { throw EnvironmentError.simulationFailed("episode \(i): \(failure)") }
                step(i, r)
                observations[i] = r.observation
                if r.terminated || r.truncated { finished += 1 } else { still.append(i) }
            }
            if still.count != active.count { progress?(finished) }
            active = still
        }
        return initial
    }

    /// Runs `episodes` episodes (reset seeds seed, seed+1, …) in lockstep so that the policy acts on
    /// a batch of observations per step. Deterministic in `seed`.
    /// `costLimit` replaces the environment's default κ in the cost figures (safe tasks only).
    public static func run(_ policy: Policy, environment name: String, episodes: Int, seed: UInt64, costLimit: Double? = nil,
                           progress: ((Int) -> Void)? = nil) throws -> EvaluationResult {
        precondition(episodes > 0, "evaluate: episodes must be positive")
        let envs = try (0..<episodes).map { _ in try Environments.make(name) }
        let spec = envs[0].spec
        var returns = [Double](repeating: 0, count: episodes), costs = returns
        try play(policy, in: envs, seed: seed, progress: progress) { i, r in
            returns[i] += r.reward
            costs[i] += r.cost
        }
        func meanStd(_ x: [Double]) -> (Double, Double) {
            let m = x.reduce(0, +) / Double(x.count)
            return (m, (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count)).squareRoot())
        }
        var ref = spec.reference
        if let costLimit, ref.costLimit != nil { ref.costLimit = costLimit }
        let (rm, rs) = meanStd(returns)
        let (sm, ss) = meanStd(returns.map { 100 * ref.normalizedReturn($0) })
        let limit = ref.costLimit
        let (nm, ns) = meanStd(returns.map(ref.normalizedReturn))
        let normalizedCost = limit == nil ? nil : costs.compactMap { ref.normalizedCost($0) }.reduce(0, +) / Double(episodes)
        var result = EvaluationResult(environment: spec.name, episodes: episodes, returns: returns, costs: costs, returnMean: rm, returnStd: rs,
                                      normalizedScoreMean: sm, normalizedScoreStd: ss, costMean: costs.reduce(0, +) / Double(episodes),
                                      normalizedCostMean: normalizedCost,
                                      violationRate: Double(costs.filter { $0 > 0 }.count) / Double(episodes),
                                      unsafeRate: limit.map { k in Double(costs.filter { $0 > k }.count) / Double(episodes) })
        result.normalizedReturnMean = nm
        result.normalizedReturnStd = ns
        result.costLimit = limit
        result.safe = normalizedCost.map { $0 <= 1 }
        return result
    }
}
