import Foundation
import PolicyDiffusion

/// `diffuse train toy`: a diffusion model on a 2-D toy distribution.
struct TrainToyCommand: Command {
    static let path = ["train", "toy"]
    static let abstract = "train an MLP diffusion model on a 2-D toy distribution (eight-gaussians, two-moons, checkerboard)"

    static let dist = Option("--dist", value: "NAME", default: "eight-gaussians", help: "eight-gaussians | two-moons | checkerboard")
    static let objective = Option("--objective", value: "KIND", default: "ddpm", help: "ddpm (ε-prediction, linear β, T = 1000) or edm (Karras preconditioning)")
    /// The library's defaults, shown as the options' defaults (docs/toy.md explains them).
    static let defaults = ToyTrainingSettings(distribution: .eightGaussians, objective: .edm(EDM()))
    static let steps = Option("--steps", value: "N", default: String(defaults.steps), help: "optimizer steps (fresh data every step)")
    static let lr = Option("--lr", value: "RATE", default: String(defaults.learningRate), range: Option.learningRates, help: "peak Adam learning rate (cosine decay)")
    static let batch = Option("--batch-size", value: "N", default: String(defaults.batchSize), help: "minibatch size")
    static let hidden = Option("--hidden", value: "W,W,…", default: defaults.hidden.map(String.init).joined(separator: ","),
                               help: "widths of the hidden Mish layers")
    static let frequencies = Option("--input-frequencies", value: "L", default: String(defaults.inputFrequencies),
                                    help: "positional-encoding bands sin/cos(2ᵏπx), k < L, beside x in the input (0: x only)")
    static let output = Option("--output", "-o", value: "FILE", help: "checkpoint to write (.safetensors)")
    static let checkpointEvery = Option.checkpointEvery(default: 1000)
    static let logEvery = Option.logEvery(default: 1000)
    static let options = [dist, objective, steps, lr, batch, hidden, frequencies, output, checkpointEvery, .resume, .stopAfter, logEvery,
                          .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let d = try args.choice(dist, ToyDistribution.self)!
        let obj: DiffusionObjective = try args.choice(objective, among: ["ddpm", "edm"]) == "ddpm"
            ? .discrete(schedule: .linear(), steps: 1000, prediction: .epsilon) : .edm(EDM())
        let widths = args.string(hidden)!.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw CLIError("--hidden must be comma-separated positive widths, e.g. 128,128,128", usage: true)
        }
        let training = ToyTrainingSettings(distribution: d, objective: obj, steps: try args.int(steps, range: 1...10_000_000)!,
                                   batchSize: try args.int(batch, range: 1...1_000_000)!, learningRate: try args.float(lr)!,
                                   hidden: widths.map { $0! }, inputFrequencies: try args.int(frequencies, range: 0...16)!,
                                   seed: try args.seed())
        // The checkpoint's "training" record is what `diffuse sample` reads to pick the sampler.
        let trainer = ToyTrainer(training)
        let run = try ResumableRun(args, total: training.steps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(trainer, label: "train toy", metadata: ["command": args.invocation], console: console)
        if outcome.stopped { return }
        console.summary(args, json: ["checkpoint": url.path, "distribution": d.rawValue, "objective": args.string(objective)!, "steps": training.steps,
                                     "seconds": outcome.seconds, "final_losses": outcome.metrics],
                        text: String(format: "trained %@ (%@) in %.1f s → %@", d.rawValue, args.string(objective)!, outcome.seconds, url.path))
    }
}
