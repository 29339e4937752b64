import Foundation
import PolicyDiffusion

/// `diffuse train toy`: a diffusion model on a 2-D toy distribution.
struct TrainToyCommand: Command {
    static let path = ["train", "toy"]
    static let abstract = "train an MLP diffusion model on a 2-D toy distribution (eight-gaussians, two-moons, checkerboard)"

    static let dist = Option("--dist", value: "NAME", default: "eight-gaussians", help: "eight-gaussians | two-moons | checkerboard")
    static let objective = Option("--objective", value: "KIND", default: "ddpm", help: "ddpm (ε-prediction, linear β, T = 1000) or edm (Karras preconditioning)")
    static let steps = Option("--steps", value: "N", default: "4000", help: "optimizer steps (fresh data every step)")
    static let lr = Option("--lr", value: "RATE", default: "0.001", help: "peak Adam learning rate (cosine decay)")
    static let output = Option("--output", "-o", value: "FILE", help: "checkpoint to write (.safetensors)")
    static let options = [dist, objective, steps, lr, output, .seed, .threads]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        guard let d = ToyDistribution(rawValue: args.string(dist)!) else {
            throw CLIError("unknown --dist '\(args.string(dist)!)' (eight-gaussians, two-moons, checkerboard)", usage: true)
        }
        let obj: DiffusionObjective
        switch args.string(objective)! {
        case "ddpm": obj = .discrete(schedule: .linear(), steps: 1000, prediction: .epsilon)
        case "edm": obj = .edm(EDM())
        case let other: throw CLIError("unknown --objective '\(other)' (ddpm, edm)", usage: true)
        }
        let training = ToyTraining(distribution: d, objective: obj, steps: try args.int(steps, range: 1...10_000_000)!,
                                   learningRate: try args.float(lr)!, seed: try args.seed())
        let started = Date()
        let model = try training.run(log: console.err)
        let command = args.invocation
        try Checkpoint.save(model, to: url, metadata: ["training": training.jsonString(), "command": command])
        console.out(String(format: "trained %@ (%@) in %.1f s → %@", d.rawValue, args.string(objective)!, Date().timeIntervalSince(started), url.path))
    }
}
