import Foundation
import TensorCore

/// A 2-D point mass in a D4RL maze2d grid (docs/environments.md §2): observation (x, y, vx, vy), force
/// a ∈ [−1, 1]², semi-implicit Euler with D4RL's constants, axis-by-axis wall collisions, dense
/// reward exp(−‖p − goal‖) after the step (D4RL's sparse 1[‖p − goal‖ ≤ 0.5] through
/// `reward(…, kind: .sparse)`), never terminates.
///
/// Evaluation uses the fixed goal G. Data collection (`movingTarget`) follows D4RL: the behavior
/// policy chases a random target cell, redrawn when reached, stored per step as `infos/goal`; the
/// rewards are those of the fixed goal G (D4RL relabels its maze2d rewards to the evaluation goal).
public final class PointMaze: Environment {
    public enum Layout: String, Sendable, CaseIterable {
        case umaze, medium

        /// D4RL's grids; row i, column j is the cell centred at (x, y) = (i, j).
        var rows: [String] {
            switch self {
            case .umaze: return ["#####", "#GOO#", "###O#", "#OOO#", "#####"]
            case .medium: return ["########", "#OO##OO#", "#OO#OOO#", "##OOO###", "#OO#OOO#", "#O#OO#O#", "#OOO#OG#", "########"]
            }
        }
        var episodeLength: Int { self == .umaze ? 300 : 600 }
    }

    // D4RL: dt 0.01, gear 100, mass 4.18879, damping 1, |v| clipped at 5; ball radius 0.1.
    public static let dt = 0.01, mass = 4.18879, radius = 0.1, maxSpeed = 5.0
    static let gain = 100 / mass, damping = 1 / mass
    /// Slack of the cell tests. It exceeds Float's rounding of a stored position (≤ 4.8e-7 below 8), so a
    /// ball resting on a wall (e.g. y = 3.4, stored as 3.4000001) replays from a dataset row as it moved:
    /// at 1e-9 the rounded edge reached into the wall row and 0.4 % of real rows failed their own replay.
    static let eps = 1e-6

    public let layout: Layout
    public let movingTarget: Bool
    let grid: [[Bool]]  // true = wall
    /// Free cells (including the goal), sorted by (row, column).
    public let cells: [[Int]]
    public let goalCell: [Int]
    /// next[target][cell]: the neighbour one BFS step closer to `target` (the expert's waypoints).
    private var nextCache: [[Int]: [[Int]: [Int]]] = [:]

    public private(set) var position = [0.0, 0.0]
    public private(set) var velocity = [0.0, 0.0]
    /// The cell the behavior policy steers to (G unless `movingTarget`).
    public private(set) var target = [0, 0]
    private var steps = 0
    private var rng = RandomGenerator(seed: 0)

    public init(layout: Layout, movingTarget: Bool = false) {
        self.layout = layout
        self.movingTarget = movingTarget
        let rows = layout.rows.map(Array.init)
        grid = rows.map { $0.map { $0 == "#" } }
        var free: [[Int]] = [], goal = [0, 0]
        for (i, row) in rows.enumerated() { for (j, c) in row.enumerated() where c != "#" {
            free.append([i, j])
            if c == "G" { goal = [i, j] }
        } }
        cells = free
        goalCell = goal
    }

    public var spec: EnvironmentSpec {
        EnvironmentSpec(name: "pointmaze-\(layout.rawValue)", summary: "point mass in the D4RL maze2d-\(layout.rawValue) grid, dense reward",
                        observationSpace: Box(low: [0, 0, -5, -5], high: [Double(grid.count - 1), Double(grid[0].count - 1), 5, 5]),
                        actionSpace: Box(repeating: 1, count: 2), episodeLength: layout.episodeLength, hasCost: false,
                        infoFields: ["goal": 2], behaviors: ["random", "medium", "noisy-expert", "expert"],
                        reference: layout == .umaze ? References.pointmazeUmaze : References.pointmazeMedium,
                        rewardKinds: [.dense, .sparse])
    }

    public func isWall(_ i: Int, _ j: Int) -> Bool { i < 0 || j < 0 || i >= grid.count || j >= grid[0].count || grid[i][j] }

    /// One step of the dynamics with collisions (docs/environments.md §2): x moves first, then y.
    public static func dynamics(maze: PointMaze, position p0: [Double], velocity v0: [Double], action a: [Double]) -> ([Double], [Double]) {
        var v = (0..<2).map { Swift.min(Swift.max(v0[$0] + dt * (gain * a[$0] - damping * v0[$0]), -maxSpeed), maxSpeed) }
        var p = p0
        for k in 0..<2 {
            let o = 1 - k
            var q = p[k] + dt * v[k]
            let lo = Int(Foundation.floor(p[o] - radius + 0.5 + eps)), hi = Int(Foundation.floor(p[o] + radius + 0.5 - eps))
            func hits(_ e: Int) -> Bool { (lo...hi).contains { k == 0 ? maze.isWall(e, $0) : maze.isWall($0, e) } }
            if v[k] > 0 {
                let e = Int(Foundation.floor(q + radius + 0.5 - eps))
                if hits(e) { q = Double(e) - 0.5 - radius; v[k] = 0 }
            } else if v[k] < 0 {
                let e = Int(Foundation.floor(q - radius + 0.5 + eps))
                if hits(e) { q = Double(e) + 0.5 + radius; v[k] = 0 }
            }
            p[k] = q
        }
        return (p, v)
    }

