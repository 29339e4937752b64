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
    /// The scripted behavior policy `name` (one of `spec.behaviors`) at the current state.
    func behaviorAction(_ name: String, rng: RandomGenerator) -> [Double]
}

/// Unknown environment or behavior names.
public enum EnvironmentError: Error, Equatable, CustomStringConvertible {
    case unknownEnvironment(String, known: [String])
    case unknownBehavior(String, environment: String, known: [String])

    public var description: String {
        switch self {
        case let .unknownEnvironment(n, known): return "unknown environment '\(n)' (known: \(known.joined(separator: ", ")))"
        case let .unknownBehavior(b, e, known): return "\(e) has no behavior '\(b)' (known: \(known.joined(separator: ", ")))"
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
