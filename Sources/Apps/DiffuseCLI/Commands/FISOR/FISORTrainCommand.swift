import Foundation
import PolicyDiffusion

/// `diffuse fisor train`: FISOR (docs/fisor.md) or its behavior-cloning baselines on a safe-RL dataset.
struct FISORTrainCommand: Command {
    static let path = ["fisor", "train"]
    static let abstract = "train FISOR (feasibility-guided diffusion, safe offline RL) or the BC-All / BC-Safe baselines"
    static let discussion = """
    docs/fisor.md: HJ feasibility critics Q_h, V_h (h = +25 if cost > 0 else −1) and reward critics \
    Q_r, V_r learn offline; a diffusion actor (residual MLP, VP T = 5) is trained by weighted denoising \
    (reward-advantage weights in the feasible region, feasibility-advantage weights outside); actions \
    are the safest of 16 sampled candidates. Defaults are the reference code's except a reduced CPU \
    budget (block width 256, 2 × 256 actor rows per iteration, 2,000 iterations); --preset paper restores \
    width 1024, 2 × 1024 rows and 10⁶ iterations. --critic qc is the cost-critic ablation (it uses the \
    cost limit in training). --algo bc-all clones every transition, bc-safe only the episodes whose cost \
    return is ≤ --cost-limit (the BC agent of diffuse train agent). The dataset must carry costs. \
    A final evaluation (with an environment) reports DSRL's normalized return and cost for --cost-limit.
    """
    static let algo = Option("--algo", value: "A", default: "fisor", help: "fisor | bc-all | bc-safe")
    static let data = Option("--data", value: "FILE", help: "safe-RL dataset (.hdf5 / .npz with costs, DSRL keys)")
    static let output = Option("--output", "-o", value: "FILE", help: "checkpoint to write (.safetensors)")
    static let env = Option("--env", value: "NAME", help: "environment for action bounds, episode length and evaluation (default: the dataset's 'env')")
    static let critic = Option("--critic", value: "C", default: "hj", help: "hj (Hamilton-Jacobi feasibility) | qc (cost-critic ablation)")
    static let costLimit = Option("--cost-limit", value: "κ", default: "10", help: "cost limit: BC-Safe's episode filter, qc's threshold, the evaluation")
    static let preset = Option("--preset", value: "P", default: "reduced", help: "reduced (CPU minutes) | paper (the reference budget)")
    static let steps = Option("--steps", value: "N", help: "iterations (FISOR: 2 actor steps + 4 critic steps each; default: the preset's)")
    static let selection = Option("--selection", value: "S", default: "min-qh", help: "min-qh (safest candidate) | max-qr (best feasible candidate)")
    static let evalEpisodes = Option("--eval-episodes", value: "N", default: "20", help: "episodes of the final evaluation (0: none)")
    static let checkpointEvery = Option.checkpointEvery(default: 5000)
    static let logEvery = Option.logEvery(default: 1000)
    static let options = [algo, data, output, env, critic, costLimit, preset, steps, selection, evalEpisodes, checkpointEvery, .resume, .stopAfter,
                          logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let method = args.string(algo)!
        guard ["fisor", "bc-all", "bc-safe"].contains(method) else { throw CLIError("--algo must be fisor, bc-all or bc-safe (got '\(method)')", usage: true) }
        guard let criticKind = FeasibilityCritic(rawValue: args.string(critic)!) else { throw CLIError("--critic must be hj or qc", usage: true) }
        guard let rule = CandidateSelection(rawValue: args.string(selection)!) else { throw CLIError("--selection must be min-qh or max-qr", usage: true) }
        guard ["reduced", "paper"].contains(args.string(preset)!) else { throw CLIError("--preset must be reduced or paper", usage: true) }
        let kappa = try args.float(costLimit)!
        guard kappa >= 0 && kappa.isFinite else { throw CLIError("--cost-limit must be a finite number ≥ 0", usage: true) }
        let dataPath = try args.required(data)
        let url = URL(fileURLWithPath: try args.required(output))
        let episodes = try args.int(evalEpisodes, range: 0...10_000)!
        let seed = try args.seed()

        let dataset = try OfflineDataset.load(URL(fileURLWithPath: dataPath))
        guard dataset.costs != nil else { throw CLIError("\(dataPath) has no costs: FISOR and BC-Safe need a safe-RL dataset (e.g. diffuse dataset collect --env safe-circle)") }
        let context = try DatasetEnvironment(dataset: dataset, path: dataPath, env: args.string(env), console: console)

        var settings = args.string(preset)! == "paper" ? FISORSettings.paper : FISORSettings()
        settings.critic = criticKind
        settings.costLimit = kappa
        settings.selection = rule
        settings.episodeLength = context.environment?.spec.episodeLength ?? dataset.episodeSummaries().map(\.length).max() ?? 1
        let total = try args.int(steps, range: 1...100_000_000) ?? settings.iterations
        settings.iterations = total

        if let group = ProcessGroup.active, settings.actorBatchSize % group.size != 0 || settings.criticBatchSize % group.size != 0 {
            throw CLIError("--distributed: FISOR's actor and critic blocks (\(settings.actorBatchSize), \(settings.criticBatchSize) rows) must split evenly over the \(group.size) ranks", usage: true)
        }
        let trainer: OfflineTrainer
        var metadata = ["algorithm": method, "dataset": dataPath, "command": args.invocation, "cost_limit": String(kappa)]
        if let name = context.name { metadata["env"] = name }
        switch method {
        case "fisor":
            trainer = try FISOR.trainer(dataset: dataset, settings: settings, actionBounds: context.actionBounds, seed: seed)
        default:
            let subset = method == "bc-safe" ? try dataset.safeEpisodes(costLimit: Double(kappa)) : dataset
            if method == "bc-safe" { console.err("bc-safe: \(subset.episodes.count) of \(dataset.episodes.count) episodes have cost ≤ \(kappa)") }
            trainer = try OfflineTrainer(dataset: subset, algorithm: .bc, hyperparameters: .defaults(for: .bc), actionBounds: context.actionBounds, seed: seed)
        }

        let run = try ResumableRun(args, total: total, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(trainer, label: "train \(method)", metadata: metadata, console: console)
        if outcome.stopped { return }
        let (final, seconds) = (outcome.metrics, outcome.seconds)
        var result: EvaluationResult?
        if let name = context.name, episodes > 0, ProcessGroup.active?.isRoot ?? true {
            result = try Evaluation.run(trainer.policy(metadata: metadata), environment: name, episodes: episodes, seed: 1_000_000 &+ seed,
                                        costLimit: Double(kappa))
        }
        if args.flag(.json) {
            var out: [String: Any] = ["checkpoint": url.path, "algorithm": method, "critic": criticKind.rawValue, "steps": total, "seconds": seconds,
                                      "final_losses": final, "cost_limit": Double(kappa)]
            if let r = result {
                out["return_mean"] = r.returnMean; out["cost_mean"] = r.costMean
                out["normalized_return"] = r.normalizedReturnMean ?? 0; out["normalized_cost"] = r.normalizedCostMean ?? 0; out["safe"] = r.safe ?? false
            }
            console.out(jsonLine(out))
        } else {
            console.out(String(format: "%@ trained %d steps in %.1f s → %@", method, total, seconds, url.path)
                        + (result.map { String(format: "; %d episodes: normalized return %.3f, normalized cost %.3f (κ = %g), safe: %@", episodes,
                                                      $0.normalizedReturnMean ?? 0, $0.normalizedCostMean ?? 0, kappa, ($0.safe ?? false) ? "true" : "false") } ?? ""))
        }
    }
}
