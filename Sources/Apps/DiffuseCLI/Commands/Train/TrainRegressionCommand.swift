import Foundation
import PolicyDiffusion

/// `diffuse train regression`: fits an MLP to the toy regression and writes a resumable checkpoint.
struct TrainRegressionCommand: Command {
    static let path = ["train", "regression"]
    static let abstract = "train an MLP on y = sin(3x) + noise and report its test MSE against the noise floor"
    static let discussion = """
    The checkpoint is written atomically every --checkpoint-every steps with the optimizer moments, \
    RNG state and sampler position, so an interrupted run continues with --resume to the same result.
    """

    static let output = Option("--output", "-o", value: "FILE", help: "checkpoint to write (.safetensors)")
    static let steps = Option("--steps", value: "N", default: "3000", help: "optimizer steps")
    static let batch = Option("--batch-size", value: "N", default: "256", help: "minibatch size")
    static let lr = Option("--lr", value: "RATE", default: "0.003", range: Option.learningRates, help: "peak Adam learning rate (cosine decay to 1e-4)")
    static let hidden = Option("--hidden", value: "N", default: "64", help: "width of the two hidden Mish layers")
    static let noise = Option("--noise", value: "SIGMA", default: "0.1", range: 0...100, help: "label noise σ (the test MSE floor is σ²)")
    static let checkpointEvery = Option.checkpointEvery(default: 1000)
    static let logEvery = Option.logEvery(default: 500)

    static let options = [output, steps, batch, lr, hidden, noise, checkpointEvery, .resume, .stopAfter, logEvery, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let totalSteps = try args.int(steps, range: 1...10_000_000)!
        let batchSize = try args.int(batch, range: 1...1_000_000)!
        let peak = try args.float(lr)!
        let width = try args.int(hidden, range: 1...65_536)!
        let sigma = try args.float(noise)!
        guard sigma > 0 else { throw CLIError("--noise must be positive", usage: true) }
        let seed = try args.seed()
        let task = ToyRegressionTask(noise: sigma)
        guard batchSize <= task.trainingPoints else { throw CLIError("--batch-size exceeds the \(task.trainingPoints) training points", usage: true) }

        let trainer = RegressionTrainer(task: task, width: width, steps: totalSteps, batchSize: batchSize, learningRate: peak, seed: seed)
        let run = try ResumableRun(args, total: totalSteps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(trainer, label: "train regression", metadata: ["command": args.invocation], console: console)
        if outcome.stopped { return }
        let mse = task.testMSE(trainer.model, rng: RandomGenerator(seed: seed &+ 1000))
        let ratio = mse / task.noiseFloor
        console.summary(args, json: ["test_mse": mse, "noise_floor": task.noiseFloor, "ratio": ratio, "steps": totalSteps,
                                     "seconds": outcome.seconds, "checkpoint": url.path],
                        text: String(format: "test MSE %.5f  noise floor %.5f  ratio %.3f  (%d steps in %.1f s) → %@",
                                     mse, task.noiseFloor, ratio, totalSteps - outcome.start, outcome.seconds, url.path))
    }
}
