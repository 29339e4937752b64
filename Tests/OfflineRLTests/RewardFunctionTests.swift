import Foundation
import Testing
@testable import OfflineRL
import TensorCore

@Suite struct RewardFunctionTests {
    /// Along random and scripted episodes (every third action pushed 1.5× beyond the box, so the
    /// clipping is exercised), `reward` and `cost` reproduce `step` for every transition, from the
    /// pre-step observation, the action, the next observation and the pre-step `info`.
    @Test(arguments: Environments.names) func rewardAndCostMatchStep(_ name: String) throws {
        for collecting in [false, true] {  // pointmaze: also with the behavior's moving target in `info`
            let env = try Environments.make(name, forDataCollection: collecting)
            let behaviors = env.spec.behaviors
            let rng = RandomGenerator(seed: 7)
            var worstReward = 0.0, worstCost = 0.0, transitions = 0, clipped = 0
            // (At least 1100 transitions: a random Hopper falls within ~20 steps.)
            var episode = 0
            while episode < 2 * behaviors.count || transitions < 1100 {
                defer { episode += 1 }
                var obs = env.reset(seed: UInt64(100 + episode))
                let behavior = behaviors[episode % behaviors.count]
                for t in 0..<env.spec.episodeLength {
                    let a = env.behaviorAction(behavior, rng: rng).map { $0 * (t % 3 == 0 ? 1.5 : 1) }
                    if env.spec.actionSpace.clip(a) != a { clipped += 1 }
                    let info = env.info
                    let step = env.step(a)
                    let r = try env.reward(observation: obs, action: a, nextObservation: step.observation, info: info, kind: .dense)
                    let c = try env.cost(observation: obs, action: a, nextObservation: step.observation, info: info)
                    // MuJoCo tasks: a row with a velocity at the ±10 clip bound does not determine the
                    // state, so its reward is not a function of the row (docs/environments.md §5).
                    if (env as? Locomotion)?.clippedVelocityRows([obs]) ?? 0 == 0 {
                        worstReward = max(worstReward, abs(r - step.reward))
                        worstCost = max(worstCost, abs(c - step.cost))
                    }
                    transitions += 1
                    obs = step.observation
                    if step.terminated || step.truncated { break }
                }
            }
            #expect(worstReward < 1e-9, "\(name): max |reward − step| = \(worstReward)")
            #expect(worstCost < 1e-9, "\(name): max |cost − step| = \(worstCost)")
            #expect(transitions > 1000 && clipped > 100, "\(name): \(transitions) transitions, \(clipped) clipped actions")
        }
    }

    /// Pendulum: the reward is on the pre-step state with the clipped torque, and θ recovered from
    /// (cos θ, sin θ) gives the same wrapped angle as the unwrapped θ that `step` uses.
    @Test func pendulumClipsTorqueAndRecoversAngle() throws {
        let env = Pendulum()
        _ = env.reset(seed: 0)
        for theta in [1.0, 1 + 6 * Double.pi, -2.9 - 4 * Double.pi, Double.pi - 1e-7, -Double.pi + 1e-7] {
            env.setState(theta: theta, thetaDot: 7.9)
            let obs = [cos(theta), sin(theta), 7.9]
            let step = env.step([5])
            let r = try env.reward(observation: obs, action: [5], nextObservation: step.observation, info: [:], kind: .dense)
            let t = Pendulum.wrap(theta)
            #expect(abs(r - -(t * t + 0.1 * 7.9 * 7.9 + 0.001 * 4)) < 1e-9, "θ = \(theta)")  // u clipped to 2
            #expect(abs(r - step.reward) < 1e-9, "θ = \(theta)")
        }
    }

    /// pointmaze's sparse reward is the spec's 1[‖p′ − G‖ ≤ 0.5] at the post-step position, always
    /// against the fixed goal G: a row's `infos/goal` (the behavior's target) plays no part.
    @Test(arguments: [PointMaze.Layout.umaze, .medium]) func pointmazeSparseReward(_ layout: PointMaze.Layout) throws {
        let env = PointMaze(layout: layout)
        let rng = RandomGenerator(seed: 3)
        var ones = 0, zeros = 0
        for episode in 0..<4 {
            var obs = env.reset(seed: UInt64(episode))
            for _ in 0..<env.spec.episodeLength {
                let a = env.behaviorAction(episode % 2 == 0 ? "expert" : "random", rng: rng)
                let step = env.step(a)
                let d = hypot(env.position[0] - Double(env.goalCell[0]), env.position[1] - Double(env.goalCell[1]))
                for info in [["goal": [1.0, 3.0]], [:]] {
                    let r = try env.reward(observation: obs, action: a, nextObservation: step.observation, info: info, kind: .sparse)
                    #expect(r == (d <= 0.5 ? 1 : 0))
                }
                if d <= 0.5 { ones += 1 } else { zeros += 1 }
                obs = step.observation
                if step.truncated { break }
            }
        }
        #expect(ones > 50 && zeros > 50, "\(layout): \(ones) ones, \(zeros) zeros")
    }

