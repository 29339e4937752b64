import Foundation
import TensorCore

/// Run clockwise along a circle of radius R = 7 without leaving the band |x| ≤ 6 (like DSRL's
/// OfflineBallCircle; docs/environments.md §3). Reward and cost use the post-step state:
/// r = 0.1 (y vx − x vy) / (1 + |ρ − R|) − 0.005 ‖a‖, c = 1[|x| > 6]. 200 steps, never terminates.
public final class SafeCircle: Environment {
    public static let radius = 7.0, xLimit = 6.0
    public static let body = PointMass(dt: 0.1, gain: 8, damping: 0.5, maxSpeed: 6, limit: 10)

    public private(set) var position = [0.0, 0.0]
    public private(set) var velocity = [0.0, 0.0]
    private var steps = 0

    public init() {}

    public var spec: EnvironmentSpec {
        EnvironmentSpec(name: "safe-circle", summary: "run clockwise on a circle, cost outside |x| <= 6 (like DSRL BallCircle)",
                        observationSpace: Box(low: [-1, -1, -1.2, -1.2, -0.7, -0.7], high: [1, 1, 1.2, 1.2, 0.8, 1]),
                        actionSpace: Box(repeating: 1, count: 2), episodeLength: 200, hasCost: true, infoFields: [:],
                        behaviors: ["random", "safe-slow", "safe", "fast-unsafe"], reference: References.safeCircle)
    }

    static func observe(_ p: [Double], _ v: [Double]) -> [Double] {
        let rho = (p[0] * p[0] + p[1] * p[1]).squareRoot()
        return [p[0] / 10, p[1] / 10, v[0] / 5, v[1] / 5, (rho - radius) / 10, (xLimit - Swift.abs(p[0])) / xLimit]
    }

    /// Position and velocity behind an observation (inverting `observe`'s scaling).
    static func state(_ observation: [Double]) -> (position: [Double], velocity: [Double]) {
        ([observation[0] * 10, observation[1] * 10], [observation[2] * 5, observation[3] * 5])
    }

    /// The reward on the post-step state and the clipped action.
    public static func reward(position p: [Double], velocity v: [Double], action a: [Double]) -> Double {
        let rho = (p[0] * p[0] + p[1] * p[1]).squareRoot()
        return 0.1 * (p[1] * v[0] - p[0] * v[1]) / (1 + Swift.abs(rho - radius)) - 0.005 * (a[0] * a[0] + a[1] * a[1]).squareRoot()
    }

    public static func cost(position p: [Double]) -> Double { Swift.abs(p[0]) > xLimit ? 1 : 0 }

    public func reset(seed: UInt64) -> [Double] {
        let rng = RandomGenerator(seed: seed)
        var p: [Double]
        repeat { p = [rng.uniform(-4, 4), rng.uniform(-4, 4)] } while !(2...4).contains((p[0] * p[0] + p[1] * p[1]).squareRoot())
        position = p
        velocity = [0, 0]
        steps = 0
        return Self.observe(position, velocity)
    }

    public func step(_ action: [Double]) -> StepResult {
        let a = spec.actionSpace.clip(action)
        (position, velocity) = Self.body.step(position: position, velocity: velocity, action: a)
        steps += 1
        return StepResult(observation: Self.observe(position, velocity), reward: Self.reward(position: position, velocity: velocity, action: a),
                          cost: Self.cost(position: position), terminated: false, truncated: steps >= spec.episodeLength)
    }

    public var info: [String: [Double]] { [:] }

    public func nextObservation(after observation: [Double], action: [Double], info: [String: [Double]]) -> [Double] {
        let s = Self.state(observation)
        let (p, v) = Self.body.step(position: s.position, velocity: s.velocity, action: spec.actionSpace.clip(action))
        return Self.observe(p, v)
    }

    /// `step`'s reward from the next observation's (p, v) and the clipped action. Exact up to the
    /// rounding of p = 10 · (x/10), which can only matter at the cost's edge |x| = 6 (float32 rows).
    public func reward(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]],
                       kind: RewardKind) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation, kind: kind)
        let s = Self.state(nextObservation)
        return Self.reward(position: s.position, velocity: s.velocity, action: spec.actionSpace.clip(action))
    }

    public func cost(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]]) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation)
        return Self.cost(position: Self.state(nextObservation).position)
    }

    /// Desired velocity of each scripted behavior: tangential speed plus a radial correction.
    func desiredVelocity(_ name: String) -> [Double] {
        let p = position
        let rho = Swift.max((p[0] * p[0] + p[1] * p[1]).squareRoot(), 1e-9)
        let radial = [p[0] / rho, p[1] / rho], tangent = [p[1] / rho, -p[0] / rho]  // clockwise
        func circle(speed: Double, towards r: Double) -> [Double] { (0..<2).map { speed * tangent[$0] + (r - rho) * radial[$0] } }
        switch name {
        case "fast-unsafe": return circle(speed: 6, towards: Self.radius)
        case "safe-slow": return circle(speed: 4, towards: 5)
        default:  // "safe": the fast circle, with the outward x-velocity cut near the band's edge
            var vd = circle(speed: 5, towards: Self.radius)
            let side: Double = p[0] >= 0 ? 1 : -1, ax = Swift.abs(p[0])
            var outward = side * vd[0]
            if ax > 4.5 { outward = Swift.min(outward, 0) }
            if ax > 5.5 { outward = Swift.min(outward, -2 * (ax - 5.5)) }
            vd[0] = side * outward
            return vd
        }
    }

    public func behaviorAction(_ name: String, rng: RandomGenerator) -> [Double] {
        guard name != "random" else { return randomAction(spec.actionSpace, rng: rng) }
        return Self.body.track(desiredVelocity(name), velocity: velocity)
    }
}
