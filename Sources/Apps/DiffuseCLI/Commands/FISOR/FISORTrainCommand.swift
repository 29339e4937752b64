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
    are the safest of 16 sampled candidates. --schedule critic-first (default) trains the critics alone \
    for --critic-steps, then the actor for --actor-steps iterations on the frozen critics; --schedule \
    joint is the reference loop (each iteration: 2 actor steps, then one step of each critic). Every \
    --log-every critic steps a `step N/M  feasible_fraction …` line logs the feasibility critic's \
    convergence (diffuse plot curves reads it). Defaults are the reference code's except a reduced CPU \
    budget (block width 256, 2 × 256 actor rows per iteration, 2,000 actor iterations, 12,000 on the \
    MuJoCo velocity tasks); --preset paper \
    restores width 1024, 2 × 1024 rows and 10⁶ iterations. --critic qc is the cost-critic ablation (it \
    uses the cost limit in training). --algo bc-all clones every transition, bc-safe only the episodes \
    whose cost return is ≤ --cost-limit (the BC agent of diffuse train agent; --actor-steps are its \
    steps). The dataset must carry costs. A final evaluation (with an environment) reports DSRL's \
    normalized return and cost for --cost-limit.
    """
    /// What --algo trains.
    enum Method: String, CaseIterable { case fisor, bcAll = "bc-all", bcSafe = "bc-safe" }
    enum Preset: String, CaseIterable { case reduced, paper }
    static let algo = Option("--algo", value: "A", default: "fisor", help: "fisor | bc-all | bc-safe")
    static let data = Option("--data", value: "FILE", help: "safe-RL dataset (.hdf5 / .npz with costs, DSRL keys)")
    static let output = Option("--output", "-o", value: "FILE", help: "checkpoint to write (.safetensors)")
    static let env = Option("--env", value: "NAME", help: "environment for action bounds, episode length and evaluation (default: the dataset's 'env')")
    static let critic = Option("--critic", value: "C", default: "hj", help: "hj (Hamilton-Jacobi feasibility) | qc (cost-critic ablation)")
    static let costLimit = Option("--cost-limit", value: "κ", default: "10", help: "cost limit: BC-Safe's episode filter, qc's threshold, the evaluation")
    static let preset = Option("--preset", value: "P", default: "reduced", help: "reduced (CPU minutes) | paper (the reference budget)")
    static let schedule = Option("--schedule", value: "S", default: "critic-first", help: "critic-first (critics, then the actor) | joint (the reference loop)")
    static let criticSteps = Option("--critic-steps", value: "N", help: "critic-first: critic steps before the actor's (default: 40000)")
    static let actorSteps = Option("--actor-steps", value: "N", help: "actor iterations, 2 actor steps each (BC: its steps; default: the preset's: reduced 2000, 12000 on *-velocity tasks)")
    static let steps = Option("--steps", value: "N", help: "the same as --actor-steps (kept for older scripts)")
    static let selection = Option("--selection", value: "S", default: "min-qh", help: "min-qh (safest candidate) | max-qr (best feasible candidate) | feasible-sample (first feasible candidate)")
    static let feasibleMargin = Option("--feasible-margin", value: "δ", default: "0",
                                       help: "reward weights only for actions with Q_h ≤ −δ (0: the paper's rule; docs/fisor.md, \"A feasibility margin\")")
    static let criticsFrom = Option("--critics-from", value: "FILE", help: "critic-first: skip the critic phase, starting the actor on the critics of FILE (a FISOR run past the same critic phase)")
    static let evalEpisodes = Option("--eval-episodes", value: "N", default: "20", help: "episodes of the final evaluation (0: none)")
    static let checkpointEvery = Option.checkpointEvery(default: 5000)
    static let logEvery = Option.logEvery(default: 1000)
    static let options = [algo, data, output, env, critic, costLimit, preset, schedule, criticSteps, actorSteps, steps, selection, feasibleMargin, criticsFrom, evalEpisodes,
                          checkpointEvery, .resume, .stopAfter, logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let method = try args.choice(algo, Method.self)!
        let criticKind = try args.choice(critic, FeasibilityCritic.self)!
        let rule = try args.choice(selection, CandidateSelection.self)!
        let order = try args.choice(schedule, FISORSchedule.self)!
        let kappa = try args.float(costLimit)!
        guard kappa >= 0 && kappa.isFinite else { throw CLIError("--cost-limit must be a finite number ≥ 0", usage: true) }
        let margin = try args.float(feasibleMargin)!
        guard margin >= 0 && margin.isFinite else { throw CLIError("--feasible-margin must be a finite number ≥ 0", usage: true) }
        let url = URL(fileURLWithPath: try args.required(output))
        let episodes = try args.int(evalEpisodes, range: 0...10_000)!
        let seed = try args.seed()
        let critics = try args.int(criticSteps, range: 0...100_000_000)
        if critics != nil && (method != .fisor || order == .joint) {
            throw CLIError("--critic-steps applies to --algo fisor with --schedule critic-first (bc-all and bc-safe have no critics; joint takes one critic step per iteration)", usage: true)
        }
        var actors = try args.int(actorSteps, range: 1...100_000_000)
        if let legacy = try args.int(steps, range: 1...100_000_000) {
            guard actors == nil || actors == legacy else { throw CLIError("--steps and --actor-steps differ: give one", usage: true) }
            actors = legacy
        }

        let input = try TrainingData(args, data: data, env: env, console: console)
        let (dataset, context) = (input.dataset, input.context)
        guard dataset.costs != nil else { throw CLIError("\(input.path) has no costs: FISOR and BC-Safe need a safe-RL dataset (e.g. diffuse dataset collect --env safe-circle)") }

        var settings = try args.choice(preset, Preset.self)! == .paper ? FISORSettings.paper
            : FISORSettings.reduced(forEnvironment: context.environment?.spec.name)
        settings.critic = criticKind
        settings.costLimit = kappa
        settings.selection = rule
        settings.feasibleMargin = margin
        settings.schedule = order
        settings.episodeLength = context.environment?.spec.episodeLength ?? dataset.episodeSummaries().map(\.length).max() ?? 1
        settings.iterations = actors ?? settings.iterations
        settings.criticSteps = critics ?? settings.criticSteps
        // A shared critic phase (docs/fisor.md, "Sharing a critic phase"): the run is its actor phase.
        var sharedCritics: FISORNetworks?
        let criticsPath = args.string(criticsFrom)
        if let path = criticsPath {
            guard method == .fisor && order == .criticFirst else { throw CLIError("--critics-from applies to --algo fisor with --schedule critic-first", usage: true) }
            let source = try FISORPolicy.load(URL(fileURLWithPath: path))
            let done = Int(source.metadata["training.algorithm.critic_steps"] ?? "") ?? 0
            guard done >= settings.criticSteps, FISOR.sameCriticPhase(source.settings, settings) else {
                throw CLIError("--critics-from \(path): its critic phase (\(done) of \(source.settings.criticSteps) steps) is not this run's (\(settings.criticSteps) steps with the same critic settings)")
            }
            sharedCritics = source.networks
        }
        let total = method == .fisor ? (sharedCritics == nil ? settings.totalSteps : settings.iterations) : settings.iterations

        if let group = ProcessGroup.active, settings.actorBatchSize % group.size != 0 || settings.criticBatchSize % group.size != 0 {
            throw CLIError("--distributed: FISOR's actor and critic blocks (\(settings.actorBatchSize), \(settings.criticBatchSize) rows) must split evenly over the \(group.size) ranks", usage: true)
        }
        let trainer: OfflineTrainer
        var extra = ["algorithm": method.rawValue, "cost_limit": String(kappa)]
        if let path = criticsPath { extra["critics_from"] = path }
        let metadata = input.metadata(extra)
        switch method {
        case .fisor:
            trainer = try FISOR.trainer(dataset: dataset, settings: settings, actionBounds: context.actionBounds, seed: seed,
                                        convergenceEvery: try args.int(logEvery, range: 1...Int.max)!)
        case .bcAll, .bcSafe:
            let subset = method == .bcSafe ? try dataset.safeEpisodes(costLimit: Double(kappa)) : dataset
            if method == .bcSafe { console.err("bc-safe: \(subset.episodes.count) of \(dataset.episodes.count) episodes have cost ≤ \(kappa)") }
            trainer = try OfflineTrainer(dataset: subset, algorithm: .bc, hyperparameters: .defaults(for: .bc), actionBounds: context.actionBounds, seed: seed)
        }
        let fisor = trainer.algorithm as? FISOR
        if let sharedCritics { fisor?.adoptCritics(from: sharedCritics) }  // (--resume then restores the checkpoint over it)
        // The feasibility critic's convergence (docs/fisor.md, "Convergence log"), in the training
        // log's `step N/M  name value …` form so that diffuse plot curves draws it.
        var convergence: [String: Float] = [:]
        func logConvergence(_ done: Int) {
            guard let record = fisor?.takeConvergence() else { return }
            convergence = record
            console.err("step \(done)/\(total)  " + record.keys.sorted().map { String(format: "%@ %.6g", $0, Double(record[$0]!)) }.joined(separator: "  "))
        }

        let run = try ResumableRun(args, total: total, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(trainer, label: "train \(method.rawValue)", metadata: metadata, console: console,
                                    afterStep: { done, _ in logConvergence(done) })
        if outcome.stopped { return }
        let (final, seconds) = (outcome.metrics, outcome.seconds)
        let evaluates = episodes > 0 && ProcessGroup.active?.isRoot ?? true
        let result = evaluates ? try input.evaluate(trainer.policy(metadata: metadata), episodes: episodes, runSeed: seed, costLimit: Double(kappa)) : nil
        var json: [String: Any] = ["checkpoint": url.path, "algorithm": method.rawValue, "critic": criticKind.rawValue, "steps": total, "seconds": seconds,
                                   "final_losses": final, "cost_limit": Double(kappa)]
        if method == .fisor {
            json["schedule"] = order.rawValue; json["critic_steps"] = order == .criticFirst ? settings.criticSteps : total
            json["actor_steps"] = settings.iterations; json["convergence"] = convergence
        }
        if let r = result {
            json["return_mean"] = r.returnMean; json["cost_mean"] = r.costMean
            json["normalized_return"] = r.normalizedReturnMean ?? 0; json["normalized_cost"] = r.normalizedCostMean ?? 0; json["safe"] = r.safe ?? false
        }
        console.summary(args, json: json, text: String(format: "%@ trained %d steps in %.1f s → %@", method.rawValue, total, seconds, url.path)
                        + (result.map { String(format: "; %d episodes: normalized return %.3f, normalized cost %.3f (κ = %g), safe: %@", episodes,
                                                      $0.normalizedReturnMean ?? 0, $0.normalizedCostMean ?? 0, kappa, ($0.safe ?? false) ? "true" : "false") } ?? ""))
    }
}
