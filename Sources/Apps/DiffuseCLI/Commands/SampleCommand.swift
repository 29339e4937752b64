import Foundation
import PolicyDiffusion

/// `diffuse sample`: draws samples from a trained generative model with the sampler of your choice
/// (the model kind is read from the checkpoint: `Loaders.sampleable`).
struct SampleCommand: Command {
    static let path = ["sample"]
    static let abstract = "sample a trained diffusion model (DDPM, DDIM or EDM) to .npy, with an SVG plot for 2-D data"

    static let model = Option("--model", "-m", value: "FILE", help: "model checkpoint (e.g. written by `diffuse train toy`)")
    static let count = Option("-n", "--count", value: "N", default: "1000", help: "number of samples")
    static let output = Option("--output", "-o", value: "FILE", help: "write the samples as a numpy .npy file")
    static let svg = Option("--svg", value: "FILE", help: "write a scatter plot")
    static let png = Option("--png", value: "FILE", help: "write image samples as a PNG grid (labelled with their class for conditional models)")
    static let sampler = Option("--sampler", value: "KIND", help: "ddpm | ddim | edm (default: ddpm for ddpm models, edm for edm models)")
    static let steps = Option("--steps", value: "N", help: "sampling steps (default: all 1000 for DDPM, 50 for DDIM, 64 for EDM)")
    static let cfg = Option("--cfg", value: "W", help: "class-conditional image models: classifier-free guidance weight w·f(x, c) + (1 − w)·f(x, ∅) (default 1: none; `train image` models learned f(x, ∅) with --uncond)")
    static let options = [model, count, output, svg, png, sampler, steps, cfg, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(model))
        let n = try args.int(count, range: 1...10_000_000)!
        let model = try Loaders.sampleable.load(url)
        let requestedSteps = try args.int(steps, range: 1...100_000)
        let s: Sampler
        switch (model.objective, args.string(sampler)) {
        case let (.discrete(schedule, trainSteps, prediction), kind):
            guard kind == nil || kind == "ddpm" || kind == "ddim" else {
                throw CLIError("sampler '\(kind!)' does not fit this model (ddpm or ddim for a discrete-time model)", usage: true)
            }
            // The scheduler follows the model's own training schedule.
            guard requestedSteps.map({ $0 <= trainSteps }) ?? true else { throw CLIError("--steps must be at most \(trainSteps) (the model's training steps)", usage: true) }
            if kind == "ddim" {
                s = DDIMSampler(scheduler: DDIMScheduler(trainSteps: trainSteps, schedule: schedule, prediction: prediction, clipSample: false),
                                inferenceSteps: requestedSteps ?? Swift.min(50, trainSteps))
            } else {
                s = DDPMSampler(scheduler: DDPMScheduler(trainSteps: trainSteps, schedule: schedule, prediction: prediction, clipSample: false),
                                inferenceSteps: requestedSteps)
            }
        case (.edm(let edm), nil), (.edm(let edm), "edm"?):
            s = EDMSampler(edm: edm, steps: requestedSteps ?? 64)
        case let (.edm, kind?):
            throw CLIError("sampler '\(kind)' does not fit this model (edm for an EDM model)", usage: true)
        }
        let started = Date()
        // Class-conditional models: row i gets class i mod classes (one grid column per class).
        let labels = model.classes.map { k in (0..<n).map { $0 % k } }
        var network = labels.flatMap { l in model.conditionalNetwork.map { $0(l) } } ?? model.network
        if let w = try args.float(cfg), w != 1 {
            guard let labels, let guided = model.guidedNetwork else { throw CLIError("--cfg applies to class-conditional image models only", usage: true) }
            network = guided(labels, w)
        }
        let x = s.sample(network, shape: [n] + model.sampleShape, rng: RandomGenerator(seed: try args.seed()))
        let seconds = Date().timeIntervalSince(started)
        guard x.isFinite else { throw CLIError("sampling produced NaN or infinite values") }
        if let path = args.string(output) { try AtomicFile.write(NPY.encode(x), to: URL(fileURLWithPath: path)) }
        if let path = args.string(svg) {
            guard model.sampleShape == [2] else { throw CLIError("--svg plots 2-D samples; this model's samples are \(model.sampleShape)", usage: true) }
            try AtomicFile.write(Data(SVGPlot.scatter(x, title: "\(model.name): \(n) samples").utf8), to: URL(fileURLWithPath: path))
        }
        if let path = args.string(png) {
            guard model.sampleShape.count == 3, [1, 3].contains(model.sampleShape[0]) else {
                throw CLIError("--png draws grey or RGB images; this model's samples are \(model.sampleShape)", usage: true)
            }
            try ImageGrid.writePNG(x, labels: labels, columns: model.classes ?? 8, to: URL(fileURLWithPath: path))
        }
        if args.flag(.json) {
            var out: [String: Any] = ["samples": n, "shape": [n] + model.sampleShape, "seconds": seconds,
                                      "mean": Double(x.mean().item), "std": Double((x - x.mean()).squared().mean().item.squareRoot())]
            for (key, option) in [("npy", output), ("svg", svg), ("png", png)] { if let path = args.string(option) { out[key] = path } }
            console.out(jsonLine(out))
        } else {
            console.out(String(format: "%d samples in %.2f s", n, seconds))
            for line in model.describe(x) { console.out(line) }
        }
    }
}
