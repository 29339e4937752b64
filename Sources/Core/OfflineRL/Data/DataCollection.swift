import Foundation
import TensorCore

/// Dataset quality levels of `diffuse dataset collect`.
public enum DataQuality: String, CaseIterable, Sendable {
    case random, medium, expert, mixed
    /// D4RL: the SAC replay buffer up to the medium policy (locomotion only).
    case mediumReplay = "medium-replay"
    /// D4RL: medium and expert data concatenated (locomotion only).
    case mediumExpert = "medium-expert"

    /// The qualities of the scripted environments (pendulum, pointmaze, safe-circle, safe-goal).
    public static let scripted: [DataQuality] = [.random, .medium, .expert, .mixed]
}

/// One behavior in a quality's mixture: a scripted policy, Gaussian action noise σ added before
/// clipping, and the fraction of episodes it drives.
public struct BehaviorComponent: Sendable, Equatable, CustomStringConvertible {
    public var behavior: String
    public var noise: Double
    public var fraction: Double

    public var description: String {
        String(format: "%.0f%% %@", fraction * 100, behavior) + (noise > 0 ? String(format: " + N(0, %.1f²)", noise) : "")
    }
}

/// Behavior-policy data collection (docs/environments.md): each episode draws its behavior from the
/// quality's mixture, so `mixed` data holds whole episodes of very different quality (and, on the
/// safe tasks, episodes with and without violations).
public enum DataCollection {
    /// Exactly what each quality contains (documented in `diffuse dataset collect --help`).
    public static func mixture(environment: String, quality: DataQuality) -> [BehaviorComponent] {
        func c(_ b: String, _ noise: Double = 0, _ f: Double) -> BehaviorComponent { .init(behavior: b, noise: noise, fraction: f) }
        if quality == .random { return [c("random", 0, 1)] }
        switch environment {
        case "pendulum":
            switch quality {
            case .medium: return [c("medium", 0, 1)]
            case .expert: return [c("expert", 0, 1)]
            default: return [c("random", 0, 1.0 / 3), c("medium", 0, 1.0 / 3), c("expert", 0, 1.0 / 3)]
            }
        case "safe-circle", "safe-goal":
            let experts = environment == "safe-circle" ? ["fast-unsafe", "safe", "safe-slow"] : ["fast-unsafe", "safe-slow"]
            let share = 1 / Double(experts.count)
            switch quality {
            case .medium: return experts.map { c($0, 0.5, share) }
            case .expert: return experts.map { c($0, 0, share) }
            default:  // a quarter random; the rest the experts, half of their episodes noisy
                return experts.flatMap { [c($0, 0, 0.375 * share), c($0, 0.5, 0.375 * share)] } + [c("random", 0, 0.25)]
            }
        default:  // pointmaze: D4RL's maze2d data is the noisy expert (σ 0.5)
            switch quality {
            case .medium: return [c("medium", 0, 1)]
            case .expert: return [c("noisy-expert", 0, 1)]
            default: return [c("random", 0, 1.0 / 3), c("medium", 0, 1.0 / 3), c("noisy-expert", 0, 1.0 / 3)]
            }
        }
    }

    /// Runs behavior episodes until `steps` transitions are recorded (the last episode is cut and
    /// marked as a timeout). Deterministic in `seed`. `progress` receives the rows done so far.
    /// The locomotion tasks' recipes other than `random` need trained behaviour policies: see
    /// `collect(environment:recipe:…)`.
    public static func collect(environment name: String, quality: DataQuality, steps: Int, seed: UInt64,
                               progress: ((Int) -> Void)? = nil) throws -> OfflineDataset {
        precondition(steps > 0, "collect: steps must be positive")
        let env = try Environments.make(name, forDataCollection: true)
        let spec = env.spec
        if env is Locomotion, quality != .random {
            // D4RL's medium/expert recipes act with trained SAC agents (LocomotionRecipes), not a script.
            throw EnvironmentError.unknownBehavior(quality.rawValue, environment: spec.name,
                                                   known: ["random (the other recipes act with the SAC agents in Checkpoints/)"])
        }
        guard DataQuality.scripted.contains(quality) else {
            throw EnvironmentError.unknownBehavior(quality.rawValue, environment: spec.name, known: DataQuality.scripted.map(\.rawValue))
        }
        let mix = mixture(environment: spec.name, quality: quality)
        for m in mix where !spec.behaviors.contains(m.behavior) {
            throw EnvironmentError.unknownBehavior(m.behavior, environment: spec.name, known: spec.behaviors)
        }
        return try collect(in: env, behaviors: mix.map { (ScriptedPolicy($0.behavior, noise: $0.noise), $0.fraction, $0.description) },
                           quality: quality.rawValue, steps: steps, seed: seed, progress: progress)
    }

