import Foundation
import PolicyDiffusion

/// `diffuse env list`: the built-in environments, their spaces and reference returns.
struct EnvListCommand: Command {
    static let path = ["env", "list"]
    static let abstract = "list the built-in environments (spaces, episode length, behaviors, reference returns)"
    static let discussion = """
    Normalized score = 100 (R − random) / (expert − random): random is the mean return of uniform random \
    actions, expert that of the best scripted behavior, over 100 seeded episodes (diffuse env references). \
    Safe tasks report cost per episode; κ is the cost limit of DSRL's normalized cost.
    """
    static let options = [Option.json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let specs = try Environments.names.map { try Environments.make($0).spec }
        if args.flag(.json) {
            console.out(jsonLine(["environments": specs.map { s -> [String: Any] in
                var d: [String: Any] = ["name": s.name, "summary": s.summary, "observation_dim": s.observationSpace.dimension,
                                        "action_low": s.actionSpace.low, "action_high": s.actionSpace.high,
                                        "episode_length": s.episodeLength, "cost": s.hasCost, "behaviors": s.behaviors,
                                        "infos": s.infoFields, "random_return": s.reference.random, "expert_return": s.reference.expert]
                if let k = s.reference.costLimit { d["cost_limit"] = k }
                return d
            }]))
            return
        }
        for s in specs {
            let bounds = zip(s.actionSpace.low, s.actionSpace.high).map { "[\(fmt($0.0)), \(fmt($0.1))]" }
            console.out("\(s.name): \(s.summary)")
            console.out("  observation \(s.observationSpace.dimension)  action \(s.actionSpace.dimension) in \(Set(bounds).sorted().joined(separator: " "))"
                        + "  episode \(s.episodeLength) steps" + (s.hasCost ? "  cost (κ = \(fmt(s.reference.costLimit ?? 0)))" : ""))
            console.out("  behaviors: \(s.behaviors.joined(separator: ", "))" + (s.infoFields.isEmpty ? "" :
                        "  infos: " + s.infoFields.keys.sorted().map { "\($0)[\(s.infoFields[$0]!)]" }.joined(separator: ", ")))
            console.out("  reference returns: random \(fmt(s.reference.random))  expert \(fmt(s.reference.expert))")
        }
    }

    static func fmt(_ x: Double) -> String { x == x.rounded() && Swift.abs(x) < 1e6 ? String(Int(x)) : String(format: "%.1f", x) }
}
