import Foundation
import TensorCore

/// A box of per-dimension bounds.
public struct Box: Codable, Sendable, Equatable {
    public var low: [Double]
    public var high: [Double]
    public init(low: [Double], high: [Double]) { self.low = low; self.high = high }
    public init(repeating bound: Double, count: Int) { self.init(low: .init(repeating: -bound, count: count), high: .init(repeating: bound, count: count)) }
    public var dimension: Int { low.count }
    public func clip(_ x: [Double]) -> [Double] { (0..<x.count).map { Swift.min(Swift.max(x[$0], low[$0]), high[$0]) } }
}

/// Returns that define a normalized score, (R − random) / (expert − random) (D4RL / DSRL), and the
/// cost limit κ of safe tasks. Frozen constants, measured by `diffuse env references`.
public struct ReferenceScores: Codable, Sendable, Equatable {
    public var random: Double
    public var expert: Double
    /// κ: an episode is safe iff (cost + e) / (κ + e) ≤ 1 (DSRL; e = 1 if κ = 0). nil: no cost.
    public var costLimit: Double?

    public func normalizedReturn(_ r: Double) -> Double { (r - random) / (expert - random) }
    /// DSRL's normalized cost.
    public func normalizedCost(_ c: Double) -> Double? {
        guard let k = costLimit else { return nil }
        let e: Double = k == 0 ? 1 : 0
        return (c + e) / (k + e)
    }
}

/// What an environment is: spaces, episode length, hidden-state fields, scripted behaviors.
public struct EnvironmentSpec: Sendable {
    public var name: String
    public var summary: String
    public var observationSpace: Box
    public var actionSpace: Box
    /// Steps before `truncated`.
    public var episodeLength: Int
    public var hasCost: Bool
    /// Hidden state saved per step under `infos/` (name → width).
    public var infoFields: [String: Int]
    /// Scripted behavior policies by name (see `behaviorAction`).
    public var behaviors: [String]
    public var reference: ReferenceScores
    /// The reward variants `Environment.reward(…, kind:)` can compute; `.dense` is what `step` returns.
    public var rewardKinds: [RewardKind] = [.dense]
}

/// Which reward function scores a transition (docs/environments.md §2: pointmaze has D4RL's sparse
/// variant; the other environments define only the one `step` returns).
public enum RewardKind: String, Codable, Sendable, CaseIterable {
    /// What `step` returns.
    case dense
    /// pointmaze: 1[‖p′ − G‖ ≤ 0.5].
    case sparse
}

/// One step's outcome (Gymnasium semantics; `cost` is 0 for tasks without a cost).
public struct StepResult: Sendable {
    public var observation: [Double]
    public var reward: Double
    public var cost: Double
    /// The MDP ended (D4RL `terminals`).
    public var terminated: Bool
    /// The time limit cut the episode (D4RL `timeouts`).
    public var truncated: Bool
}

/// A built-in environment: pure Swift, Float64 inside, deterministic given the reset seed
/// (docs/environments.md). `step` clips the action to the action box first.
public protocol Environment: AnyObject {
    var spec: EnvironmentSpec { get }
    /// Starts an episode; every random draw of the episode derives from `seed`.
    func reset(seed: UInt64) -> [Double]
    func step(_ action: [Double]) -> StepResult
    /// Hidden state behind the current observation (the `infos/` fields).
    var info: [String: [Double]] { get }
    /// The exact transition: the observation after `action` from a state given by `observation` and
    /// `info` (as a dataset row stores them), so the dynamics error of synthetic data is measurable.
    func nextObservation(after observation: [Double], action: [Double], info: [String: [Double]]) -> [Double]
    /// The exact reward r(s, a, s′) of a transition given as a dataset row stores it (`info`: the
    /// hidden state at s, the `infos/` fields). `.dense` equals `step`'s reward; `kind` must be one
    /// of `spec.rewardKinds`. Throws for a kind the environment lacks, wrong sizes, or missing infos.
    func reward(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]],
                kind: RewardKind) throws -> Double
    /// The exact cost of a transition (0 for environments without a cost), as `step` returns it.
    func cost(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]]) throws -> Double
    /// The scripted behavior policy `name` (one of `spec.behaviors`) at the current state.
    func behaviorAction(_ name: String, rng: RandomGenerator) -> [Double]
    /// Why the current episode ended early when the simulation itself failed (a MuJoCo state gone
    /// NaN or exploding), so that callers stop with that reason instead of using the data; nil
    /// otherwise. The pure-Swift environments never fail.
    var failure: String? { get }
}

