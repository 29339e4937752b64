import CMuJoCo
import Foundation
import TensorCore

/// Gymnasium v4's MuJoCo locomotion tasks HalfCheetah, Hopper and Walker2d on Debian's libmujoco
/// (docs/environments.md §5), and their velocity-constrained versions (Safety-Gymnasium v1 / DSRL,
/// §6): cost = 1[x velocity > threshold]. Bit-identical to Gymnasium v4 on pip mujoco 2.3.x from the
/// same state and actions.
///
/// Two deliberate differences from the other built-in environments: `step` does not clip the action
/// (MuJoCo clamps the control to ctrlrange, and the control cost is on the action as given, as in
/// Gymnasium), and reset noise comes from the project's RandomGenerator, so episodes are seeded
/// like every other environment here but not like numpy's.
public final class Locomotion: Environment {
    public enum Robot: String, CaseIterable, Sendable {
        case halfcheetah, hopper, walker2d
    }

    /// Everything that distinguishes the three tasks (docs/environments.md §5 table).
    public struct Task: Sendable {
        public var robot: Robot
        public var frameSkip: Int
        public var controlCostWeight: Double
        /// 1 for Hopper and Walker2d on every step (terminate_when_unhealthy), 0 for HalfCheetah.
        public var healthyReward: Double
        /// Observed velocities are clipped to ±this (Hopper, Walker2d); nil: not clipped.
        public var velocityClip: Double?
        /// HalfCheetah: qpos += U(±0.1), qvel = 0.1·N(0, 1); the others: U(±0.005) on both.
        public var resetNoise: Double
        public var gaussianVelocityNoise: Bool
        /// Safety-Gymnasium v1's speed limit (cost = 1[x velocity > threshold]).
        public var velocityThreshold: Double
        /// D4RL's reference returns (random, expert) for the normalized score.
        public var d4rl: (random: Double, expert: Double)
        /// DSRL's (R_min, R_max) for the velocity task's normalized return.
        public var dsrl: (min: Double, max: Double)

        public static let halfcheetah = Task(robot: .halfcheetah, frameSkip: 5, controlCostWeight: 0.1, healthyReward: 0, velocityClip: nil,
                                             resetNoise: 0.1, gaussianVelocityNoise: true, velocityThreshold: 3.2096,
                                             d4rl: (-280.178953, 12135.0), dsrl: (5.751, 2806.933))
        public static let hopper = Task(robot: .hopper, frameSkip: 4, controlCostWeight: 1e-3, healthyReward: 1, velocityClip: 10,
                                        resetNoise: 5e-3, gaussianVelocityNoise: false, velocityThreshold: 0.7402,
                                        d4rl: (-20.272305, 3234.3), dsrl: (37.052, 1911.397))
        public static let walker2d = Task(robot: .walker2d, frameSkip: 4, controlCostWeight: 1e-3, healthyReward: 1, velocityClip: 10,
                                          resetNoise: 5e-3, gaussianVelocityNoise: false, velocityThreshold: 2.3415,
                                          d4rl: (1.629008, 4592.3), dsrl: (18.668, 3418.224))

        public static func of(_ robot: Robot) -> Task {
            switch robot {
            case .halfcheetah: return .halfcheetah
            case .hopper: return .hopper
            case .walker2d: return .walker2d
            }
        }

        var xml: String {
            switch robot {
            case .halfcheetah: return LocomotionModels.halfCheetah
            case .hopper: return LocomotionModels.hopper
            case .walker2d: return LocomotionModels.walker2d
            }
        }

