import Foundation
import PolicyDiffusion

/// `diffuse seppo align`: SePPO, or one of its baselines, from a base digits model toward a preferred set.
struct SePPOAlignCommand: Command {
    static let path = ["seppo", "align"]
    static let abstract = "align a digits model to preferred digits: SePPO (bank reference + AAF), Diffusion-DPO, SFT or SPIN"
    static let discussion = """
    The preferred set is the clean generator split of --preferred (docs/seppo.md §6, Setup A). seppo: \
    the reference comes from a bank of snapshots taken every --bank-every updates (--ref), its DDIM \
    samples take the loser's place, and the anchor flipper (--flip) decides per sample whether they \
    are losers. spin: latest snapshot, samples always losers. dpo: oracle pairs (each preferred digit \
    against a degraded copy), the base model as reference. sft: the denoising loss on the preferred \
    digits. Logs loss, implicit accuracy and flip rate. Resumable with --resume (bank included).
    """
    static let defaults = SePPOSettings()
    static let base = Option("--base", value: "FILE", help: "base digits model (diffuse seppo train-base)")
    static let preferred = Option("--preferred", value: "FILE", default: "data/digits.csv", help: "digits CSV whose generator split is the preferred set")
    static let output = Option("--output", "-o", value: "FILE", help: "aligned model checkpoint to write (.safetensors)")
    static let method = Option("--method", value: "M", default: defaults.method.rawValue, help: "seppo | dpo | sft | spin")
    static let reference = Option("--ref", value: "R", help: "seppo's reference strategy: random (default) | initial | latest")
    static let flip = Option("--flip", value: "F", help: "seppo's anchor flipper: sign (default) | indicator | off")
    static let beta = Option("--beta", value: "B", default: String(defaults.beta), help: "β (mean error, β/2 scale; docs/seppo.md §2)")
    static let steps = Option("--steps", value: "N", default: String(defaults.steps), help: "optimizer updates")
    static let bankEvery = Option("--bank-every", value: "N", default: String(defaults.bankEvery), help: "append a snapshot to the bank every N updates")
    static let batch = Option("--batch-size", value: "N", default: String(defaults.batchSize), help: "preferred digits per update")
    static let lr = Option("--lr", value: "RATE", default: String(defaults.learningRate), help: "AdamW learning rate (weight decay 0.01, clip 1)")
    static let samplingSteps = Option("--sampling-steps", value: "N", default: String(defaults.samplingSteps), help: "DDIM steps per reference sample")
    static let scorer = Option("--scorer", value: "FILE", help: "held-out scorer: log a score-vs-step curve and the flipper's precision (diagnostics only)")
    static let evalEvery = Option("--eval-every", value: "N", default: "30", help: "with --scorer: evaluate every N updates (and at the start)")
    static let checkpointEvery = Option.checkpointEvery(default: 100)
    static let logEvery = Option.logEvery(default: 30)
    static let options = [base, preferred, output, method, reference, flip, beta, steps, bankEvery, batch, lr, samplingSteps, scorer, evalEvery, checkpointEvery, .resume,
                          .stopAfter, logEvery, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        var settings = SePPOSettings()
        guard let m = AlignmentMethod(rawValue: args.string(method)!) else {
            throw CLIError("unknown --method '\(args.string(method)!)' (seppo, dpo, sft, spin)", usage: true)
        }
        settings.method = m
        if let r = args.string(reference) {
            guard m == .seppo else { throw CLIError("--ref applies to --method seppo only (\(m.rawValue) fixes its reference)", usage: true) }
            guard let strategy = ReferenceStrategy(rawValue: r) else { throw CLIError("unknown --ref '\(r)' (random, initial, latest)", usage: true) }
            settings.reference = strategy
        }
        if let f = args.string(flip) {
            guard m == .seppo else { throw CLIError("--flip applies to --method seppo only (\(m.rawValue) never flips)", usage: true) }
            guard let mode = FlipMode(rawValue: f) else { throw CLIError("unknown --flip '\(f)' (sign, indicator, off)", usage: true) }
            settings.flip = mode
        }
        settings.beta = try args.float(beta)!
        guard settings.beta > 0 else { throw CLIError("--beta must be positive", usage: true) }
        settings.steps = try args.int(steps, range: 1...10_000_000)!
        settings.bankEvery = try args.int(bankEvery, range: 1...10_000_000)!
        settings.batchSize = try args.int(batch, range: 1...65_536)!
        settings.learningRate = try args.float(lr)!
        settings.samplingSteps = try args.int(samplingSteps, range: 1...1000)!
        settings.seed = try args.seed()
        let (model, objective) = try SePPOInputs.generator(try args.required(base))
        guard case let .discrete(_, trainSteps, _) = objective, settings.samplingSteps <= trainSteps else {
            throw CLIError("--sampling-steps must be at most the model's training steps", usage: true)
        }
        let winners = try SePPOInputs.digits(args.string(preferred)!).split(.generator)
        // Oracle pairs (Diffusion-DPO only): each preferred digit against a degraded copy, fixed by the seed.
        let losers = m == .dpo ? Degradation.degrade(winners.images, rng: RandomGenerator(seed: settings.seed &+ 0xD90)).images : nil
        let trainer: PreferenceTrainer
        do { trainer = try PreferenceTrainer(base: model, objective: objective, winners: winners, losers: losers, settings: settings) } catch let e as SePPOTrainingError {
            throw CLIError(e.description)
        }
        var detail = "\(m.rawValue)"
        if m != .sft { detail += ", reference \(settings.effectiveReference.rawValue), flip \(settings.effectiveFlip.rawValue), β \(settings.beta)" }
        console.err("\(winners.count) preferred digits; \(detail)")
        let metadata = ["base": args.string(base)!, "preferred": args.string(preferred)!, "command": args.invocation]
        let run = try ResumableRun(args, total: settings.steps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        _ = try run.start(console: console) { try trainer.resume(from: $0); return trainer.step }
        let every = try args.int(evalEvery, range: 1...10_000_000)!
        let monitor = try args.string(scorer).map { AlignmentMonitor(scorer: try SePPOInputs.scorer($0), seed: settings.seed &+ 0xE7A1) }
        var flipSum = 0.0, accuracySum = 0.0, counted = 0
        let (final, seconds, stopped) = try run.run(from: trainer.step, label: "seppo align", console: console,
                                                    save: { _ in try trainer.save(to: url, metadata: metadata) }) { _ in
            if let monitor, trainer.step % every == 0 { monitor.record(trainer) }
            let metrics = trainer.trainStep()
            flipSum += Double(metrics["flip_rate"] ?? 0)
            accuracySum += Double(metrics["implicit_acc"] ?? 0)
            counted += 1
            return metrics
        }
        if stopped { return }
        if let monitor {
            monitor.record(trainer)
            let (step, score) = monitor.curve.last!
            console.err(String(format: "held-out score %.4f at step %d; flipped rows with a better reference sample %d/%d, kept rows %d/%d", Double(score), step,
                               monitor.flippedReferenceBetter, monitor.flipped, monitor.keptReferenceBetter, monitor.kept))
        }
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
