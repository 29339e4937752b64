import Foundation
import PolicyDiffusion

/// `diffuse sample`: draws samples from a trained toy model with the sampler of your choice.
struct SampleCommand: Command {
    static let path = ["sample"]
    static let abstract = "sample a model trained by `diffuse train toy` (DDPM, DDIM or EDM) to .npy and an SVG plot"

    static let model = Option("--model", "-m", value: "FILE", help: "checkpoint written by `diffuse train toy`")
    static let count = Option("-n", "--count", value: "N", default: "1000", help: "number of samples")
    static let output = Option("--output", "-o", value: "FILE", help: "write the samples as a numpy .npy file")
    static let svg = Option("--svg", value: "FILE", help: "write a scatter plot")
    static let sampler = Option("--sampler", value: "KIND", help: "ddpm | ddim | edm (default: ddpm for ddpm models, edm for edm models)")
    static let steps = Option("--steps", value: "N", help: "sampling steps (default: all 1000 for DDPM, 50 for DDIM, 64 for EDM)")
    static let options = [model, count, output, svg, sampler, steps, .seed, .threads]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(model))
        let n = try args.int(count, range: 1...10_000_000)!
        let (net, meta, _) = try Checkpoint.load(MLPDenoiser.self, from: url)
        guard let trainingJSON = meta["training"],
              let training = try? JSONDecoder().decode(ToyTraining.self, from: Data(trainingJSON.utf8)) else {
            throw CLIError("\(url.path) is not a `diffuse train toy` checkpoint (no training record in its metadata)")
        }
        net.eval()
        let requestedSteps = try args.int(steps, range: 1...100_000)
        let s: Sampler
        switch (training.objective, args.string(sampler)) {
        case (.discrete, nil), (.discrete, "ddpm"?):
            guard requestedSteps.map({ $0 <= 1000 }) ?? true else { throw CLIError("--steps must be at most 1000 for DDPM", usage: true) }
            s = DDPMSampler(scheduler: DDPMScheduler(clipSample: false), inferenceSteps: requestedSteps)
        case (.discrete, "ddim"?):
            guard requestedSteps.map({ $0 <= 1000 }) ?? true else { throw CLIError("--steps must be at most 1000 for DDIM", usage: true) }
            s = DDIMSampler(scheduler: DDIMScheduler(clipSample: false), inferenceSteps: requestedSteps ?? 50)
        case (.edm(let edm), nil), (.edm(let edm), "edm"?):
            s = EDMSampler(edm: edm, steps: requestedSteps ?? 64)
        case let (_, kind?):
            throw CLIError("sampler '\(kind)' does not fit this model (ddpm/ddim for ddpm models, edm for edm models)", usage: true)
        }
        let started = Date()
        let x = s.sample(net.network(), shape: [n, 2], rng: RandomGenerator(seed: try args.seed()))
        let seconds = Date().timeIntervalSince(started)
        guard x.isFinite else { throw CLIError("sampling produced NaN or infinite values") }
        if let path = args.string(output) { try AtomicFile.write(NPY.encode(x), to: URL(fileURLWithPath: path)) }
        if let path = args.string(svg) {
            try AtomicFile.write(Data(SVGPlot.scatter(x, title: "\(training.distribution.rawValue): \(n) samples").utf8), to: URL(fileURLWithPath: path))
        }
        let real = training.distribution.sample(n, rng: RandomGenerator(seed: 12345))
        console.out(String(format: "%d samples in %.2f s; MMD² to fresh data %.5f", n, seconds, mmdSquared(x.slice(axis: 0, 0..<min(n, 2000)), real.slice(axis: 0, 0..<min(n, 2000)))))
        console.out(training.distribution.structure(of: x).description)
    }
}