    public func distanceToGoal(_ p: [Double]) -> Double {
        let dx = p[0] - Double(goalCell[0]), dy = p[1] - Double(goalCell[1])
        return (dx * dx + dy * dy).squareRoot()
    }

    /// Distance within which the sparse reward is 1 (D4RL maze2d; docs/environments.md §2).
    public static let sparseRadius = 0.5

    /// The reward at the post-step position p, always against the evaluation goal G.
    public func reward(at p: [Double], kind: RewardKind) -> Double {
        let d = distanceToGoal(p)
        switch kind {
        case .dense: return Foundation.exp(-d)
        case .sparse: return d <= Self.sparseRadius ? 1 : 0
        }
    }

    private func drawTarget() { target = cells[rng.nextInt(below: cells.count)] }

    public func reset(seed: UInt64) -> [Double] {
        rng = RandomGenerator(seed: seed)
        let c = cells[rng.nextInt(below: cells.count)]
        position = [Double(c[0]) + rng.uniform(-0.1, 0.1), Double(c[1]) + rng.uniform(-0.1, 0.1)]
        velocity = [0.1 * rng.gaussian(), 0.1 * rng.gaussian()]
        steps = 0
        if movingTarget { drawTarget() } else { target = goalCell }
        return position + velocity
    }

    public func step(_ action: [Double]) -> StepResult {
        let a = spec.actionSpace.clip(action)
        (position, velocity) = Self.dynamics(maze: self, position: position, velocity: velocity, action: a)
        steps += 1
        let r = reward(at: position, kind: .dense)
        if movingTarget {
            let dx = position[0] - Double(target[0]), dy = position[1] - Double(target[1])
            if (dx * dx + dy * dy).squareRoot() <= 0.5 { drawTarget() }
        }
        return StepResult(observation: position + velocity, reward: r, cost: 0, terminated: false, truncated: steps >= spec.episodeLength)
    }

    public var info: [String: [Double]] { ["goal": target.map(Double.init)] }

    public func nextObservation(after observation: [Double], action: [Double], info: [String: [Double]]) -> [Double] {
        let (p, v) = Self.dynamics(maze: self, position: Array(observation[0..<2]), velocity: Array(observation[2..<4]),
                                   action: spec.actionSpace.clip(action))
        return p + v
    }

    /// `step`'s reward (or the sparse one) from the next observation's position. `info` (the
    /// behavior's moving target) plays no part: rewards use the fixed goal G, as D4RL relabels them.
    public func reward(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]],
                       kind: RewardKind) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation, kind: kind)
        return reward(at: Array(nextObservation[0..<2]), kind: kind)
    }

    public func cost(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]]) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation)
        return 0
    }

    /// BFS from `target` over 4-neighbour free cells: each cell's next cell towards it.
    private func waypoints(to target: [Int]) -> [[Int]: [Int]] {
        if let cached = nextCache[target] { return cached }
        var next: [[Int]: [Int]] = [target: target]
        var queue = [target], head = 0
        while head < queue.count {
            let c = queue[head]; head += 1
            for d in [[1, 0], [-1, 0], [0, 1], [0, -1]] {
                let n = [c[0] + d[0], c[1] + d[1]]
                if !isWall(n[0], n[1]) && next[n] == nil { next[n] = c; queue.append(n) }
            }
        }
        nextCache[target] = next
        return next
    }

    /// The waypoint PD controller (stateless D4RL expert): a = clip(10 (w − p) − v, ±1).
    public func expertAction() -> [Double] {
        let c = [Int(Foundation.floor(position[0] + 0.5)), Int(Foundation.floor(position[1] + 0.5))]
        let w = c == target ? target : (waypoints(to: target)[c] ?? target)
        return (0..<2).map { Swift.min(Swift.max(10 * (Double(w[$0]) - position[$0]) - velocity[$0], -1), 1) }
    }

    public func behaviorAction(_ name: String, rng: RandomGenerator) -> [Double] {
        let noise: Double
        switch name {
        case "expert": noise = 0
        case "noisy-expert": noise = 0.5  // D4RL's --noisy
        case "medium": noise = 1.0
        default: return randomAction(spec.actionSpace, rng: rng)
        }
        return spec.actionSpace.clip(expertAction().map { $0 + noise * rng.gaussian() })
    }
}
