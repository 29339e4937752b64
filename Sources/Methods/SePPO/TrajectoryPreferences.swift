import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// The path score S of a window (docs/seppo.md §7), exact, from the environment's own equations:
/// the window's actions are replayed from its first state, and
///
///   S = (1/H) Σₜ rₜ − w · (1/(H−1)) Σₜ ‖aₜ₊₁ − aₜ‖²,
///
/// the mean reward along the replayed path minus w times the mean squared action change (jerk of the
/// force). pointmaze: `PointMaze.dynamics`, rₜ = exp(−‖pₜ − G‖); a window whose first position lies in
/// a wall or outside the maze earns no reward. MuJoCo robots (halfcheetah, hopper, walker2d): the
/// simulator from the state behind the first observation (x = 0), rₜ the task's reward (forward
/// velocity + healthy bonus − control cost); a step after the robot falls (hopper, walker2d) earns
/// nothing, as the episode would have ended. The generated states after the first do not enter S (the
/// replay decides where the path goes); their distance to the replay is reported as the plan error.
public struct PathScore: Sendable {
    /// w, the weight of the roughness term. 0.25 puts random-action roughness (E‖Δa‖² = 4/3 for
    /// uniform actions in [−1, 1]²) at a third of the reward's range.
    public var smoothnessWeight: Double

    public init(smoothnessWeight: Double = 0.25) { self.smoothnessWeight = smoothnessWeight }

    /// The parts of one window's score.
    public struct Parts: Codable, Sendable, Equatable {
        public var score: Double
        /// Mean dense reward along the replayed path (0 when the start is invalid).
        public var reward: Double
        /// Mean ‖aₜ₊₁ − aₜ‖² of the clipped actions.
        public var roughness: Double
        /// The first position lies in free space.
        public var valid: Bool
        /// Mean ‖p̂ₜ − pₜ‖ between the window's own positions and the replayed ones (t ≥ 1; MuJoCo: whole
        /// observations, up to the fall).
        public var planError: Double
    }

    /// Scores raw windows of `environment` (pointmaze or a MuJoCo robot): observations [B][H][obs] and
    /// actions [B][H][act] in environment units.
    public func score(observations: [[[Double]]], actions: [[[Double]]], environment: any Environment) throws -> [Parts] {
        if let maze = environment as? PointMaze { return score(observations: observations, actions: actions, maze: maze) }
        if let robot = environment as? Locomotion { return score(observations: observations, actions: actions, robot: robot) }
        throw PathScoreError.unsupported(environment.spec.name)
    }

    /// Whether `score(…, environment:)` can replay this environment's windows.
    public static func supports(_ environment: any Environment) -> Bool { environment is PointMaze || environment is Locomotion }

    /// MuJoCo robots: replayed with `Locomotion.step` from `reset(qpos:qvel:)` at the first observation's state.
    public func score(observations: [[[Double]]], actions: [[[Double]]], robot: Locomotion) -> [Parts] {
        zip(observations, actions).map { obs, act in
            let h = act.count
            let a = act.map { robot.spec.actionSpace.clip($0) }
            let roughness = Self.roughness(a)
            // The size first: `state(of:)` slices the observation.
            guard obs[0].count == robot.spec.observationSpace.low.count, a.joined().allSatisfy(\.isFinite),
                  case let start = robot.state(of: obs[0]), (try? robot.reset(qpos: start.qpos, qvel: start.qvel)) != nil else {
                return Parts(score: -smoothnessWeight * roughness, reward: 0, roughness: roughness, valid: false, planError: .infinity)
            }
            var reward = 0.0, planError = 0.0, compared = 0, valid = true
            for t in 0..<h {
                let step = robot.step(a[t])
                if robot.failure != nil { valid = false; break }
                reward += step.reward
                if t + 1 < obs.count {
                    planError += zip(obs[t + 1], step.observation).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                    compared += 1
                }
                if step.terminated { break }
            }
            reward = valid ? reward / Double(Swift.max(h, 1)) : 0
            planError = compared > 0 ? planError / Double(compared) : (valid ? 0 : .infinity)
            return Parts(score: reward - smoothnessWeight * roughness, reward: reward, roughness: roughness, valid: valid, planError: planError)
        }
    }