    /// The episode loop of every recipe: each episode's policy is drawn by its fraction from
    /// `behaviors` (policy, fraction, description). Deterministic in `seed`.
    public static func collect(in env: any Environment, behaviors mix: [(policy: any Policy, fraction: Double, description: String)],
                               quality: String, steps: Int, seed: UInt64, progress: ((Int) -> Void)? = nil) throws -> OfflineDataset {
        precondition(steps > 0 && !mix.isEmpty, "collect: steps must be positive and there must be a behavior")
        let spec = env.spec
        let o = spec.observationSpace.dimension, a = spec.actionSpace.dimension
        var obs = [Float](), next = [Float](), acts = [Float](), rewards = [Float](), costs = [Float]()
        var terminals = [Float](), timeouts = [Float]()
        var infos: [String: [Float]] = spec.infoFields.mapValues { _ in [] }
        obs.reserveCapacity(steps * o); next.reserveCapacity(steps * o); acts.reserveCapacity(steps * a)
        let master = RandomGenerator(seed: seed)
        var rows = 0, episode = 0
        while rows < steps {
            let episodeSeed = master.nextUInt64()
            let rng = RandomGenerator(seed: master.nextUInt64())
            // The episode's behavior, drawn by its fraction.
            var u = rng.nextDouble(), policy = mix[mix.count - 1].policy
            for m in mix { if u < m.fraction { policy = m.policy; break }; u -= m.fraction }
            var s = env.reset(seed: episodeSeed)
            var done = false
            while !done && rows < steps {
                for (k, v) in env.info { infos[k]! += v.map(Float.init) }
                let action = policy.actions(for: [s], environments: [env], rng: rng)[0]
                let r = env.step(action)
                if let failure = env.failure { throw EnvironmentError.simulationFailed("episode \(episode): \(failure)") }
                obs += s.map(Float.init); acts += action.map(Float.init); next += r.observation.map(Float.init)
                rewards.append(Float(r.reward)); costs.append(Float(r.cost))
                rows += 1
                done = r.terminated || r.truncated
                terminals.append(r.terminated ? 1 : 0)
                timeouts.append(r.truncated || (!done && rows == steps) ? 1 : 0)
                s = r.observation
                if rows % 10_000 == 0 { progress?(rows) }
            }
            episode += 1
        }
        progress?(rows)
        var attributes = ["env": spec.name, "quality": quality, "seed": String(seed), "episodes": String(episode),
                          "behaviors": mix.map(\.description).joined(separator: "; "), "format": "D4RL/DSRL (PolicyDiffusion)"]
        if spec.name.hasPrefix("pointmaze") { attributes["note"] = "rewards use the fixed evaluation goal; infos/goal is the behavior's target" }
        return try OfflineDataset(observations: Tensor(obs, shape: [rows, o]), actions: Tensor(acts, shape: [rows, a]),
                                  rewards: Tensor(rewards), nextObservations: Tensor(next, shape: [rows, o]),
                                  terminals: Tensor(terminals), timeouts: Tensor(timeouts),
                                  costs: spec.hasCost ? Tensor(costs) : nil,
                                  infos: infos.mapValues { Tensor($0, shape: [rows, $0.count / rows]) }, attributes: attributes)
    }
}
