import Foundation
import PolicyDiffusion

/// `diffuse seppo train-base`: the class-conditional digits base model p₀ on clean + degraded digits.
struct SePPOTrainBaseCommand: Command {
    static let path = ["seppo", "train-base"]
    static let abstract = "train the class-conditional digits base model (U-Net 2D) on clean and degraded digits"
    static let discussion = """
    The generator split of --data (50 % of the rows; docs/seppo.md, Implementation in this repo) plus \
    degraded copies (blur, shift or salt-and-pepper noise) making up --degraded of the mix. ε-prediction, \
    linear β, T = 1000; Adam with cosine decay from --lr to 1e-5; EMA 0.999 (the checkpoint holds the \
    EMA weights). Resumable with --resume.
    """
    static let defaults = BaseTrainingSettings()
    static let output = Option("--output", "-o", value: "FILE", help: "base model checkpoint to write (.safetensors)")
    static let steps = Option("--steps", value: "N", default: String(defaults.steps), help: "optimizer steps")
    static let batch = Option("--batch-size", value: "N", default: String(defaults.batchSize), help: "digits per batch")
    static let lr = Option("--lr", value: "RATE", default: String(defaults.learningRate), help: "peak Adam learning rate")
    static let width = Option("--width", value: "C", default: String(defaults.width), help: "U-Net base width (a multiple of 8)")
    static let degraded = Option("--degraded", value: "F", default: String(defaults.degradedFraction), help: "degraded fraction of the training mix (0 … 0.9)")
    static let checkpointEvery = Option.checkpointEvery(default: 1000)
    static let logEvery = Option.logEvery(default: 500)
    static let options = [Option.digits, output, steps, batch, lr, width, degraded, checkpointEvery, .resume, .stopAfter, logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        var settings = BaseTrainingSettings()
        settings.steps = try args.int(steps, range: 1...10_000_000)!
        settings.batchSize = try args.int(batch, range: 1...65_536)!
        settings.learningRate = try args.float(lr)!
        settings.width = try args.int(width, range: 8...1024)!
        guard settings.width % 8 == 0 else { throw CLIError("--width must be a multiple of 8 (GroupNorm's 8 groups)", usage: true) }
        let f = try args.float(degraded)!
        guard (0...0.9).contains(f) else { throw CLIError("--degraded must be in 0 … 0.9, got \(f)", usage: true) }
        settings.degradedFraction = Double(f)
        settings.seed = try args.seed()
        let data = try SePPOInputs.digits(args.string(.digits)!).split(.generator)
        let trainer: BaseTrainer
        do { trainer = try BaseTrainer(clean: data, settings: settings) } catch let e as SePPOTrainingError { throw CLIError(e.description) }
        console.err(String(format: "%d clean + %d degraded digits; %.2f M parameters", data.count, trainer.mix.count - data.count,
                           Double(trainer.model.parameterCount) / 1e6))
        let metadata = ["data": args.string(.digits)!, "command": args.invocation]
        let run = try ResumableRun(args, total: settings.steps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(trainer, label: "seppo train-base", metadata: metadata, console: console)
        if outcome.stopped { return }
        console.summary(args, json: ["checkpoint": url.path, "steps": settings.steps, "seconds": outcome.seconds, "final_losses": outcome.metrics],
                        text: String(format: "trained %d steps in %.1f s; loss %.4f → %@", settings.steps, outcome.seconds,
                                     Double(outcome.metrics["loss"] ?? .nan), url.path))
    }
}
