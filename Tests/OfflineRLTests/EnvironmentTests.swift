import Foundation
import Testing
@testable import OfflineRL
import TensorCore

@Suite struct PendulumTests {
    /// One step from the published Pendulum-v1 equations, written out by hand.
    @Test func stepMatchesHandComputedEquations() {
        let env = Pendulum()
        _ = env.reset(seed: 0)
        env.setState(theta: 1.0, thetaDot: 0.5)
        let r = env.step([1.5])
        // θ̇′ = 0.5 + (3·10/2 · sin 1 + 3 · 1.5) · 0.05; θ′ = 1 + θ̇′ · 0.05; r = −(1² + 0.1 · 0.5² + 0.001 · 1.5²).
        let thd = 0.5 + (15 * sin(1.0) + 4.5) * 0.05
        let th = 1.0 + thd * 0.05
        #expect(abs(r.reward - -(1 + 0.025 + 0.00225)) < 1e-15)
        #expect(abs(r.observation[0] - cos(th)) < 1e-15 && abs(r.observation[1] - sin(th)) < 1e-15 && abs(r.observation[2] - thd) < 1e-15)
        #expect(!r.terminated && !r.truncated)
    }

    @Test func clipsTorqueAndSpeedAndWraps() {
        let env = Pendulum()
        _ = env.reset(seed: 0)
        let theta = 1 + 2 * Double.pi
        env.setState(theta: theta, thetaDot: 7.9)
        let r = env.step([5])  // torque clipped to 2
        // wrap(1 + 2π) = 1; reward uses u = 2.
        #expect(abs(r.reward - -(1 + 0.1 * 7.9 * 7.9 + 0.001 * 4)) < 1e-12)
        #expect(r.observation[2] == 8)  // 7.9 + (15 sin 1 + 6) · 0.05 = 8.83… → clipped
        #expect(abs(env.theta - (theta + 8 * 0.05)) < 1e-15)  // θ is not wrapped
        #expect(abs(Pendulum.wrap(-3 * .pi / 2) - .pi / 2) < 1e-12 && abs(Pendulum.wrap(.pi) + .pi) < 1e-12)
    }

    @Test func resetDrawsAndTruncatesAt200() {
        let env = Pendulum()
        let o = env.reset(seed: 11)
        let rng = RandomGenerator(seed: 11)
        let th = rng.uniform(-.pi, .pi), thd = rng.uniform(-1, 1)
        #expect(o == [cos(th), sin(th), thd])
        var steps = 0
        while !env.step([0]).truncated { steps += 1 }
        #expect(steps + 1 == 200)
    }
}

@Suite struct EnvironmentPropertyTests {
    /// `nextObservation` (the exact transition used for dynamics error) reproduces `step` on
    /// every environment along random and scripted trajectories.
    @Test(arguments: Environments.names) func transitionFunctionMatchesStep(_ name: String) throws {
        let env = try Environments.make(name)
        let rng = RandomGenerator(seed: 5)
        var worst = 0.0
        for episode in 0..<3 {
            var obs = env.reset(seed: UInt64(episode))
            for t in 0..<150 {
                let behavior = env.spec.behaviors[(t / 30 + episode) % env.spec.behaviors.count]
                let a = env.behaviorAction(behavior, rng: rng).map { $0 * 1.3 }  // also beyond the box
                let info = env.info
                let predicted = env.nextObservation(after: obs, action: a, info: info)
                let r = env.step(a)
                // safe-goal: not across a goal reset. MuJoCo tasks: not from a row whose velocities sit at
                // the ±10 clip bound, which does not determine the state (docs/environments.md §5).
                if env.info == info && determinesState(env, obs) {
                    worst = max(worst, zip(predicted, r.observation).map { abs($0 - $1) }.max()!)
                }
                obs = r.observation
                if r.terminated || r.truncated { break }
            }
        }
        #expect(worst < 1e-9, "max |transition − step| = \(worst)")
    }