extension Environment {
    public var failure: String? { nil }
}

extension Environment {
    /// Checks a transition's sizes and the reward kind before scoring it (shared by the environments'
    /// `reward` and `cost`).
    func checkTransition(observation: [Double], action: [Double], nextObservation: [Double], kind: RewardKind = .dense) throws {
        let s = spec
        guard s.rewardKinds.contains(kind) else {
            throw EnvironmentError.unsupportedRewardKind(kind.rawValue, environment: s.name, known: s.rewardKinds.map(\.rawValue))
        }
        for (field, values, width) in [("observation", observation, s.observationSpace.dimension), ("action", action, s.actionSpace.dimension),
                                       ("next observation", nextObservation, s.observationSpace.dimension)] where values.count != width {
            throw EnvironmentError.wrongSize(field, environment: s.name, expected: width, found: values.count)
        }
    }

    /// Rewards (of `kind`) and costs (0 without a cost) of every row of `dataset`, from each row's
    /// observation, action, next observation and `infos/` fields — to score synthetic data exactly.
    public func score(_ dataset: OfflineDataset, kind: RewardKind = .dense) throws -> (rewards: [Double], costs: [Double]) {
        (try rewards(of: dataset, kind: kind), try costs(of: dataset))
    }

    /// The reward of every row of `dataset` (see `score`).
    public func rewards(of dataset: OfflineDataset, kind: RewardKind = .dense) throws -> [Double] {
        try eachRow(of: dataset) { try reward(observation: $0, action: $1, nextObservation: $2, info: $3, kind: kind) }
    }

    /// The cost of every row of `dataset` (see `score`). safe-goal needs `infos/hazards`.
    public func costs(of dataset: OfflineDataset) throws -> [Double] {
        try eachRow(of: dataset) { try cost(observation: $0, action: $1, nextObservation: $2, info: $3) }
    }

    /// The exact next observation f(s, a) of every row (the row's own next observation is ignored) —
    /// what synthetic transitions are compared with to measure dynamics error.
    public func trueNextObservations(of dataset: OfflineDataset) throws -> [[Double]] {
        try eachRow(of: dataset) { s, a, _, info in nextObservation(after: s, action: a, info: info) }
    }

    /// ‖s′ − f(s, a)‖₂ of every row of `dataset` in environment units: how far its stored next
    /// observation is from the exact transition — the dynamics error of synthetic data (docs/pgd.md §6).
    public func dynamicsErrors(of dataset: OfflineDataset) throws -> [Double] {
        let next = dataset.nextObservations.scalars, o = dataset.observationDim
        return try trueNextObservations(of: dataset).enumerated().map { i, exact in
            exact.enumerated().reduce(0.0) { acc, e in let d = e.element - Double(next[i * o + e.offset]); return acc + d * d }.squareRoot()
        }
    }

