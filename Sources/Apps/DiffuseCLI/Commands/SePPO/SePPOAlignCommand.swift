import Foundation
import PolicyDiffusion

/// `diffuse seppo align`: SePPO, or one of its baselines, from a base generator toward a preferred set —
/// a digits model toward clean digits, or a trajectory model (pointmaze or a MuJoCo robot) toward high-return,
/// smooth windows.
struct SePPOAlignCommand: Command {
    static let path = ["seppo", "align"]
    static let abstract = "align a digits or trajectory model to preferred samples: SePPO (bank reference + AAF), Diffusion-DPO, SFT or SPIN"
    static let discussion = """
    The base decides the setup (docs/seppo.md §6–§7). An image model (diffuse seppo train-base, diffuse \
    train image): the preferred set is the clean generator split of --preferred when it is a digits CSV, \
    or every image of --preferred when it is images (.npy / .npz / PNG folder, as diffuse train image \
    reads them; labelled for a class-conditional model). A trajectory model \
    (diffuse train trajectory on pointmaze-umaze or a MuJoCo robot): --preferred is a dataset; its \
    windows are ranked by the exact path score (mean reward of the actions replayed in the environment \
    from the window's first state, minus --smoothness × mean squared action change) and the best --top fraction \
    is the preferred set. seppo: the reference comes from a bank of \
    snapshots taken every --bank-every updates (--ref), its samples take the loser's place, and the \
    anchor flipper (--flip) decides per sample whether they are losers. spin: latest snapshot, samples \
    always losers. dpo: oracle pairs (digits: each preferred digit against a degraded copy; windows: \
    against one of the worst --top fraction), the base model as reference. sft: the denoising loss on \
    the preferred set. Logs loss, implicit accuracy and flip rate. Resumable with --resume (bank included).
    """
    static let defaults = AlignmentSettings()
    static let base = Option("--base", value: "FILE", help: "base model: digits (diffuse seppo train-base) or trajectory (diffuse train trajectory)")
    static let preferred = Option("--preferred", value: "FILE", help: "images: a digits CSV (default data/digits.csv) or images (.npy, .npz, PNG folder); trajectories: the dataset to rank")
    static let top = Option("--top", value: "F", default: "0.2", help: "trajectories: the preferred fraction of the dataset's windows (0 … 0.5)")
    static let env = Option("--env", value: "NAME", help: "trajectories: the environment (default: the base model's, from its training data)")
    static let output = Option("--output", "-o", value: "FILE", help: "aligned model checkpoint to write (.safetensors)")
    static let method = Option("--method", value: "M", default: defaults.method.rawValue, help: "seppo | dpo | sft | spin")
    static let reference = Option("--ref", value: "R", help: "seppo's reference strategy: random (default) | initial | latest")
    static let flip = Option("--flip", value: "F", help: "seppo's anchor flipper: sign (default) | indicator | off")
    static let beta = Option("--beta", value: "B", default: String(defaults.beta), help: "β (mean error, β/2 scale; docs/seppo.md §2)")
    static let steps = Option("--steps", value: "N", default: String(defaults.steps), help: "optimizer updates")
    static let bankEvery = Option("--bank-every", value: "N", default: String(defaults.bankEvery), help: "append a snapshot to the bank every N updates")
    static let batch = Option("--batch-size", value: "N", default: String(defaults.batchSize), help: "preferred samples per update")
    static let lr = Option("--lr", value: "RATE", default: String(defaults.learningRate), help: "AdamW learning rate (weight decay 0.01, clip 1)")
    static let samplingSteps = Option("--sampling-steps", value: "N", default: String(defaults.samplingSteps), help: "sampler steps per reference sample")
    static let scorer = Option("--scorer", value: "FILE", help: "log a score-vs-step curve and the flipper's precision (diagnostics only): digits, a held-out scorer checkpoint; trajectories, 'exact' (the path score)")
    static let evalEvery = Option("--eval-every", value: "N", default: "30", help: "with --scorer: evaluate every N updates (and at the start)")
    static let checkpointEvery = Option.checkpointEvery(default: 100)
    static let logEvery = Option.logEvery(default: 30)
    static let options = [base, preferred, top, env, Option.smoothness, output, method, reference, flip, beta, steps, bankEvery, batch, lr, samplingSteps, scorer, evalEvery,
                          checkpointEvery, .resume, .stopAfter, logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let settings = try parseSettings(args)
        let basePath = try args.required(base)
        if try SePPOInputs.isTrajectoryModel(basePath) {
            try alignTrajectories(args, basePath: basePath, settings: settings, output: url, console: console)
        } else {
            try alignImages(args, basePath: basePath, settings: settings, output: url, console: console)
        }
    }

