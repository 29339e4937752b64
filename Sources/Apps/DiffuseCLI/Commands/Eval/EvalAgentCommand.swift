import Foundation
import PolicyDiffusion

/// `diffuse eval`: a policy's return, normalized score and cost on a built-in environment.
struct EvalAgentCommand: Command {
    static let path = ["eval", "agent"]
    /// The verb scheme is `<verb> <object>` (train agent / eval agent, train regression / eval regression);
    /// the bare `eval` of earlier releases still works.
    static let aliases = [["eval"]]
    static let abstract = "evaluate an agent checkpoint or a scripted behavior: return, normalized score, cost, violations"
    static let discussion = """
    Episodes use reset seeds --seed, --seed+1, …; the agent acts with its mean action (FISOR: the \
    safest of its sampled candidates). Normalized score = 100 (R − random) / (expert − random) with the \
    references of diffuse env list. On safe tasks: mean cost, normalized cost (cost / κ, ≤ 1 is safe), \
    the fraction of episodes with any cost (violation rate) and with cost above κ (unsafe rate), and \
    DSRL's figures as fractions: normalized return (R − R_min) / (R_max − R_min), normalized cost, \
    safe: true|false (normalized cost ≤ 1) for --cost-limit κ (default: the environment's). The MuJoCo \
    tasks use D4RL's reference returns (halfcheetah, hopper, walker2d) and DSRL's R_min / R_max (the \
    -velocity variants).
    """
    static let env = Option("--env", value: "NAME", help: "environment (default: the checkpoint's env)")
    static let policy = Option("--policy", value: "P", help: "agent checkpoint (.safetensors), or scripted:BEHAVIOR (e.g. scripted:expert)")
    static let episodes = Option("--episodes", value: "N", default: "20", help: "episodes")
    static let costLimit = Option("--cost-limit", value: "κ", help: "cost limit of the safety figures (default: the environment's, 10)")
    static let options = [env, policy, episodes, costLimit, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let p = try args.required(policy)
        let n = try args.int(episodes, range: 1...100_000)!
        let kappa = try args.float(costLimit).map(Double.init)
        if let kappa, !(kappa >= 0 && kappa.isFinite) { throw CLIError("--cost-limit must be a finite number ≥ 0", usage: true) }
        let acting: Policy
        var envName = args.string(env)
        if p.hasPrefix("scripted:") {
            let behavior = String(p.dropFirst("scripted:".count))
            guard let name = envName else { throw CLIError("--env is required with a scripted policy", usage: true) }
            let spec = try Environments.make(name).spec
            guard spec.behaviors.contains(behavior) else {
                throw CLIError("\(spec.name) has no behavior '\(behavior)' (known: \(spec.behaviors.joined(separator: ", ")))")
            }
            acting = ScriptedPolicy(behavior)
        } else {
            let loaded = try Loaders.policies.load(URL(fileURLWithPath: p))
            envName = envName ?? loaded.environment
            guard let name = envName else { throw CLIError("the checkpoint names no environment: pass --env", usage: true) }
            let spec = try Environments.make(name).spec
            guard spec.observationSpace.dimension == loaded.observationDim, spec.actionSpace.dimension == loaded.actionDim else {
                throw CLIError("\(p) was trained for \(loaded.observationDim)-d observations and \(loaded.actionDim)-d actions; \(spec.name) has \(spec.observationSpace.dimension) and \(spec.actionSpace.dimension)")
            }
            acting = loaded.policy
        }
        let progress = Progress("eval", total: n, unit: "episodes", console: console)
        if kappa != nil, try Environments.make(envName!).spec.reference.costLimit == nil { throw CLIError("--cost-limit: \(envName!) has no cost") }
        let r = try Evaluation.run(acting, environment: envName!, episodes: n, seed: try args.seed(), costLimit: kappa, progress: progress.update)
        if args.flag(.json) {
            let data = try JSONEncoder().encode(r)
            console.out(String(decoding: data, as: UTF8.self))
            return
        }
        // The MuJoCo tasks score against D4RL's reference returns (docs/environments.md §5), not ours.
        let d4rl = (try? Environments.make(envName!)).map { $0 is Locomotion && !$0.spec.hasCost } ?? false
        console.out(String(format: "%@ over %d episodes: return %.2f ± %.2f, %@ %.1f ± %.1f",
                           r.environment, n, r.returnMean, r.returnStd, d4rl ? "D4RL normalized score" : "normalized score",
                           r.normalizedScoreMean, r.normalizedScoreStd))
        if let nc = r.normalizedCostMean {
            console.out(String(format: "  cost %.2f (normalized %.2f), violation rate %.0f%%, unsafe rate (cost > κ) %.0f%%",
                               r.costMean, nc, 100 * r.violationRate, 100 * (r.unsafeRate ?? 0)))
            console.out(String(format: "  DSRL (κ = %g): normalized return %.3f ± %.3f, normalized cost %.3f, safe: %@", r.costLimit ?? 0,
                               r.normalizedReturnMean ?? 0, r.normalizedReturnStd ?? 0, nc, (r.safe ?? false) ? "true" : "false"))
        }
    }
}
