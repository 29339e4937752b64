import Foundation
import TensorCore

/// Reach goals among 8 circular hazards (like Safety-Gymnasium's SafetyPointGoal1; docs/environments.md §4).
/// Observation (x, y, vx, vy, gx − x, gy − y, 16-bin hazard pseudo-lidar); reward d_prev − d, +1 on
/// reaching the goal (d ≤ 0.3), which is then redrawn; cost 1 inside any hazard (d < 0.2). 500 steps.
/// Goal and hazards are hidden state: `infos/goal` and `infos/hazards`.
public final class SafeGoal: Environment {
    public static let body = PointMass(dt: 0.05, gain: 4, damping: 1, maxSpeed: 1, limit: 2)
    public static let hazardCount = 8, lidarBins = 16
    public static let goalRadius = 0.3, hazardRadius = 0.2
    // Keep-out radii for placement: agent, goal, hazards.
    static let agentKeepout = 0.4, goalKeepout = 0.305, hazardKeepout = 0.18, extent = 1.5

    public private(set) var position = [0.0, 0.0]
    public private(set) var velocity = [0.0, 0.0]
    public private(set) var goal = [0.0, 0.0]
    public private(set) var hazards: [[Double]] = []
    private var previousDistance = 0.0
    private var steps = 0
    private var rng = RandomGenerator(seed: 0)

    public init() {}

