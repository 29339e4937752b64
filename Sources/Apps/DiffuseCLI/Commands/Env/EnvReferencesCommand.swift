import Foundation
import PolicyDiffusion

/// `diffuse env references`: measures every scripted behavior's return (and cost) — the source of
/// the frozen random / expert reference returns in `References`.
struct EnvReferencesCommand: Command {
    static let path = ["env", "references"]
    static let abstract = "measure each scripted behavior's mean return and cost (the normalized-score references)"
    static let env = Option("--env", value: "NAME", help: "one environment (default: all)")
    static let episodes = Option("--episodes", value: "N", default: "100", help: "episodes per behavior (reset seeds 0..N-1)")
    static let options = [env, episodes, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let n = try args.int(episodes, range: 1...100_000)!
        let names = try args.string(env).map { [try Environments.make($0).spec.name] } ?? Environments.names
        var rows: [[String: Any]] = []
        for name in names {
            let spec = try Environments.make(name).spec
            for b in spec.behaviors {
                let r = try Evaluation.run(ScriptedPolicy(b), environment: name, episodes: n, seed: 0)
                rows.append(["env": name, "behavior": b, "return_mean": r.returnMean, "return_std": r.returnStd,
                             "cost_mean": r.costMean, "violation_rate": r.violationRate])
                if !args.flag(.json) {
                    console.out(String(format: "%-18@ %-13@ return %9.2f ± %7.2f", name, b, r.returnMean, r.returnStd)
                                + (spec.hasCost ? String(format: "  cost %6.2f  violating episodes %3.0f%%", r.costMean, 100 * r.violationRate) : ""))
                }
            }
        }
        if args.flag(.json) { console.out(jsonLine(["episodes": n, "rows": rows])) }
    }
}
