import Foundation
import PolicyDiffusion

/// `diffuse fisor rollout`: a policy's episodes as JSON (observations, rewards, costs per step), for
/// trajectory plots against a safe task's safe region (experiments/fisor_table.py).
struct FISORRolloutCommand: Command {
    static let path = ["fisor", "rollout"]
    static let abstract = "roll out a policy checkpoint for a few episodes and print its trajectories as JSON"
    static let discussion = """
    Episodes use reset seeds --seed, --seed+1, …, as diffuse eval does. Output: one JSON object with the \
    environment and, per episode, its observations (the first one and one after every step), rewards, \
    costs, return and cost.
    """
    static let policy = Option("--policy", value: "P", help: "checkpoint (.safetensors) that diffuse eval can load")
    static let env = Option("--env", value: "NAME", help: "environment (default: the checkpoint's env)")
    static let episodes = Option("--episodes", value: "N", default: "5", help: "episodes")
    static let options = [policy, env, episodes, .seed, .threads]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let path = try args.required(policy)
        let n = try args.int(episodes, range: 1...1000)!
        let loaded = try Loaders.policies.load(URL(fileURLWithPath: path))
        guard let name = args.string(env) ?? loaded.environment else { throw CLIError("the checkpoint names no environment: pass --env", usage: true) }
        let envs = try (0..<n).map { _ in try Environments.make(name) }
        let spec = envs[0].spec
        guard spec.observationSpace.dimension == loaded.observationDim, spec.actionSpace.dimension == loaded.actionDim else {
            throw CLIError("\(path) was trained for \(loaded.observationDim)-d observations and \(loaded.actionDim)-d actions; \(spec.name) has \(spec.observationSpace.dimension) and \(spec.actionSpace.dimension)")
        }
        let seed = try args.seed()
        var observations = [[[Double]]](repeating: [], count: n)
        var rewards = [[Double]](repeating: [], count: n), costs = rewards
        let initial = try Evaluation.play(loaded.policy, in: envs, seed: seed) { i, r in
            observations[i].append(r.observation)
            rewards[i].append(r.reward)
            costs[i].append(r.cost)
        }
        for i in 0..<n { observations[i].insert(initial[i], at: 0) }
        let out: [String: Any] = ["environment": spec.name, "policy": path, "episodes": (0..<n).map { i in
            ["observations": observations[i], "rewards": rewards[i], "costs": costs[i],
             "return": rewards[i].reduce(0, +), "cost": costs[i].reduce(0, +)] as [String: Any]
        }]
        console.out(jsonLine(out))
    }
}