    static func parseSettings(_ args: ParsedArguments) throws -> AlignmentSettings {
        var settings = AlignmentSettings()
        let m = try args.choice(method, AlignmentMethod.self)!
        settings.method = m
        if let r = try args.choice(reference, ReferenceStrategy.self) {
            guard m == .seppo else { throw CLIError("--ref applies to --method seppo only (\(m.rawValue) fixes its reference)", usage: true) }
            settings.reference = r
        }
        if let f = try args.choice(flip, FlipMode.self) {
            guard m == .seppo else { throw CLIError("--flip applies to --method seppo only (\(m.rawValue) never flips)", usage: true) }
            settings.flip = f
        }
        settings.beta = try args.float(beta)!
        guard settings.beta > 0 else { throw CLIError("--beta must be positive", usage: true) }
        settings.steps = try args.int(steps, range: 1...10_000_000)!
        settings.bankEvery = try args.int(bankEvery, range: 1...10_000_000)!
        settings.batchSize = try args.int(batch, range: 1...65_536)!
        settings.learningRate = try args.float(lr)!
        settings.samplingSteps = try args.int(samplingSteps, range: 1...1000)!
        settings.seed = try args.seed()
        return settings
    }

    static func alignImages(_ args: ParsedArguments, basePath: String, settings: AlignmentSettings, output url: URL, console: Console) throws {
        let (model, objective) = try SePPOInputs.generator(basePath)
        guard case let .discrete(_, trainSteps, _) = objective, settings.samplingSteps <= trainSteps else {
            throw CLIError("--sampling-steps must be at most the model's training steps", usage: true)
        }
        let preferredPath = args.string(preferred) ?? "data/digits.csv"
        let winners: PreferenceSet, losers: Tensor?
        if preferredPath.lowercased().hasSuffix(".csv") {
            let digits = try SePPOInputs.digits(preferredPath).split(.generator)
            winners = PreferenceSet(digits)
            // Oracle pairs (Diffusion-DPO only): each preferred digit against a degraded copy, fixed by the seed.
            losers = settings.method == .dpo ? Degradation.degrade(digits.images, rng: RandomGenerator(seed: settings.seed &+ 0xD90)).images : nil
        } else {
            winners = try SePPOInputs.preferredImages(preferredPath, for: model)
            guard settings.method != .dpo else { throw CLIError("--method dpo needs oracle losers, which only the digits setup has (use seppo, sft or spin)", usage: true) }
            losers = nil
        }
        let c = model.config
        guard args.string(scorer) == nil || (c.channels == 1 && c.size == DigitsData.side && c.classes == DigitsData.classes) else {
            throw CLIError("--scorer judges 8×8 digits only (diffuse seppo train-scorer); this model makes \(c.size)×\(c.size)×\(c.channels) images", usage: true)
        }
        let trainer = try makeTrainer(base: model, objective: objective, winners: winners, losers: losers, settings: settings)
        console.err("\(winners.count) preferred images; \(describe(settings))")
        let monitor = try args.string(scorer).map { AlignmentMonitor(scorer: try SePPOInputs.scorer($0), seed: settings.seed &+ 0xE7A1) }
        try train(trainer, monitor: monitor, args: args, metadata: ["base": basePath, "preferred": preferredPath], output: url, console: console)
    }