    /// False for a MuJoCo observation with a velocity at the clip bound (its state is ambiguous).
    func determinesState(_ env: any Environment, _ observation: [Double]) -> Bool {
        (env as? Locomotion)?.clippedVelocityRows([observation]) ?? 0 == 0
    }

    @Test(arguments: Environments.names) func deterministicUnderSeed(_ name: String) throws {
        func rollout() throws -> [Double] {
            let env = try Environments.make(name, forDataCollection: true)
            let rng = RandomGenerator(seed: 9)
            var out = env.reset(seed: 42)
            for _ in 0..<50 { out += env.step(env.behaviorAction("random", rng: rng)).observation }
            return out
        }
        #expect(try rollout() == rollout())
    }

    /// The ball's bounding square never overlaps a wall cell, under long random-action rollouts.
    @Test(arguments: [PointMaze.Layout.umaze, .medium]) func mazeStaysInFreeSpace(_ layout: PointMaze.Layout) {
        let env = PointMaze(layout: layout)
        let rng = RandomGenerator(seed: 1)
        var checked = 0
        for episode in 0..<20 {
            _ = env.reset(seed: UInt64(episode))
            for _ in 0..<300 {
                // Strong random pushes (bang-bang) reach the walls often.
                _ = env.step([rng.nextDouble() < 0.5 ? -1 : 1, rng.nextDouble() < 0.5 ? -1 : 1])
                let p = env.position
                for dx in [-PointMaze.radius + 1e-7, PointMaze.radius - 1e-7] {
                    for dy in [-PointMaze.radius + 1e-7, PointMaze.radius - 1e-7] {
                        let i = Int(floor(p[0] + dx + 0.5)), j = Int(floor(p[1] + dy + 0.5))
                        #expect(!env.isWall(i, j), "ball at \(p) overlaps wall cell (\(i), \(j))")
                    }
                }
                checked += 1
            }
        }
        #expect(checked == 6000)
    }

    @Test func mazeWallStopsTheBall() {
        let env = PointMaze(layout: .umaze)
        _ = env.reset(seed: 0)
        // Cell (1, 1) is free; (0, 1) is a wall. Push towards −x from (1, 1) at full speed.
        let (p, v) = PointMaze.dynamics(maze: env, position: [0.62, 1.0], velocity: [-5, 0], action: [-1, 0])
        #expect(abs(p[0] - 0.6) < 1e-12 && v[0] == 0)  // q = e + 0.5 + r with e = 0
        #expect(p[1] == 1.0)
    }

    @Test func hazardCostFiresExactlyInsideHazards() {
        let hazards = [[0.5, 0.5], [-1.0, 0.3]]
        #expect(SafeGoal.cost(position: [0.5 + 0.2 - 1e-9, 0.5], hazards: hazards) == 1)
        #expect(SafeGoal.cost(position: [0.5 + 0.2 + 1e-9, 0.5], hazards: hazards) == 0)
        #expect(SafeGoal.cost(position: [-1.0, 0.3 - 0.1999], hazards: hazards) == 1)
        #expect(SafeGoal.cost(position: [0, 0], hazards: hazards) == 0)
        // Along trajectories, cost = 1 exactly when the nearest hazard is closer than 0.2.
        let env = SafeGoal()
        let rng = RandomGenerator(seed: 2)
        var inside = 0
        for episode in 0..<10 {
            _ = env.reset(seed: UInt64(episode))
            for _ in 0..<500 {
                let r = env.step(env.behaviorAction("fast-unsafe", rng: rng))
                let nearest = env.hazards.map { hypot($0[0] - env.position[0], $0[1] - env.position[1]) }.min()!
                #expect(r.cost == (nearest < 0.2 ? 1 : 0))
                if r.cost > 0 { inside += 1 }
                if r.terminated || r.truncated { break }
            }
        }
        #expect(inside > 0)  // the fast policy does cross hazards
    }

