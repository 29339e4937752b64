import Foundation
import TensorCore

/// D4RL's locomotion recipes (Fu et al. 2020, §5: "medium" = a SAC policy stopped at about a third
/// of the expert's return, "medium-replay" = its replay buffer up to then, "expert" = the trained
/// SAC policy, "medium-expert" = both concatenated) made with this project's own SAC agents, and a
/// DSRL-like `mixed` recipe for the velocity tasks. The behaviour policies are files in one
/// directory (the shipped Checkpoints/), so every dataset is rebuilt in minutes without training
/// (docs/environments.md §7).
public enum LocomotionRecipes {
    /// The agent a recipe acts with: `<robot>-sac-<level>.safetensors` (level medium or expert).
    public static func policyFile(_ robot: String, _ level: String) -> String { "\(robot)-sac-\(level).safetensors" }
    /// The replay buffer the online run held when it saved the medium agent (`train online --snapshot-every`).
    public static func replayFile(_ robot: String) -> String { "\(robot)-sac-medium.replay.hdf5" }

    /// The recipes of each task: D4RL's on the plain tasks, random | medium | expert | mixed on the velocity tasks.
    public static func qualities(velocityConstrained: Bool) -> [DataQuality] {
        velocityConstrained ? [.random, .medium, .expert, .mixed] : [.random, .medium, .mediumReplay, .expert, .mediumExpert]
    }

    /// The behaviours of the velocity tasks' `mixed` recipe (fractions of episodes): uniform random,
    /// the medium and expert agents, and the expert under speed governors at 0.75, 1 and 1.25 × the
    /// cost threshold — episode costs from 0 (random, slow governors) to most of the episode (expert).
    public static let mixedCaps: [Double] = [0.75, 1, 1.25]

    public static func collect(environment name: String, quality: DataQuality, steps: Int, seed: UInt64, behaviors directory: URL,
                               progress: ((Int) -> Void)? = nil) throws -> OfflineDataset {
        precondition(steps > 0, "collect: steps must be positive")
        let env = try Environments.make(name, forDataCollection: true)
        guard let robot = env as? Locomotion else {
            return try DataCollection.collect(environment: name, quality: quality, steps: steps, seed: seed, progress: progress)
        }
        let spec = env.spec, body = robot.task.robot.rawValue
        guard qualities(velocityConstrained: robot.velocityConstrained).contains(quality) else {
            throw EnvironmentError.unknownBehavior(quality.rawValue, environment: spec.name,
                                                   known: qualities(velocityConstrained: robot.velocityConstrained).map(\.rawValue))
        }
        func agent(_ level: String) throws -> AgentPolicy {
            let url = directory.appendingPathComponent(policyFile(body, level))
            guard FileManager.default.fileExists(atPath: url.path) else { throw DataFileError.notFound(url.path) }
            let p = try AgentPolicy.load(url)
            guard p.observationDim == spec.observationSpace.dimension, p.actionDim == spec.actionSpace.dimension else {
                throw EnvironmentError.wrongSize("observation/action of \(url.lastPathComponent)", environment: spec.name,
                                                 expected: spec.observationSpace.dimension, found: p.observationDim)
            }
            // D4RL records the SAC policies' sampled actions, not their means.
            p.sampling = true
            return p
        }
        func run(_ behaviors: [(policy: any Policy, fraction: Double, description: String)], _ n: Int, _ s: UInt64) throws -> OfflineDataset {
            try DataCollection.collect(in: env, behaviors: behaviors, quality: quality.rawValue, steps: n, seed: s, progress: progress)
        }
        var data: OfflineDataset
        switch quality {
        case .random:
            return try DataCollection.collect(environment: name, quality: .random, steps: steps, seed: seed, progress: progress)
        case .medium, .expert:
            data = try run([(agent(quality.rawValue), 1, "SAC \(quality.rawValue) (sampled actions)")], steps, seed)
        case .mediumExpert:
            // D4RL: the medium rows, then the expert rows (here half of --steps each).
            guard steps >= 2 else { throw DataFileError.unsupported("medium-expert needs at least 2 steps") }
            let medium = try run([(agent("medium"), 1, "SAC medium")], steps - steps / 2, seed)
            let expert = try run([(agent("expert"), 1, "SAC expert")], steps / 2, seed &+ 1)
            data = try OfflineDataset.concatenate([medium, expert])
            data.attributes = medium.attributes
            data.attributes["behaviors"] = "rows 0..<\(medium.count): SAC medium; then \(expert.count) rows SAC expert (sampled actions)"
            data.attributes["episodes"] = String(Int(medium.attributes["episodes"] ?? "0")! + Int(expert.attributes["episodes"] ?? "0")!)
        case .mediumReplay:
            let url = directory.appendingPathComponent(replayFile(body))
            guard FileManager.default.fileExists(atPath: url.path) else { throw DataFileError.notFound(url.path) }
            let replay = try OfflineDataset.load(url)
            guard replay.attributes["env"] == spec.name, replay.observationDim == spec.observationSpace.dimension else {
                throw DataFileError.unsupported("\(url.path) is not a \(spec.name) replay buffer")
            }
            // At most --steps rows, the buffer's first (D4RL keeps the whole buffer); a cut episode ends in a timeout.
            let n = Swift.min(steps, replay.count)
            data = replay.subset(Array(0..<n))
            if n < replay.count, data.terminals.scalars[n - 1] == 0 {
                var t = data.timeouts.scalars
                t[n - 1] = 1
                data.timeouts = Tensor(t)
            }
            data.attributes["quality"] = quality.rawValue
            data.attributes["seed"] = replay.attributes["seed"] ?? "?"
        case .mixed:
            let expert = try agent("expert"), medium = try agent("medium")
            let velocity = robot.nq - 1, threshold = robot.task.velocityThreshold
            var behaviors: [(policy: any Policy, fraction: Double, description: String)] = [
                (ScriptedPolicy("random"), 0.1, "10% random"), (medium, 0.2, "20% SAC medium"), (expert, 0.2, "20% SAC expert")]
            for c in mixedCaps {
                behaviors.append((SpeedCappedPolicy(base: expert, cap: c * threshold, velocityIndex: velocity), 0.5 / Double(mixedCaps.count),
                                  String(format: "%.0f%% SAC expert, zero torque above x velocity %.3g", 50 / Double(mixedCaps.count), c * threshold)))
            }
            data = try run(behaviors, steps, seed)
        }
        data.attributes["recipe"] = "D4RL-style, our own SAC agents (docs/environments.md §7)"
        return data
    }
}

/// A speed governor around a policy: its action while the forward velocity (observation index
/// `velocityIndex`, qvel[0]) is at most `cap`, zero torque above it, so the robot coasts back under
/// the cap — episodes whose velocity cost depends on the cap.
public struct SpeedCappedPolicy: Policy {
    public var base: any Policy
    public var cap: Double
    public var velocityIndex: Int

    public init(base: any Policy, cap: Double, velocityIndex: Int) { self.base = base; self.cap = cap; self.velocityIndex = velocityIndex }

    public func actions(for observations: [[Double]], environments: [any Environment], rng: RandomGenerator) -> [[Double]] {
        let a = base.actions(for: observations, environments: environments, rng: rng)
        return zip(observations, a).map { o, act in o[velocityIndex] > cap ? act.map { _ in 0 } : act }
    }
}