    static func alignTrajectories(_ args: ParsedArguments, basePath: String, settings: AlignmentSettings, output url: URL, console: Console) throws {
        let (model, metadata, _) = try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: basePath))
        model.eval()
        guard let dataPath = args.string(preferred) else { throw CLIError("a trajectory model needs --preferred DATASET (the windows to rank)", usage: true) }
        let environment = try SePPOInputs.pathEnvironment(args.string(env) ?? metadata["env"], for: basePath, layout: model.layout)
        let pathScore = try SePPOInputs.pathScore(args)
        let fraction = try args.float(top)!
        guard fraction > 0 && fraction <= 0.5 else { throw CLIError("--top must be in (0, 0.5], got \(fraction)", usage: true) }
        let ranked: TrajectoryPreferences
        do {
            ranked = try TrajectoryPreferences(dataset: try OfflineDataset.load(URL(fileURLWithPath: dataPath)), layout: model.layout, environment: environment,
                                               score: pathScore)
        } catch let e as TrajectoryLayoutError { throw CLIError("\(dataPath): \(e)") }
        let winners = ranked.winners(fraction: Double(fraction))
        let losers = settings.method == .dpo ? ranked.losers(fraction: Double(fraction), seed: settings.seed &+ 0xD90) : nil
        let trainer = try makeTrainer(base: model, objective: model.config.objective, winners: winners, losers: losers, settings: settings)
        let cut = ranked.parts[ranked.ranking[winners.count - 1]].score
        console.err(String(format: "%d preferred windows of %d (path score ≥ %.4f); %@", winners.count, ranked.parts.count, cut, describe(settings)))
        var monitor: AlignmentMonitor?
        if let s = args.string(scorer) {
            guard s == "exact" else { throw CLIError("--scorer for a trajectory model is 'exact' (the path score), got '\(s)'", usage: true) }
            let layout = model.layout
            monitor = AlignmentMonitor(curveLabels: [Int](repeating: 0, count: 64), seed: settings.seed &+ 0xE7A1) { windows, _ in
                ((try? pathScore.score(windows: windows, layout: layout, environment: environment)) ?? []).map { Float($0.score) }
            }
        }
        try train(trainer, monitor: monitor, args: args, metadata: ["base": basePath, "preferred": dataPath, "env": environment.spec.name, "top": String(fraction), "smoothness": String(pathScore.smoothnessWeight)],
                  output: url, console: console)
    }

    static func describe(_ settings: AlignmentSettings) -> String {
        guard settings.method != .sft else { return settings.method.rawValue }
        return "\(settings.method.rawValue), reference \(settings.effectiveReference.rawValue), flip \(settings.effectiveFlip.rawValue), β \(settings.beta)"
    }

    static func makeTrainer<G>(base: G, objective: DiffusionObjective, winners: PreferenceSet, losers: Tensor?,
                               settings: AlignmentSettings) throws -> PreferenceTrainer<G> {
        do { return try PreferenceTrainer(base: base, objective: objective, winners: winners, losers: losers, settings: settings) } catch let e as SePPOTrainingError {
            throw CLIError(e.description)
        }
    }

    /// The resumable run shared by both setups: updates, checkpoints, the held-out curve and the summary.
    static func train<G>(_ trainer: PreferenceTrainer<G>, monitor: AlignmentMonitor?, args: ParsedArguments, metadata: [String: String],
                         output url: URL, console: Console) throws {
        let settings = trainer.settings
        let metadata = metadata.merging(["command": args.invocation]) { a, _ in a }
        let run = try ResumableRun(args, total: settings.steps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let every = try args.int(evalEvery, range: 1...10_000_000)!
        var flipSum = 0.0, accuracySum = 0.0, counted = 0
        let outcome = try run.train(trainer, label: "seppo align", metadata: metadata, console: console,
                                    beforeStep: { step in if let monitor, step % every == 0 { monitor.record(trainer) } },
                                    afterStep: { _, metrics in
                                        flipSum += Double(metrics["flip_rate"] ?? 0)
                                        accuracySum += Double(metrics["implicit_acc"] ?? 0)
                                        counted += 1
                                    })
        if outcome.stopped { return }
        let (final, seconds) = (outcome.metrics, outcome.seconds)
        if let monitor {
            monitor.record(trainer)
            let (step, score) = monitor.curve.last!
            console.err(String(format: "held-out score %.4f at step %d; flipped rows with a better reference sample %d/%d, kept rows %d/%d", Double(score), step,
                               monitor.flippedReferenceBetter, monitor.flipped, monitor.keptReferenceBetter, monitor.kept))
        }
        let m = settings.method
        let meanFlip = flipSum / Double(max(counted, 1)), meanAccuracy = accuracySum / Double(max(counted, 1))
        if args.flag(.json) {
            var out: [String: Any] = ["checkpoint": url.path, "method": m.rawValue, "steps": settings.steps, "seconds": seconds, "final_metrics": final,
                                      "mean_flip_rate": meanFlip, "mean_implicit_accuracy": meanAccuracy, "bank": trainer.bank.count]
            if let monitor {
                out["curve"] = monitor.curve.map { [$0.step, Double($0.score)] as [Any] }
                out["flip_precision"] = ["flipped": monitor.flipped, "flipped_reference_better": monitor.flippedReferenceBetter,
                                         "kept": monitor.kept, "kept_reference_better": monitor.keptReferenceBetter]
            }
            console.out(jsonLine(out))
        } else {
            console.out(String(format: "aligned (%@) %d updates in %.1f s; mean flip rate %.3f, mean implicit accuracy %.3f; bank of %d → %@",
                               m.rawValue, settings.steps, seconds, meanFlip, meanAccuracy, trainer.bank.count, url.path))
        }
    }
}