    /// safe-goal: exact across goal redraws (the next observation shows the new goal; the reward uses
    /// the old one), with the goal from `infos/goal` or from the observation's g − p.
    @Test func safeGoalRewardAcrossGoalRedraws() throws {
        let env = SafeGoal()
        let rng = RandomGenerator(seed: 1)
        var reached = 0, worst = 0.0
        for episode in 0..<4 {
            var obs = env.reset(seed: UInt64(episode))
            for _ in 0..<500 {
                let a = env.behaviorAction("fast-unsafe", rng: rng)
                let info = env.info
                let step = env.step(a)
                if env.goal != info["goal"]! { reached += 1 }
                for given in [info, [:]] {
                    let r = try env.reward(observation: obs, action: a, nextObservation: step.observation, info: given, kind: .dense)
                    worst = max(worst, abs(r - step.reward))
                }
                obs = step.observation
                if step.terminated || step.truncated { break }
            }
        }
        #expect(reached > 20, "goal redraws: \(reached)")
        #expect(worst < 1e-9, "max |reward − step| = \(worst)")
    }

    @Test func unavailableKindsAndBadInputsAreErrors() throws {
        for name in ["pendulum", "safe-circle", "safe-goal"] {
            let env = try Environments.make(name)
            let o = env.reset(seed: 0), a = [Double](repeating: 0, count: env.spec.actionSpace.dimension)
            #expect(throws: EnvironmentError.unsupportedRewardKind("sparse", environment: name, known: ["dense"])) {
                try env.reward(observation: o, action: a, nextObservation: o, info: env.info, kind: .sparse)
            }
            #expect(throws: EnvironmentError.wrongSize("observation", environment: name, expected: o.count, found: o.count - 1)) {
                try env.reward(observation: Array(o.dropLast()), action: a, nextObservation: o, info: env.info, kind: .dense)
            }
            #expect(throws: EnvironmentError.wrongSize("action", environment: name, expected: a.count, found: a.count + 1)) {
                try env.cost(observation: o, action: a + [0], nextObservation: o, info: env.info)
            }
        }
        let goal = SafeGoal()
        let o = goal.reset(seed: 0)
        #expect(throws: EnvironmentError.missingInfo("hazards", environment: "safe-goal", purpose: "the hazard cost")) {
            try goal.cost(observation: o, action: [0, 0], nextObservation: o, info: ["goal": goal.goal])
        }
        #expect(throws: EnvironmentError.wrongSize("infos/goal row", environment: "safe-goal", expected: 2, found: 3)) {
            try goal.reward(observation: o, action: [0, 0], nextObservation: o, info: ["goal": [0, 0, 0]], kind: .dense)
        }
    }

    /// Scoring a collected (float32) dataset reproduces its stored rewards and costs. Rows are
    /// float32, so rewards agree to float32 rounding: |Δ| ≤ 1e-5 · max(1, |r|).
    @Test(arguments: Environments.names) func scoresCollectedDatasets(_ name: String) throws {
        let env = try Environments.make(name)
        // The MuJoCo tasks have only the random behavior.
        let d = try DataCollection.collect(environment: name, quality: env is Locomotion ? .random : .mixed, steps: 1500, seed: 11)
        let (rewards, costs) = try env.score(d)
        let stored = d.rewards.scalars, storedCosts = d.costs?.scalars ?? .init(repeating: 0, count: d.count)
        #expect(rewards.count == d.count && costs.count == d.count)
        let o = d.observationDim, observations = d.observations.scalars.map(Double.init)
        for i in 0..<d.count {
            // MuJoCo tasks: rows with a velocity at the ±10 clip bound do not determine the state.
            if let loco = env as? Locomotion, loco.clippedVelocityRows([Array(observations[(i * o)..<((i + 1) * o)])]) > 0 { continue }
            #expect(abs(rewards[i] - Double(stored[i])) <= 1e-5 * max(1, abs(Double(stored[i]))), "\(name) row \(i)")
            #expect(costs[i] == Double(storedCosts[i]), "\(name) row \(i)")
        }
        // (Random actions never reach the speed limit of halfcheetah/walker2d-velocity; the MuJoCo cost is
        // checked against Gymnasium's x velocity in LocomotionTests.)
        if env.spec.hasCost && !(env is Locomotion) { #expect(costs.contains(1) && costs.contains(0)) }
    }

    @Test func scoringChecksTheDataset() throws {
        let goal = try DataCollection.collect(environment: "safe-goal", quality: .random, steps: 50, seed: 0)
        #expect(throws: EnvironmentError.wrongSize("observation", environment: "pendulum", expected: 3, found: 22)) {
            try Pendulum().score(goal)
        }
        var noHazards = goal
        noHazards.infos["hazards"] = nil
        #expect(throws: EnvironmentError.missingInfo("hazards", environment: "safe-goal", purpose: "the hazard cost")) {
            try SafeGoal().score(noHazards)
        }
        // Rewards need no infos (the goal comes from g − p), as for generated rows.
        noHazards.infos = [:]
        let rewards = try SafeGoal().rewards(of: noHazards), stored = goal.rewards.scalars
        #expect((0..<50).allSatisfy { abs(rewards[$0] - Double(stored[$0])) <= 1e-5 * max(1, abs(Double(stored[$0]))) })
        var wide = goal
        wide.infos["goal"] = Tensor(zeros: [50, 3])
        #expect(throws: EnvironmentError.wrongSize("infos/goal row", environment: "safe-goal", expected: 2, found: 3)) {
            try SafeGoal().score(wide)
        }
        let maze = try DataCollection.collect(environment: "pointmaze-umaze", quality: .expert, steps: 300, seed: 0)
        let sparse = try PointMaze(layout: .umaze).score(maze, kind: .sparse).rewards
        let next = maze.nextObservations.scalars
        #expect(sparse == (0..<maze.count).map { hypot(Double(next[4 * $0]) - 1, Double(next[4 * $0 + 1]) - 1) <= 0.5 ? 1 : 0 })
    }
}