    @Test func circleCostOutsideBand() {
        #expect(SafeCircle.cost(position: [6.0001, 0]) == 1 && SafeCircle.cost(position: [-6.0001, 3]) == 1)
        #expect(SafeCircle.cost(position: [6, 0]) == 0 && SafeCircle.cost(position: [0, 9]) == 0)
        // Clockwise motion is rewarded: at (0, 7) moving +x.
        #expect(SafeCircle.reward(position: [0, 7], velocity: [1, 0], action: [0, 0]) > 0)
    }

    @Test func lidarBins() {
        // A hazard due east at distance 1.5: bin 0 gets 0.5, bin 1 gets 0, bin 15 gets 0.5 (f = 0).
        let o = SafeGoal.lidar(position: [0, 0], hazards: [[1.5, 0]])
        #expect(abs(o[0] - 0.5) < 1e-12 && o[1] == 0 && abs(o[15] - 0.5) < 1e-12)
        #expect(o.enumerated().allSatisfy { [0, 15].contains($0.offset) || $0.element == 0 })
    }

    @Test func scriptedExpertsBeatRandom() throws {
        // The MuJoCo tasks have no scripted expert (only random).
        for name in Environments.names where try Environments.make(name).spec.behaviors.count > 1 {
            let spec = try Environments.make(name).spec
            let best = spec.behaviors.last!
            let e = try Evaluation.run(ScriptedPolicy(best), environment: name, episodes: 10, seed: 0)
            let r = try Evaluation.run(ScriptedPolicy("random"), environment: name, episodes: 10, seed: 0)
            #expect(e.returnMean > r.returnMean + 0.3 * (spec.reference.expert - spec.reference.random), "\(name)")
        }
    }

    @Test func unknownNamesAreErrors() {
        #expect(throws: EnvironmentError.self) { try Environments.make("cartpole") }
    }
}

@Suite struct CollectionTests {
    @Test func mixturesSumToOne() {
        for env in Environments.names { for q in DataQuality.allCases {
            let m = DataCollection.mixture(environment: env, quality: q)
            #expect(abs(m.map(\.fraction).reduce(0, +) - 1) < 1e-12, "\(env) \(q)")
        } }
    }

    @Test func collectsConsistentData() throws {
        let d = try DataCollection.collect(environment: "safe-goal", quality: .mixed, steps: 1200, seed: 4)
        #expect(d.count == 1200 && d.observationDim == 22 && d.actionDim == 2)
        #expect(d.infos["hazards"]?.shape == [1200, 16] && d.infos["goal"]?.shape == [1200, 2])
        #expect(d.timeouts.scalars[499] == 1 && d.timeouts.scalars[1199] == 1)
        #expect(d.costs != nil)
        // next_observations[i] == observations[i+1] inside episodes.
        let o = d.observations.scalars, n = d.nextObservations.scalars
        for i in 0..<(d.count - 1) where d.timeouts.scalars[i] == 0 && d.terminals.scalars[i] == 0 {
            #expect(Array(n[(i * 22)..<(i * 22 + 22)]) == Array(o[((i + 1) * 22)..<((i + 1) * 22 + 22)]))
        }
        let again = try DataCollection.collect(environment: "safe-goal", quality: .mixed, steps: 1200, seed: 4)
        #expect(again.observations.scalars == d.observations.scalars)
    }

    @Test func pointmazeDataStoresTheMovingTarget() throws {
        let d = try DataCollection.collect(environment: "pointmaze-umaze", quality: .expert, steps: 900, seed: 0)
        let goals = d.infos["goal"]!.scalars
        #expect(Set(stride(from: 0, to: goals.count, by: 2).map { "\(goals[$0]),\(goals[$0 + 1])" }).count > 1)
        // Rewards are those of the fixed goal G = (1, 1).
        let obs = d.nextObservations.scalars, r = d.rewards.scalars
        for i in 0..<d.count {
            let dist = hypot(Double(obs[4 * i]) - 1, Double(obs[4 * i + 1]) - 1)
            #expect(abs(Double(r[i]) - exp(-dist)) < 1e-5)
        }
    }
}