    /// `body(observation, action, next observation, info)` of every row, after checking the row sizes.
    private func eachRow<T>(of dataset: OfflineDataset,
                            _ body: ([Double], [Double], [Double], [String: [Double]]) throws -> T) throws -> [T] {
        let s = spec
        for (field, width, expected) in [("observation", dataset.observationDim, s.observationSpace.dimension),
                                         ("action", dataset.actionDim, s.actionSpace.dimension)] where width != expected {
            throw EnvironmentError.wrongSize(field, environment: s.name, expected: expected, found: width)
        }
        let n = dataset.count, o = s.observationSpace.dimension, a = s.actionSpace.dimension
        let obs = dataset.observations.scalars.map(Double.init), next = dataset.nextObservations.scalars.map(Double.init)
        let act = dataset.actions.scalars.map(Double.init)
        let infos = dataset.infos.filter { s.infoFields[$0.key] != nil }
        for (k, t) in infos where t.count != n * s.infoFields[k]! {
            throw EnvironmentError.wrongSize("infos/\(k) row", environment: s.name, expected: s.infoFields[k]!, found: t.count / Swift.max(n, 1))
        }
        let infoValues = infos.map { (key: $0.key, width: s.infoFields[$0.key]!, values: $0.value.scalars.map(Double.init)) }
        return try (0..<n).map { i in
            var info: [String: [Double]] = [:]
            for f in infoValues { info[f.key] = Array(f.values[(i * f.width)..<((i + 1) * f.width)]) }
            return try body(Array(obs[(i * o)..<((i + 1) * o)]), Array(act[(i * a)..<((i + 1) * a)]), Array(next[(i * o)..<((i + 1) * o)]), info)
        }
    }
}

/// Unknown environment or behavior names; transitions an environment cannot score.
public enum EnvironmentError: Error, Equatable, CustomStringConvertible {
    case unknownEnvironment(String, known: [String])
    case unknownBehavior(String, environment: String, known: [String])
    case unsupportedRewardKind(String, environment: String, known: [String])
    case wrongSize(String, environment: String, expected: Int, found: Int)
    case missingInfo(String, environment: String, purpose: String)
    case simulationFailed(String)

    public var description: String {
        switch self {
        case let .unknownEnvironment(n, known): return "unknown environment '\(n)' (known: \(known.joined(separator: ", ")))"
        case let .unknownBehavior(b, e, known): return "\(e) has no behavior '\(b)' (known: \(known.joined(separator: ", ")))"
        case let .unsupportedRewardKind(k, e, known): return "\(e) has no \(k) reward (known: \(known.joined(separator: ", ")))"
        case let .wrongSize(f, e, expected, found): return "\(e) expects \(expected) values per \(f), got \(found)"
        case let .missingInfo(f, e, why): return "\(e): \(why) needs infos/\(f), which the data does not have"
        case let .simulationFailed(why): return why
        }
    }
}

extension RandomGenerator {
    /// A uniform Double in [low, high).
    public func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextDouble() }

    /// A standard normal Double (Box–Muller; two uniforms per draw keep streams aligned).
    public func gaussian() -> Double {
        let u1 = Swift.max(nextDouble(), 1e-300), u2 = nextDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

/// The holonomic point mass shared by the safe tasks (docs/environments.md §3):
/// v′ = v + dt(K a − c v), rescaled to ‖v′‖ ≤ vmax; p′ = p + dt v′; walls at ±L stop an axis.
public struct PointMass: Sendable {
    public var dt: Double, gain: Double, damping: Double, maxSpeed: Double, limit: Double

    public func step(position p: [Double], velocity v: [Double], action a: [Double]) -> (position: [Double], velocity: [Double]) {
        var nv = (0..<2).map { v[$0] + dt * (gain * a[$0] - damping * v[$0]) }
        let speed = (nv[0] * nv[0] + nv[1] * nv[1]).squareRoot()
        if speed > maxSpeed { nv = nv.map { $0 * maxSpeed / speed } }
        var np = (0..<2).map { p[$0] + dt * nv[$0] }
        for i in 0..<2 where Swift.abs(np[i]) > limit {
            np[i] = np[i] > 0 ? limit : -limit
            nv[i] = 0
        }
        return (np, nv)
    }

    /// The action that makes v′ = vd (before the speed cap), clipped to [−1, 1]: track(vd).
    public func track(_ vd: [Double], velocity v: [Double]) -> [Double] {
        (0..<2).map { Swift.min(Swift.max((vd[$0] - v[$0] + dt * damping * v[$0]) / (gain * dt), -1), 1) }
    }
}

/// Uniform random actions in the box (every env's `random` behavior).
func randomAction(_ box: Box, rng: RandomGenerator) -> [Double] {
    (0..<box.dimension).map { rng.uniform(box.low[$0], box.high[$0]) }
}
