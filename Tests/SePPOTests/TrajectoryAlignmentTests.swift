import Diffusion
import Foundation
import NN
import OfflineRL
import PGD
@testable import SePPO
import TensorCore
import Testing

/// The trajectory setup (docs/seppo.md §7): the exact path score, the preferred set it ranks, and the
/// preference trainer on PGD's window model.
@Suite("SePPO trajectory setup")
struct TrajectoryAlignmentTests {
    /// S replays the actions with the environment's own transition from the first state: checked
    /// against `nextObservation` (the Environment protocol's exact step) and a hand-computed roughness.
    @Test func pathScoreIsTheReplayedRewardMinusRoughness() {
        let maze = PointMaze(layout: .umaze)
        let start = [1.2, 1.1, 0.3, -0.2]
        let actions = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [2.0, -3.0]]   // the last is clipped to [1, −1]
        var s = start, reward = 0.0
        for a in actions {
            s = maze.nextObservation(after: s, action: a, info: [:])
            reward += Foundation.exp(-maze.distanceToGoal(Array(s[0..<2])))
        }
        // Squared changes of the clipped actions: 0, 1 + 1, 1 + 4.
        let roughness = (0.0 + 2 + 5) / 3
        let generated = [start, start, start, start]   // only the first state matters for S
        let parts = PathScore(smoothnessWeight: 0.25).score(observations: [generated], actions: [actions], maze: maze)[0]
        #expect(parts.valid && abs(parts.reward - reward / 4) < 1e-12 && abs(parts.roughness - roughness) < 1e-12)
        #expect(abs(parts.score - (reward / 4 - 0.25 * roughness)) < 1e-12)
        #expect(parts.planError > 0)
        // A start inside a wall earns no reward; the roughness still counts.
        var wall = start
        wall[0] = 0.1
        let invalid = PathScore().score(observations: [[wall]], actions: [[[0.5, 0.5]]], maze: maze)[0]
        #expect(!invalid.valid && invalid.reward == 0 && invalid.score == 0)
        // A non-finite window (a diverged generator) is scored, not replayed: no trap.
        let broken = PathScore().score(observations: [[[.nan, 1, 0, 0]]], actions: [[[0.5, 0.5]]], maze: maze)[0]
        #expect(!broken.valid && broken.reward == 0 && broken.planError == .infinity)
    }

    /// MuJoCo robots: S replays the window in the simulator, so a window cut from a recorded episode
    /// earns that episode's rewards (from its start, and from a later state, where only MuJoCo's warm
    /// start differs), its own observations come back (plan error ≈ 0), and after hopper falls the
    /// remaining steps earn nothing.
    @Test(arguments: [Locomotion.Robot.halfcheetah, .hopper])
    func pathScoreReplaysAMuJoCoEpisode(_ robot: Locomotion.Robot) throws {
        let env = try Locomotion(robot)
        let rng = RandomGenerator(seed: 5)
        var observations = [env.reset(seed: 3)], actions: [[Double]] = [], rewards: [Double] = []
        var fell: Int?
        while actions.count < 300 && fell == nil {
            let a = (0..<env.spec.actionSpace.low.count).map { _ in rng.uniform(-1, 1) }
            let step = env.step(a)
            actions.append(a); rewards.append(step.reward); observations.append(step.observation)
            if step.terminated { fell = actions.count - 1 }
        }
        let h = 12
        for start in [0, 5] {
            let window = Array(start..<(start + h))
            let parts = PathScore().score(observations: [window.map { observations[$0] }], actions: [window.map { actions[$0] }], robot: try Locomotion(robot))[0]
            let reward = window.map { rewards[$0] }.reduce(0, +) / Double(h)
            #expect(parts.valid && abs(parts.reward - reward) < 1e-6, "start \(start): \(parts.reward) vs \(reward)")
            #expect(parts.planError < 1e-6, "start \(start): plan error \(parts.planError)")
        }
        if robot == .hopper {
            let t = try #require(fell, "random actions should topple hopper within 300 steps")
            // Past the fall the window holds 4 more (arbitrary) actions; they earn nothing.
            let window = Array(0...t)
            let parts = PathScore().score(observations: [window.map { observations[$0] }], actions: [window.map { actions[$0] } + [[Double]](repeating: [0.5, 0.5, 0.5], count: 4)],
                                          robot: try Locomotion(robot))[0]
            #expect(parts.valid && abs(parts.reward - rewards.prefix(t + 1).reduce(0, +) / Double(t + 5)) < 1e-6)
        }
        // A window whose observations have the wrong size is invalid, not a trap.
        let short = PathScore().score(observations: [[[0.1, 0.2]]], actions: [[actions[0]]], robot: try Locomotion(robot))[0]
        #expect(!short.valid && short.reward == 0)
        // pointmaze and the robots share the entry point; other environments are refused.
        #expect(throws: PathScoreError.self) { try PathScore().score(observations: [[[0, 0, 0]]], actions: [[[0]]], environment: Pendulum()) }
        #expect(PathScore.supports(env) && PathScore.supports(PointMaze(layout: .umaze)) && !PathScore.supports(Pendulum()))
    }

    static func data() throws -> (OfflineDataset, TrajectoryLayout) {
        let dataset = try DataCollection.collect(environment: "pointmaze-umaze", quality: .mixed, steps: 1200, seed: 3)
        let layout = try TrajectoryLayout(dataset: dataset, actionSpace: Box(repeating: 1, count: 2), horizon: 8, stride: 4,
                                        actionTransform: .identity)   // atanh would clip |a| = 1 to 0.999
        return (dataset, layout)
    }

    /// Encoded windows score like their raw rows, and the preferred set is exactly the best fraction.
    @Test func preferredWindowsAreTheBestFraction() throws {
        let (dataset, layout) = try Self.data()
        let maze = PointMaze(layout: .umaze)
        let ranked = try TrajectoryPreferences(dataset: dataset, layout: layout, environment: maze)
        let winners = ranked.winners(fraction: 0.25)
        #expect(winners.count == Int((Double(ranked.parts.count) * 0.25).rounded()) && winners.labels.allSatisfy { $0 == 0 })
        let winnerScores = try PathScore().score(windows: winners.samples, layout: layout, environment: maze).map(\.score)
        let cut = ranked.parts.map(\.score).sorted(by: >)[winners.count - 1]
        #expect(winnerScores.allSatisfy { $0 >= cut - 1e-9 })
        let losers = try PathScore().score(windows: ranked.losers(fraction: 0.25, seed: 1), layout: layout, environment: maze).map(\.score)
        #expect(losers.count == winners.count && losers.max()! <= ranked.parts.map(\.score).sorted()[winners.count - 1] + 1e-9)
        // The first window starts at row 0: its score from the normalized encoding matches the raw rows.
        let h = layout.horizon
        func rows(_ t: Tensor) -> [[Double]] {
            let d = t.shape[1]
            return (0..<h).map { i in t.scalars[(i * d)..<((i + 1) * d)].map(Double.init) }
        }
        let raw = PathScore().score(observations: [rows(dataset.observations)], actions: [rows(dataset.actions)], maze: maze)[0]
        #expect(abs(raw.score - ranked.parts[0].score) < 1e-4 && raw.valid == ranked.parts[0].valid)
    }

    /// SePPO, Diffusion-DPO and SFT train a window model: finite losses, the bank grows, samples keep
    /// the window shape, and a resumed run equals a straight one.
    @Test func trainerAlignsAWindowModel() throws {
        let (dataset, layout) = try Self.data()
        let ranked = try TrajectoryPreferences(dataset: dataset, layout: layout, environment: PointMaze(layout: .umaze))
        let config = TrajectoryModel.Config(layout: layout, network: .temporalUNet(.init(transition: layout.width, horizon: 8, dim: 8)))
        let base = TrajectoryModel(config: config, rng: RandomGenerator(seed: 1))
        base.eval()
        var settings = AlignmentSettings()
        settings.batchSize = 4; settings.bankEvery = 2; settings.samplingSteps = 2; settings.beta = 500
        let winners = ranked.winners(fraction: 0.25)
        let seppo = try PreferenceTrainer(base: base, objective: config.objective, winners: winners, settings: settings)
        #expect(base.generate(labels: [0, 0, 0], objective: config.objective, steps: 2, rng: RandomGenerator(seed: 2)).shape == [3, 8, layout.width])
        for _ in 0..<4 { #expect(seppo.trainStep()["loss"]!.isFinite) }
        #expect(seppo.bank.count == 3)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seppo-traj-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = try PreferenceTrainer(base: base, objective: config.objective, winners: winners, settings: settings)
        for _ in 0..<2 { _ = first.trainStep() }
        try first.save(to: url)
        let second = try PreferenceTrainer(base: base, objective: config.objective, winners: winners, settings: settings)
        try second.resume(from: url)
        for _ in 0..<2 { _ = second.trainStep() }
        for ((n, p), (_, q)) in zip(seppo.model.namedParameters(), second.model.namedParameters()) { #expect(p.value.scalars == q.value.scalars, "\(n)") }
        // The aligned checkpoint is a trajectory model again (what `seppo score` and `pgd generate` load).
        #expect(try Checkpoint.load(TrajectoryModel.self, from: url).0.config == config)

        settings.method = .dpo
        let dpo = try PreferenceTrainer(base: base, objective: config.objective, winners: winners,
                                        losers: ranked.losers(fraction: 0.25, seed: 1), settings: settings)
        #expect(abs(dpo.trainStep()["loss"]! - Float(Foundation.log(2.0))) < 1e-4)   // z = 0 while model = reference
        settings.method = .sft
        #expect(try PreferenceTrainer(base: base, objective: config.objective, winners: winners, settings: settings).trainStep()["loss"]!.isFinite)
        // A preferred set of another window shape is refused.
        #expect(throws: SePPOTrainingError.self) {
            try PreferenceTrainer(base: base, objective: config.objective, winners: PreferenceSet(samples: Tensor(zeros: [4, 16, layout.width])), settings: settings)
        }
    }
}