        /// Gymnasium's is_healthy on the unclipped state (always true for HalfCheetah).
        func isHealthy(qpos: UnsafePointer<Double>, qvel: UnsafePointer<Double>, nq: Int, nv: Int) -> Bool {
            let z = qpos[1], angle = qpos[2]
            switch robot {
            case .halfcheetah: return true
            case .hopper:
                // state_vector()[2:] = qpos[2:] ++ qvel, each in the open interval (−100, 100).
                for i in 2..<nq where !(-100 < qpos[i] && qpos[i] < 100) { return false }
                for i in 0..<nv where !(-100 < qvel[i] && qvel[i] < 100) { return false }
                return 0.7 < z && -0.2 < angle && angle < 0.2
            case .walker2d:
                return 0.8 < z && z < 2.0 && -1 < angle && angle < 1
            }
        }

        /// Gymnasium's termination (not is_healthy) read from an observation, qpos[1:] ++ qvel (velocities clipped
        /// to ±`velocityClip`): z = o[0], angle = o[1]. Hopper's ±100 bound on qpos[2:] ++ qvel is checked on
        /// o[1:], which holds them (MBPO's hopper termination function reads the same; clipped velocities never
        /// reach it). On a recorded dataset it reproduces every terminal from the next observations
        /// (`LocomotionTests`). Never true for HalfCheetah.
        public func isTerminal(nextObservation o: UnsafeBufferPointer<Float>) -> Bool {
            switch robot {
            case .halfcheetah: return false
            case .hopper:
                for v in o.dropFirst() where !(-100 < v && v < 100) { return true }
                return !(0.7 < o[0] && -0.2 < o[1] && o[1] < 0.2)
            case .walker2d:
                return !(0.8 < o[0] && o[0] < 2.0 && -1 < o[1] && o[1] < 1)
            }
        }
    }

    /// Gymnasium's TimeLimit for all three tasks.
    public static let episodeLength = 1000
    public let task: Task
    /// The velocity-constrained variant (`<robot>-velocity`): cost and DSRL's normalization.
    public let velocityConstrained: Bool
    let model: MuJoCoModel
    let data: MuJoCoData
    /// A second state for the exact transition f(s, a), so that scoring never disturbs an episode.
    private lazy var scratch = MuJoCoData(model: model)
    private var steps = 0
    /// Why the current episode ended early, if the simulation went unstable.
    public private(set) var failure: String?

    public init(_ robot: Robot, velocityConstrained: Bool = false) throws {
        task = Task.of(robot)
        self.velocityConstrained = velocityConstrained
        model = try MuJoCoModel(name: robot.rawValue, xml: task.xml)
        data = MuJoCoData(model: model)
        // A valid state before the first reset (Gymnasium's init_qpos, zero velocity).
        data.setState(qpos: model.initialPositions, qvel: [Double](repeating: 0, count: model.nv))
    }

    public var name: String { task.robot.rawValue + (velocityConstrained ? "-velocity" : "") }
    public var nq: Int { model.nq }
    public var nv: Int { model.nv }
    /// Physics time per environment step: timestep × frame skip (0.05 or 0.008).
    public var dt: Double { model.timestep * Double(task.frameSkip) }

    public var spec: EnvironmentSpec {
        let obs = nq - 1 + nv
        let summary: String
        switch task.robot {
        case .halfcheetah: summary = "MuJoCo HalfCheetah (Gymnasium v4)"
        case .hopper: summary = "MuJoCo Hopper (Gymnasium v4)"
        case .walker2d: summary = "MuJoCo Walker2d (Gymnasium v4)"
        }
        let reference = velocityConstrained
            ? ReferenceScores(random: task.dsrl.min, expert: task.dsrl.max, costLimit: 10)
            : ReferenceScores(random: task.d4rl.random, expert: task.d4rl.expert, costLimit: nil)
        return EnvironmentSpec(name: name,
                               summary: velocityConstrained ? summary + ", cost when x velocity > \(task.velocityThreshold) (Safety-Gymnasium v1)" : summary,
                               observationSpace: Box(repeating: .infinity, count: obs), actionSpace: Box(repeating: 1, count: model.nu),
                               episodeLength: Self.episodeLength, hasCost: velocityConstrained, infoFields: [:], behaviors: ["random"], reference: reference)
    }

