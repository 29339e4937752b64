import Foundation
import PolicyDiffusion

/// `diffuse train image`: a diffusion model of the user's own small images (issue #31), class-conditional when
/// labels are given. `diffuse seppo train-base` is this trainer on the digits plus degraded copies.
struct TrainImageCommand: Command {
    static let path = ["train", "image"]
    static let abstract = "train an image diffusion model (U-Net 2D) on your own small images: .npy / .npz arrays or PNG folders"
    static let discussion = """
    Images as numpy hands them over — .npy / .npz arrays [N, H, W], [N, H, W, C] or [N, C, H, W] of uint8 or \
    floats in [0, 1], [−1, 1] or 0…255 — or a folder of PNG files (8-bit grey / RGB / RGBA, alpha dropped; one \
    sub-folder per class labels them, as torchvision's ImageFolder). Square, up to 64×64, 1–3 channels; values \
    are mapped to [−1, 1] and the map is stored in the checkpoint. With labels (--labels, the npz's 'labels' / \
    'y', or class folders) the model is class-conditional and learns the unconditional model too (--uncond of \
    the labels are dropped to the null class, for classifier-free guidance); without, it is unconditional. \
    ε-prediction, linear β, T = 1000; Adam with cosine decay from --lr to 1e-5; EMA 0.999 (the checkpoint holds \
    the EMA weights); `diffuse sample --png` draws it. Resumable with --resume.
    """
    static let defaults = BaseTrainingSettings()
    static let data = Option("--data", value: "PATH", help: "images: .npy, .npz, .png or a folder of PNG files")
    static let labels = Option("--labels", value: "FILE", help: "class labels (.npy of N integers 0, 1, …) for a .npy of images")
    static let output = Option("--output", "-o", value: "FILE", help: "model checkpoint to write (.safetensors)")
    static let steps = Option("--steps", value: "N", default: String(defaults.steps), help: "optimizer steps")
    static let batch = Option("--batch-size", value: "N", default: String(defaults.batchSize), help: "images per batch")
    static let lr = Option("--lr", value: "RATE", default: String(defaults.learningRate), help: "peak Adam learning rate")
    static let width = Option("--width", value: "C", help: "U-Net base width, a multiple of 8 (default: 32 for sides up to 16, 64 above)")
    static let uncond = Option("--uncond", value: "P", default: "0.1", help: "fraction of labels dropped to the null class (classifier-free guidance; 0 … 0.9)")
    static let checkpointEvery = Option.checkpointEvery(default: 1000)
    static let logEvery = Option.logEvery(default: 500)
    static let options = [data, labels, output, steps, batch, lr, width, uncond, checkpointEvery, .resume, .stopAfter, logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let images = try SePPOInputs.images(try args.required(data), labels: args.string(labels))
        var settings = try self.settings(args, side: images.side.height)
        settings.degradedFraction = 0
        let p = try args.float(uncond)!
        guard (0...0.9).contains(p) else { throw CLIError("--uncond must be in 0 … 0.9, got \(p)", usage: true) }
        settings.unconditionalFraction = images.labels == nil ? 0 : Double(p)
        let kind = images.labels == nil ? "unconditional" : "\(images.classes) classes"
        try train(args, settings: settings, label: "train image", console: console,
                  describe: { _ in "\(images.count) images \(images.side.height)×\(images.side.width)×\(images.channels), \(kind)" }) {
            try BaseTrainer(images: images, settings: $0)
        }
    }

    /// The options both image trainers share, read into settings.
    static func settings(_ args: ParsedArguments, side: Int) throws -> BaseTrainingSettings {
        var settings = BaseTrainingSettings()
        settings.steps = try args.int(steps, range: 1...10_000_000)!
        settings.batchSize = try args.int(batch, range: 1...65_536)!
        settings.learningRate = try args.float(lr)!
        settings.width = try args.int(width, range: 8...1024) ?? (side <= 16 ? 32 : 64)
        guard settings.width % 8 == 0 else { throw CLIError("--width must be a multiple of 8 (GroupNorm's 8 groups)", usage: true) }
        settings.seed = try args.seed()
        return settings
    }

    /// Builds the trainer and runs it to the end (or --stop-after), printing the summary.
    static func train(_ args: ParsedArguments, settings: BaseTrainingSettings, label: String, console: Console,
                      describe: (BaseTrainer) -> String, build: (BaseTrainingSettings) throws -> BaseTrainer) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let trainer: BaseTrainer
        do { trainer = try build(settings) } catch let e as SePPOTrainingError { throw CLIError(e.description) }
        console.err(String(format: "%@; %.2f M parameters", describe(trainer), Double(trainer.model.parameterCount) / 1e6))
        let run = try ResumableRun(args, total: settings.steps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(trainer, label: label, metadata: ["data": args.string(data) ?? args.string(.digits) ?? "", "command": args.invocation], console: console)
        if outcome.stopped { return }
        console.summary(args, json: ["checkpoint": url.path, "steps": settings.steps, "seconds": outcome.seconds, "final_losses": outcome.metrics],
                        text: String(format: "trained %d steps in %.1f s; loss %.4f → %@", settings.steps, outcome.seconds,
                                     Double(outcome.metrics["loss"] ?? .nan), url.path))
    }
}
