import Foundation
import Testing
@testable import OfflineRL
import TensorCore

/// A reference rollout of Gymnasium v4 on pip mujoco 2.3.1 (dev/make_locomotion_fixtures.py).
struct LocomotionFixture: Decodable {
    var task: String
    var init_qpos: [Double]
    var init_qvel: [Double]
    var actions: [[Double]]
    var observations: [[Double]]
    var rewards: [Double]
    var terminated: [Bool]
    var x_velocity: [Double]

    static func load(_ task: String) throws -> LocomotionFixture {
        let url = Bundle.module.url(forResource: "Fixtures/locomotion-\(task)", withExtension: "json")!
        return try JSONDecoder().decode(LocomotionFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct LocomotionConformanceTests {
    /// 200 steps from Gymnasium's start state: observations to 1e-9, rewards to 1e-6, terminated
    /// flags exactly (the acceptance bound of issue #33; the observed error is 0).
    @Test(arguments: Locomotion.Robot.allCases)
    func matchesGymnasiumV4(robot: Locomotion.Robot) throws {
        let f = try LocomotionFixture.load(robot.rawValue)
        let env = try Locomotion(robot)
        _ = try env.reset(qpos: f.init_qpos, qvel: f.init_qvel)
        var maxObservation = 0.0, maxReward = 0.0
        for (t, a) in f.actions.enumerated() {
            let r = env.step(a)
            #expect(r.observation.count == f.observations[t].count)
            for (x, y) in zip(r.observation, f.observations[t]) { maxObservation = max(maxObservation, abs(x - y)) }
            maxReward = max(maxReward, abs(r.reward - f.rewards[t]))
            #expect(r.terminated == f.terminated[t], "step \(t)")
        }
        #expect(env.failure == nil)
        #expect(maxObservation <= 1e-9, "max observation error \(maxObservation)")
        #expect(maxReward <= 1e-6, "max reward error \(maxReward)")
    }

    /// The velocity variant's cost is 1[x velocity > threshold] of the same steps.
    @Test(arguments: Locomotion.Robot.allCases)
    func velocityCostFollowsTheThreshold(robot: Locomotion.Robot) throws {
        let f = try LocomotionFixture.load(robot.rawValue)
        let env = try Locomotion(robot, velocityConstrained: true)
        _ = try env.reset(qpos: f.init_qpos, qvel: f.init_qvel)
        let threshold = Locomotion.Task.of(robot).velocityThreshold
        for (t, a) in f.actions.enumerated() {
            #expect(env.step(a).cost == (f.x_velocity[t] > threshold ? 1 : 0), "step \(t)")
        }
    }

    /// f(s, a) from mid-episode observations: one step from qpos = (0, s[..nq−2]), qvel = s[nq−1...].
    /// x does not enter the dynamics; the solver's warm start does (set_state starts it at zero), so
    /// the match with the continued rollout is not bit-exact, but measured within 2e-13. Rows with a velocity at the
    /// ±10 clip bound do not determine the state and are skipped (Walker2d's random-action rollout
    /// has 168 of 200 such rows: its feet whip past 10 rad/s).
    @Test(arguments: Locomotion.Robot.allCases)
    func exactTransitionFromAnObservation(robot: Locomotion.Robot) throws {
        let f = try LocomotionFixture.load(robot.rawValue)
        let env = try Locomotion(robot)
        let usable = (0..<(f.actions.count - 1)).filter { env.clippedVelocityRows([f.observations[$0], f.observations[$0 + 1]]) == 0 }
        #expect(usable.count >= 10)
        for t in usable {
            let s = f.observations[t], a = f.actions[t + 1]
            let next = env.nextObservation(after: s, action: a, info: [:])
            let error = zip(next, f.observations[t + 1]).map { abs($0 - $1) }.max()!
            #expect(error < 1e-9, "step \(t): \(error)")
            let r = try env.reward(observation: s, action: a, nextObservation: next, info: [:], kind: .dense)
            #expect(abs(r - f.rewards[t + 1]) < 1e-6)
        }
    }
}

@Suite struct LocomotionEnvironmentTests {
    /// Hand-computed float32 control cost: 0.1 · (0.5² + 0.25² + 1²) for HalfCheetah's weight.
    @Test func controlCostIsFloat32() {
        let c = Locomotion.controlCost([0.5, -0.25, 1], weight: 0.1)
        #expect(c == Double(Float(0.1) * Float(1.3125)))
        #expect(abs(c - 0.13125) < 1e-7)
    }

    @Test func registeredWithSpaces() throws {
        for (name, obs, act, cost) in [("halfcheetah", 17, 6, false), ("hopper", 11, 3, false), ("walker2d", 17, 6, false),
                                       ("halfcheetah-velocity", 17, 6, true), ("hopper-velocity", 11, 3, true), ("walker2d-velocity", 17, 6, true)] {
            let s = try Environments.make(name).spec
            #expect(s.name == name && s.observationSpace.dimension == obs && s.actionSpace.dimension == act && s.hasCost == cost)
            #expect(s.episodeLength == 1000)
        }
    }

    /// Reset noise draw order: every qpos draw, then every qvel draw (Hopper: U(±0.005) on both).
    @Test func resetNoiseOrder() throws {
        let env = try Locomotion(.hopper)
        let o = env.reset(seed: 5)
        let rng = RandomGenerator(seed: 5)
        let qpos = [0, 1.25, 0, 0, 0, 0].map { $0 + rng.uniform(-0.005, 0.005) }
        let qvel = (0..<6).map { _ in rng.uniform(-0.005, 0.005) }
        #expect(o == Array(qpos[1...]) + qvel)
        let cheetah = try Locomotion(.halfcheetah)
        let c = cheetah.reset(seed: 9)
        let g = RandomGenerator(seed: 9)
        let p = (0..<9).map { _ in g.uniform(-0.1, 0.1) }
        let v = (0..<9).map { _ in 0.1 * g.gaussian() }
        #expect(c == Array(p[1...]) + v)
    }

    /// A random-action episode of each task ends by termination or at the 1000-step timeout.
    @Test func episodesEnd() throws {
        for name in ["halfcheetah", "hopper"] {
            let env = try Environments.make(name)
            _ = env.reset(seed: 1)
            let rng = RandomGenerator(seed: 2)
            var steps = 0, done = false
            while !done {
                let r = env.step(env.behaviorAction("random", rng: rng))
                steps += 1
                done = r.terminated || r.truncated
            }
            #expect(name == "halfcheetah" ? steps == 1000 : steps < 1000)
        }
    }

    /// An absurd action makes MuJoCo's state explode: the episode ends with a reason, no crash.
    @Test func explodingStateEndsTheEpisode() throws {
        let env = try Locomotion(.walker2d)
        _ = env.reset(seed: 0)
        let r = env.step([Double](repeating: .nan, count: 6))
        #expect(r.terminated && env.failure != nil)
        let hopper = try Locomotion(.hopper)
        _ = try hopper.reset(qpos: [0, 1.25, 0, 0, 0, 0], qvel: [0, 0, 0, 1e12, -1e12, 1e12])
        let h = hopper.step([1, 1, 1])
        #expect(h.terminated && hopper.failure != nil)
        let blown = hopper.nextObservation(after: [1.25, 0, 0, 0, 0, 0, 0, 0, 1e300, 0, 0], action: [1, 1, 1], info: [:])
        #expect(blown.allSatisfy { $0.isNaN })
        #expect(throws: EnvironmentError.self) { _ = try hopper.reset(qpos: [0], qvel: []) }
    }

    /// Observed velocities at ±10 are counted as ambiguous (Hopper/Walker2d clip them).
    @Test func clippedVelocityRows() throws {
        let env = try Locomotion(.hopper)
        let rows = [[1.2, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6], [1.2, 0, 0, 0, 0, 1, 10, 3, 4, 5, 6], [1.2, 0, 0, 0, 0, -10, 0, 0, 0, 0, 0]]
        #expect(env.clippedVelocityRows(rows) == 2)
        #expect(try Locomotion(.halfcheetah).clippedVelocityRows([[Double](repeating: 50, count: 17)]) == 0)
    }

    /// D4RL and DSRL normalizations against hand values.
    @Test func normalizedScores() throws {
        let cheetah = try Environments.make("halfcheetah").spec.reference
        // 100 · (4000 + 280.178953) / (12135 + 280.178953) = 34.47537…
        #expect(abs(100 * cheetah.normalizedReturn(4000) - 34.47537059) < 1e-6)
        #expect(cheetah.costLimit == nil)
        let hopper = try Environments.make("hopper").spec.reference
        #expect(abs(100 * hopper.normalizedReturn(3234.3) - 100) < 1e-12 && abs(hopper.normalizedReturn(-20.272305)) < 1e-15)
        let walkerVelocity = try Environments.make("walker2d-velocity").spec.reference
        // (2000 − 18.668) / (3418.224 − 18.668) = 0.582821…; cost 15 at κ = 10 → 1.5.
        #expect(abs(walkerVelocity.normalizedReturn(2000) - 0.58282082) < 1e-8)
        #expect(walkerVelocity.normalizedCost(15) == 1.5)
        let cheetahVelocity = try Environments.make("halfcheetah-velocity").spec.reference
        #expect(abs(cheetahVelocity.normalizedReturn(2806.933) - 1) < 1e-12)
    }
}

/// The rule that labels synthetic transitions terminal (docs/pgd.md §6) against the simulator itself.
@Suite struct TerminationRuleTests {
    /// Random-action episodes, which fall often: the rule reads from each next observation, in Float as a
    /// dataset holds it, exactly the terminated flag the simulator computes from the full state.
    @Test(arguments: [Locomotion.Robot.hopper, .walker2d])
    func ruleMatchesTheSimulator(robot: Locomotion.Robot) throws {
        let env = try Locomotion(robot)
        let rule = try #require(TerminationRule.of(environment: robot.rawValue))
        #expect(TerminationRule.of(environment: "\(robot.rawValue)-velocity") != nil)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double { // SplitMix64 → [−1, 1)
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 52) - 1
        }
        var terminals = 0, mismatches = 0
        for episode in 0..<60 {
            _ = env.reset(seed: UInt64(episode))
            for _ in 0..<300 {
                let r = env.step((0..<env.spec.actionSpace.dimension).map { _ in uniform() })
                if rule.isTerminal(r.observation.map(Float.init)) != r.terminated { mismatches += 1 }
                if r.terminated { terminals += 1; break }
            }
        }
        #expect(terminals >= 30, "\(robot): only \(terminals) falls to compare")
        #expect(mismatches == 0, "\(robot): \(mismatches) steps disagree")
    }

    @Test func onlyRobotsThatFallHaveARule() {
        for name in ["halfcheetah", "halfcheetah-velocity", "pendulum", "pointmaze-umaze", "safe-goal", "nonsense"] {
            #expect(TerminationRule.of(environment: name) == nil, "\(name)")
        }
    }

    /// Labelling: from an episode's first termination on every transition is terminal (not timeout); the next
    /// episode starts afresh; an episode that never falls is unchanged.
    @Test func labelsFromTheFallToTheEpisodeEnd() throws {
        let rule = try #require(TerminationRule.of(environment: "hopper"))
        let healthy: [Float] = [1.25] + [Float](repeating: 0, count: 10), fallen: [Float] = [0.5] + [Float](repeating: 0, count: 10)
        let next = [healthy, fallen, healthy, healthy, healthy, healthy, healthy, healthy]
        let data = try OfflineDataset(observations: Tensor(zeros: [8, 11]), actions: Tensor(zeros: [8, 3]), rewards: Tensor(zeros: [8]),
                                      nextObservations: Tensor(next.flatMap { $0 }, shape: [8, 11]),
                                      terminals: Tensor(zeros: [8]), timeouts: Tensor([0, 0, 0, 1, 0, 0, 0, 1]))
        let labelled = rule.label(data)
        #expect(labelled.terminals.scalars == [0, 1, 1, 1, 0, 0, 0, 0])
        #expect(labelled.timeouts.scalars == [0, 0, 0, 0, 0, 0, 0, 1])
        #expect(labelled.nextObservations.scalars == data.nextObservations.scalars)
    }
}