    /// qpos without x, then qvel (clipped to ±10 for Hopper and Walker2d).
    func observe(_ d: MuJoCoData) -> [Double] {
        var o = [Double]()
        o.reserveCapacity(nq - 1 + nv)
        for i in 1..<nq { o.append(d.qpos[i]) }
        if let c = task.velocityClip {
            for i in 0..<nv { o.append(Swift.min(Swift.max(d.qvel[i], -c), c)) }
        } else {
            for i in 0..<nv { o.append(d.qvel[i]) }
        }
        return o
    }

    /// Gymnasium's control cost with float32 actions: w · Σ a², computed in float32 (numpy ≥ 2 keeps
    /// float32 · Python float in float32), the squares summed left to right — the order numpy's
    /// np.sum takes for these short rows (checked against every step of the reference rollouts).
    public static func controlCost(_ action: [Double], weight: Double) -> Double {
        var sum: Float = 0
        for a in action { let f = Float(a); sum += f * f }
        return Double(Float(weight) * sum)
    }

    /// One environment step on `d`: (reward, x velocity, healthy). Throws if the simulation blew up.
    func advance(_ d: MuJoCoData, action: [Double]) throws -> (reward: Double, xVelocity: Double, healthy: Bool) {
        guard action.count == model.nu else {
            throw EnvironmentError.wrongSize("action", environment: name, expected: model.nu, found: action.count)
        }
        guard action.allSatisfy(\.isFinite) else { throw SimulationError.unstable("\(name): the action has a NaN or infinite value") }
        let before = d.qpos[0]
        try d.step(ctrl: action, frameSkip: task.frameSkip)
        let xVelocity = (d.qpos[0] - before) / dt
        let cost = Self.controlCost(action, weight: task.controlCostWeight)
        let reward = (1.0 * xVelocity + task.healthyReward) - cost
        return (reward, xVelocity, task.isHealthy(qpos: d.qpos, qvel: d.qvel, nq: nq, nv: nv))
    }

    func safetyCost(xVelocity: Double) -> Double { velocityConstrained && xVelocity > task.velocityThreshold ? 1 : 0 }

    /// Starts an episode at (qpos, qvel) exactly, as Gymnasium's reset does after its noise draw.
    public func reset(qpos: [Double], qvel: [Double]) throws -> [Double] {
        guard qpos.count == nq else { throw EnvironmentError.wrongSize("init_qpos", environment: name, expected: nq, found: qpos.count) }
        guard qvel.count == nv else { throw EnvironmentError.wrongSize("init_qvel", environment: name, expected: nv, found: qvel.count) }
        guard (qpos + qvel).allSatisfy(\.isFinite) else { throw SimulationError.unstable("\(name): the initial state has a NaN or infinite value") }
        data.setState(qpos: qpos, qvel: qvel)
        steps = 0
        failure = nil
        return observe(data)
    }

    /// Gymnasium's reset noise in its draw order (every qpos draw, then every qvel draw), from
    /// RandomGenerator(seed) instead of numpy's generator.
    public func reset(seed: UInt64) -> [Double] {
        let rng = RandomGenerator(seed: seed)
        let n = task.resetNoise
        let qpos = model.initialPositions.map { $0 + rng.uniform(-n, n) }
        let qvel = (0..<nv).map { _ in task.gaussianVelocityNoise ? n * rng.gaussian() : rng.uniform(-n, n) }
        // The initial state is finite by construction.
        return (try? reset(qpos: qpos, qvel: qvel)) ?? observe(data)
    }