    public var spec: EnvironmentSpec {
        EnvironmentSpec(name: "safe-goal", summary: "reach goals among 8 hazards, cost inside a hazard (like SafetyPointGoal1)",
                        observationSpace: Box(low: [-2, -2, -1, -1, -4, -4] + .init(repeating: 0, count: 16),
                                              high: [2, 2, 1, 1, 4, 4] + .init(repeating: 1, count: 16)),
                        actionSpace: Box(repeating: 1, count: 2), episodeLength: 500, hasCost: true,
                        infoFields: ["goal": 2, "hazards": 2 * Self.hazardCount], behaviors: ["random", "safe-slow", "fast-unsafe"],
                        reference: References.safeGoal)
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double { ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1])).squareRoot() }

    /// The world-frame hazard pseudo-lidar: bin of each hazard's bearing, linear falloff to 3 m,
    /// spread to the two neighbouring bins by the fractional bearing.
    public static func lidar(position p: [Double], hazards: [[Double]]) -> [Double] {
        var o = [Double](repeating: 0, count: lidarBins)
        let w = 2 * Double.pi / Double(lidarBins)
        for h in hazards {
            let d = distance(h, p)
            var angle = Foundation.atan2(h[1] - p[1], h[0] - p[0])
            if angle < 0 { angle += 2 * .pi }
            let b = Swift.min(Int(angle / w), lidarBins - 1)
            let s = Swift.max(0, 3 - d) / 3
            let f = angle / w - Double(b)
            o[b] = Swift.max(o[b], s)
            o[(b + 1) % lidarBins] = Swift.max(o[(b + 1) % lidarBins], f * s)
            o[(b + lidarBins - 1) % lidarBins] = Swift.max(o[(b + lidarBins - 1) % lidarBins], (1 - f) * s)
        }
        return o
    }

    static func observe(position p: [Double], velocity v: [Double], goal g: [Double], hazards: [[Double]]) -> [Double] {
        p + v + [g[0] - p[0], g[1] - p[1]] + lidar(position: p, hazards: hazards)
    }

    /// d_prev − d, +1 on reaching the goal (d ≤ 0.3), clipped to ±10; both distances to the goal
    /// held before the step (a reached goal is redrawn only afterwards).
    public static func reward(previousDistance: Double, distance d: Double) -> Double {
        Swift.min(Swift.max(previousDistance - d + (d <= goalRadius ? 1 : 0), -10), 10)
    }

    public static func cost(position p: [Double], hazards: [[Double]]) -> Double {
        hazards.contains { distance($0, p) < hazardRadius } ? 1 : 0
    }

    /// A uniform point at least keepout_i + keepout_j from every placed object; nil after 10k tries.
    private func place(keepout: Double, avoiding placed: [([Double], Double)]) -> [Double]? {
        let lo = -Self.extent + keepout, hi = Self.extent - keepout
        for _ in 0..<10_000 {
            let p = [rng.uniform(lo, hi), rng.uniform(lo, hi)]
            if placed.allSatisfy({ Self.distance($0.0, p) >= $0.1 + keepout }) { return p }
        }
        return nil
    }

    private var observation: [Double] { Self.observe(position: position, velocity: velocity, goal: goal, hazards: hazards) }

    public func reset(seed: UInt64) -> [Double] {
        rng = RandomGenerator(seed: seed)
        // Agent, goal, then the hazards, in turn (the layout is always feasible at these densities).
        position = place(keepout: Self.agentKeepout, avoiding: [])!
        var placed: [([Double], Double)] = [(position, Self.agentKeepout)]
        goal = place(keepout: Self.goalKeepout, avoiding: placed)!
        placed.append((goal, Self.goalKeepout))
        hazards = []
        for _ in 0..<Self.hazardCount {
            let h = place(keepout: Self.hazardKeepout, avoiding: placed) ?? [Self.extent * 2, Self.extent * 2]
            hazards.append(h)
            placed.append((h, Self.hazardKeepout))
        }
        velocity = [0, 0]
        previousDistance = Self.distance(position, goal)
        steps = 0
        return observation
    }

    public func step(_ action: [Double]) -> StepResult {
        let a = spec.actionSpace.clip(action)
        (position, velocity) = Self.body.step(position: position, velocity: velocity, action: a)
        steps += 1
        let d = Self.distance(position, goal)
        let reward = Self.reward(previousDistance: previousDistance, distance: d)
        let cost = Self.cost(position: position, hazards: hazards)
        var terminated = false
        previousDistance = d
        if d <= Self.goalRadius {
            let placed = [(position, Self.agentKeepout)] + hazards.map { ($0, Self.hazardKeepout) }
            if let g = place(keepout: Self.goalKeepout, avoiding: placed) {
                goal = g
                previousDistance = Self.distance(position, goal)
            } else {
                terminated = true  // no room for a new goal
            }
        }
        return StepResult(observation: observation, reward: reward, cost: cost, terminated: terminated, truncated: steps >= spec.episodeLength)
    }

    public var info: [String: [Double]] { ["goal": goal, "hazards": hazards.flatMap { $0 }] }

    /// Goal-relative channels use the stored (pre-step) goal: after a goal is reached, the file's
    /// next observation shows the new goal, which no transition function can know.
    public func nextObservation(after observation: [Double], action: [Double], info: [String: [Double]]) -> [Double] {
        let g = Self.goal(observation: observation, info: info)
        let hz = Self.hazards(info: info) ?? []
        let (p, v) = Self.body.step(position: Array(observation[0..<2]), velocity: Array(observation[2..<4]), action: spec.actionSpace.clip(action))
        return Self.observe(position: p, velocity: v, goal: g, hazards: hz)
    }

    /// The goal at a row: `infos/goal`, else p + (g − p) from the observation.
    static func goal(observation: [Double], info: [String: [Double]]) -> [Double] {
        info["goal"] ?? [observation[0] + observation[4], observation[1] + observation[5]]
    }

    /// Hazard centres from `infos/hazards`, if present.
    static func hazards(info: [String: [Double]]) -> [[Double]]? {
        info["hazards"].map { flat in Swift.stride(from: 0, to: flat.count - 1, by: 2).map { [flat[$0], flat[$0 + 1]] } }
    }

    /// Checks the widths of the infos a row supplies.
    private func checkInfo(_ info: [String: [Double]]) throws {
        for (k, width) in spec.infoFields { if let v = info[k], v.count != width {
            throw EnvironmentError.wrongSize("infos/\(k) row", environment: spec.name, expected: width, found: v.count)
        } }
    }

    /// `step`'s reward, exact across a goal redraw: d_prev and d are both taken to the goal before
    /// the step (`infos/goal`, else p + (g − p) of the pre-step observation), never to the redrawn goal
    /// that the next observation shows. Float32 rows can flip the +1 only within rounding of d = 0.3.
    public func reward(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]],
                       kind: RewardKind) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation, kind: kind)
        try checkInfo(info)
        let g = Self.goal(observation: observation, info: info)
        return Self.reward(previousDistance: Self.distance(Array(observation[0..<2]), g), distance: Self.distance(Array(nextObservation[0..<2]), g))
    }

    /// `step`'s cost at the next position. Needs `infos/hazards`: the lidar does not determine the
    /// hazard positions, so data without them (e.g. generated rows) cannot be cost-scored exactly.
    public func cost(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]]) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation)
        try checkInfo(info)
        guard let hz = Self.hazards(info: info) else { throw EnvironmentError.missingInfo("hazards", environment: spec.name, purpose: "the hazard cost") }
        return Self.cost(position: Array(nextObservation[0..<2]), hazards: hz)
    }

    func desiredVelocity(_ name: String) -> [Double] {
        let toGoal = [goal[0] - position[0], goal[1] - position[1]]
        let dg = Swift.max(Self.distance(goal, position), 1e-9)
        let u = toGoal.map { $0 / dg }
        guard name == "safe-slow" else { return u }  // fast-unsafe: straight at the goal
        var vd = u.map { 0.6 * $0 }
        for h in hazards {
            let dh = Self.distance(position, h)
            let clearance = dh - Self.hazardRadius
            guard clearance < 0.25 else { continue }
            let w = (0.25 - Swift.max(clearance, 0)) / 0.25
            let n = dh > 1e-9 ? [(position[0] - h[0]) / dh, (position[1] - h[1]) / dh] : [1.0, 0.0]
            var t = [-n[1], n[0]]
            if t[0] * toGoal[0] + t[1] * toGoal[1] < 0 { t = [n[1], -n[0]] }
            vd = (0..<2).map { vd[$0] + 1.2 * w * n[$0] + 0.8 * w * t[$0] }
        }
        let speed = (vd[0] * vd[0] + vd[1] * vd[1]).squareRoot()
        return speed > 0.6 ? vd.map { $0 * 0.6 / speed } : vd
    }

    public func behaviorAction(_ name: String, rng: RandomGenerator) -> [Double] {
        guard name != "random" else { return randomAction(spec.actionSpace, rng: rng) }
        return Self.body.track(desiredVelocity(name), velocity: velocity)
    }
}