    /// Mean ‖aₜ₊₁ − aₜ‖² over a window's (clipped) actions.
    static func roughness(_ a: [[Double]]) -> Double {
        var r = 0.0
        for t in 1..<Swift.max(a.count, 1) { r += zip(a[t], a[t - 1]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
        return r / Double(Swift.max(a.count - 1, 1))
    }

    /// Scores raw windows: positions/velocities `observations` [B][H][4] and actions [B][H][2] in
    /// environment units.
    public func score(observations: [[[Double]]], actions: [[[Double]]], maze: PointMaze) -> [Parts] {
        zip(observations, actions).map { obs, act in
            let h = act.count
            let box = maze.spec.actionSpace
            let a = act.map { box.clip($0) }
            let roughness = Self.roughness(a)
            let start = Array(obs[0][0..<2])
            // A non-finite or absurdly far window is not replayed (its cell index would not fit an Int);
            // it earns no reward and no plan error can be measured.
            guard (obs[0] + a.flatMap { $0 }).allSatisfy({ $0.isFinite && Swift.abs($0) < 1e15 }) else {
                return Parts(score: -smoothnessWeight * roughness, reward: 0, roughness: roughness, valid: false, planError: .infinity)
            }
            let valid = !maze.isWall(Int((start[0]).rounded()), Int((start[1]).rounded()))
            var p = start, v = Array(obs[0][2..<4]), reward = 0.0, planError = 0.0
            for t in 0..<h {
                (p, v) = PointMaze.dynamics(maze: maze, position: p, velocity: v, action: a[t])
                reward += Foundation.exp(-maze.distanceToGoal(p))
                if t + 1 < obs.count {
                    let dx = obs[t + 1][0] - p[0], dy = obs[t + 1][1] - p[1]
                    planError += (dx * dx + dy * dy).squareRoot()
                }
            }
            reward = valid ? reward / Double(h) : 0
            planError /= Double(Swift.max(Swift.min(h, obs.count - 1), 1))
            return Parts(score: reward - smoothnessWeight * roughness, reward: reward, roughness: roughness, valid: valid, planError: planError)
        }
    }

    /// Scores normalized windows [B, H, D] of `layout` (generated, or encoded from data).
    public func score(windows: Tensor, layout: TrajectoryLayout, environment: any Environment) throws -> [Parts] {
        precondition(windows.rank == 3 && windows.shape[2] == layout.width, "PathScore: windows [B, H, \(layout.width)] expected, got \(windows.shape)")
        let (b, h) = (windows.shape[0], windows.shape[1])
        let obs = try layout.unnormalized(windows, group: TrajectoryLayout.observation).scalars.map(Double.init)
        let act = try layout.actionMap.inverse(layout.normalizedActions(windows)).scalars.map(Double.init)
        let (od, ad) = (layout.observationDim, layout.actionDim)
        func rows(_ flat: [Double], _ d: Int) -> [[[Double]]] {
            (0..<b).map { i in (0..<h).map { t in Array(flat[((i * h + t) * d)..<((i * h + t + 1) * d)]) } }
        }
        return try score(observations: rows(obs, od), actions: rows(act, ad), environment: environment)
    }
}

public enum PathScoreError: Error, CustomStringConvertible {
    case unsupported(String)
    public var description: String {
        switch self {
        case .unsupported(let name): return "the path score replays pointmaze and MuJoCo robot windows; \(name) is neither"
        }
    }
}

/// Preferred and oracle-loser windows from an offline dataset, ranked by `PathScore` (docs/seppo.md §7).
public struct TrajectoryPreferences {
    /// Every window of the dataset (normalized, the model's layout) and its score parts.
    public let windows: Tensor
    public let parts: [PathScore.Parts]
    /// Row indices sorted by score, best first (ties by index).
    public let ranking: [Int]

    /// Encodes every window of `dataset` at the layout's horizon and stride and scores it.
    public init(dataset: OfflineDataset, layout: TrajectoryLayout, environment: any Environment, score: PathScore = PathScore()) throws {
        windows = try layout.encode(dataset)
        let parts = try score.score(windows: windows, layout: layout, environment: environment)
        self.parts = parts
        ranking = parts.indices.sorted { (parts[$0].score, -$0) > (parts[$1].score, -$1) }
    }

    /// How many windows the best (or worst) `fraction` holds: at least one.
    public func count(fraction: Double) -> Int { Swift.max(1, Int((Double(parts.count) * fraction).rounded())) }

    /// The preferred set D_w: the best `fraction` of the windows.
    public func winners(fraction: Double) -> PreferenceSet {
        PreferenceSet(samples: windows.indexSelect(axis: 0, Array(ranking.prefix(count(fraction: fraction)))))
    }

    /// Oracle losers for Diffusion-DPO, one per winner of `winners(fraction:)`: windows drawn
    /// uniformly from the worst `fraction`, fixed by `seed`.
    public func losers(fraction: Double, seed: UInt64) -> Tensor {
        let n = count(fraction: fraction)
        let worst = Array(ranking.suffix(n))
        let rng = RandomGenerator(seed: seed)
        return windows.indexSelect(axis: 0, (0..<n).map { _ in worst[rng.nextInt(below: worst.count)] })
    }
}