    /// A step. If the simulation goes unstable (or the action is not finite), the episode ends
    /// (terminated, zero reward) and `failure` says why; the state is then MuJoCo's reset state.
    public func step(_ action: [Double]) -> StepResult {
        steps += 1
        let truncated = steps >= Self.episodeLength
        if failure != nil { return StepResult(observation: observe(data), reward: 0, cost: 0, terminated: true, truncated: truncated) }
        do {
            let r = try advance(data, action: action)
            return StepResult(observation: observe(data), reward: r.reward, cost: safetyCost(xVelocity: r.xVelocity),
                              terminated: !r.healthy, truncated: truncated)
        } catch {
            failure = "\(error)"
            return StepResult(observation: observe(data), reward: 0, cost: 0, terminated: true, truncated: truncated)
        }
    }

    public var info: [String: [Double]] { [:] }

    /// (qpos, qvel) behind an observation, with x = 0 (these robots' dynamics do not depend on x).
    /// Hopper/Walker2d velocities at ±10 may have been clipped: see `clippedVelocityRows`.
    public func state(of observation: [Double]) -> (qpos: [Double], qvel: [Double]) {
        ([0] + Array(observation[0..<(nq - 1)]), Array(observation[(nq - 1)...]))
    }

    /// One environment step from the state behind `observation` on the scratch data. nil when the
    /// simulation goes unstable or the sizes are wrong.
    func transition(from observation: [Double], action: [Double]) -> (observation: [Double], reward: Double, xVelocity: Double)? {
        guard observation.count == nq - 1 + nv, observation.allSatisfy(\.isFinite) else { return nil }
        let s = state(of: observation)
        scratch.setState(qpos: s.qpos, qvel: s.qvel)
        guard let r = try? advance(scratch, action: action) else { return nil }
        return (observe(scratch), r.reward, r.xVelocity)
    }

    /// f(s, a): one step from qpos = (0, s[0..nq−2]), qvel = s[nq−1...], reset the way Gymnasium's
    /// set_state does (so qacc_warmstart starts from zero). NaNs if the simulation goes unstable.
    public func nextObservation(after observation: [Double], action: [Double], info: [String: [Double]]) -> [Double] {
        transition(from: observation, action: action)?.observation ?? [Double](repeating: .nan, count: nq - 1 + nv)
    }

    /// The reward needs the x velocity (Δx / dt), which no observation holds, so it is computed by
    /// simulating the step from `observation` with `action` (the stored next observation is not used).
    public func reward(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]],
                       kind: RewardKind) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation, kind: kind)
        guard let t = transition(from: observation, action: action) else { throw SimulationError.unstable("\(name): the transition is unstable") }
        return t.reward
    }

    /// 1[x velocity > threshold] of the simulated step (0 for the unconstrained tasks).
    public func cost(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]]) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation)
        guard velocityConstrained else { return 0 }
        guard let t = transition(from: observation, action: action) else { throw SimulationError.unstable("\(name): the transition is unstable") }
        return safetyCost(xVelocity: t.xVelocity)
    }

    /// Rows whose observation has a velocity at the clip bound (±10, Hopper/Walker2d): there the true
    /// velocity may have been larger, so f(s, a) is not determined by the observation.
    public func clippedVelocityRows(_ observations: [[Double]]) -> Int {
        guard let c = task.velocityClip else { return 0 }
        return observations.filter { o in o[(nq - 1)...].contains { Swift.abs($0) >= c } }.count
    }

    /// For benchmarks: the bare C call sequence of `step` (ctrl, mj_step × frame skip,
    /// mj_rnePostConstraint) for each action, with no observation, reward or checks — the rate the
    /// C library itself reaches, against which `step`'s overhead is measured (`diffuse bench env`).
    public func stepBare(_ actions: [[Double]]) {
        let m = model.pointer, d = data.pointer, skip = task.frameSkip
        let ctrl = d.pointee.ctrl!
        for a in actions {
            for i in 0..<a.count { ctrl[i] = a[i] }
            for _ in 0..<skip { mj_step(m, d) }
            mj_rnePostConstraint(m, d)
        }
    }

    public func behaviorAction(_ name: String, rng: RandomGenerator) -> [Double] { randomAction(spec.actionSpace, rng: rng) }
}
