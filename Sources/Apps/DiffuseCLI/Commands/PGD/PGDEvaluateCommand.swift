import Foundation
import PolicyDiffusion

/// `diffuse pgd evaluate`: how faithful a synthetic dataset is to the environment, and how
/// on-policy it is for a target policy.
struct PGDEvaluateCommand: Command {
    static let path = ["pgd", "evaluate"]
    static let abstract = "measure a synthetic dataset: dynamics and reward error against the exact environment, log π(a|s), out-of-bounds states"
    static let discussion = """
    Dynamics error: mean (and median) over rows of ‖(s′ − f(s, a)) / σ_s‖, with f the environment's \
    exact transition and σ_s the per-dimension std of the --real dataset's observations (of the \
    synthetic data without --real). Reward error: mean |r − r(s, a, f(s, a))|. With --policy: mean \
    log π(a|s) of the target policy in environment units. Out of bounds: rows whose s or s′ leaves the \
    environment's observation box.
    """
    static let data = Option("--data", value: "FILE", help: "synthetic dataset (.hdf5 / .npz)")
    static let env = Option("--env", value: "NAME", help: "environment (default: the file's 'env' attribute)")
    static let real = Option("--real", value: "FILE", help: "real dataset whose observation std sets the error units")
    static let policy = Option("--policy", value: "FILE", help: "target policy (agent checkpoint) for the log-likelihood")
    static let options = [data, env, real, policy, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let path = try args.required(data)
        let synthetic = try OfflineDataset.load(URL(fileURLWithPath: path))
        guard let name = args.string(env) ?? synthetic.attributes["env"] else { throw CLIError("\(path) names no environment: pass --env", usage: true) }
        let environment = try Environments.make(name)
        let reference = try args.string(real).map { try OfflineDataset.load(URL(fileURLWithPath: $0)) } ?? synthetic
        guard reference.observationDim == synthetic.observationDim else { throw CLIError("--real has \(reference.observationDim)-d observations, the data \(synthetic.observationDim)") }
        let target = try args.string(policy).map {
            try Loaders.agent($0, observationDim: synthetic.observationDim, actionDim: synthetic.actionDim, what: "the data")
        }
        let m = try SyntheticDataMetrics(synthetic, environment: environment, stateScale: ColumnStatistics(reference.observations).std, policy: target)
        if args.flag(.json) {
            let data = try JSONEncoder().encode(m)
            console.out(String(decoding: data, as: UTF8.self))
            return
        }
        console.out(String(format: "%@ (%d transitions on %@): dynamics error %.4f (median %.4f) state-std units, reward error %.4f, out of bounds %.2f%%, terminals %.2f%%",
                           path, m.transitions, name, m.dynamicsError, m.dynamicsErrorMedian, m.rewardError, 100 * m.outOfBoundsFraction, 100 * m.terminalFraction)
                    + (m.meanLogLikelihood.map { String(format: "; mean log π(a|s) %.3f", $0) } ?? ""))
    }
}
