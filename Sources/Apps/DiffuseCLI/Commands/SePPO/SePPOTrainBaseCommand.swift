import Foundation
import PolicyDiffusion

/// `diffuse seppo train-base`: the class-conditional digits base model p₀ on clean + degraded digits — the
/// image trainer of `diffuse train image` with the digits as data.
struct SePPOTrainBaseCommand: Command {
    static let path = ["seppo", "train-base"]
    static let abstract = "train the class-conditional digits base model (U-Net 2D) on clean and degraded digits"
    static let discussion = """
    The generator split of --data (50 % of the rows; docs/seppo.md, Implementation in this repo) plus \
    degraded copies (blur, shift or salt-and-pepper noise) making up --degraded of the mix; the trainer of \
    `diffuse train image` otherwise (no label dropout: sampling always conditions on the class). ε-prediction, \
    linear β, T = 1000; Adam with cosine decay from --lr to 1e-5; EMA 0.999 (the checkpoint holds the EMA \
    weights). Resumable with --resume.
    """
    static let defaults = BaseTrainingSettings()
    static let width = Option("--width", value: "C", default: String(defaults.width), help: "U-Net base width (a multiple of 8)")
    static let degraded = Option("--degraded", value: "F", default: String(defaults.degradedFraction), help: "degraded fraction of the training mix (0 … 0.9)")
    static let options = [Option.digits, TrainImageCommand.output, TrainImageCommand.steps, TrainImageCommand.batch, TrainImageCommand.lr, width, degraded,
                          TrainImageCommand.checkpointEvery, .resume, .stopAfter, TrainImageCommand.logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        var settings = try TrainImageCommand.settings(args, side: DigitsData.side)
        settings.width = try args.int(width, range: 8...1024)!
        guard settings.width % 8 == 0 else { throw CLIError("--width must be a multiple of 8 (GroupNorm's 8 groups)", usage: true) }
        let f = try args.float(degraded)!
        guard (0...0.9).contains(f) else { throw CLIError("--degraded must be in 0 … 0.9, got \(f)", usage: true) }
        settings.degradedFraction = Double(f)
        let digits = try SePPOInputs.digits(args.string(.digits)!).split(.generator)
        try TrainImageCommand.train(args, settings: settings, label: "seppo train-base", console: console,
                                    describe: { "\(digits.count) clean + \($0.mix.count - digits.count) degraded digits" }) {
            try BaseTrainer(clean: digits, settings: $0)
        }
    }
}
