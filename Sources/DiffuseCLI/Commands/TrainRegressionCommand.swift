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
    static let lr = Option("--lr", value: "RATE", default: "0.003", help: "peak Adam learning rate (cosine decay to 1e-4)")
    static let hidden = Option("--hidden", value: "N", default: "64", help: "width of the two hidden Mish layers")
    static let noise = Option("--noise", value: "SIGMA", default: "0.1", help: "label noise σ (the test MSE floor is σ²)")
    static let checkpointEvery = Option("--checkpoint-every", value: "N", default: "1000", help: "save a resumable checkpoint every N steps")
    static let resume = Option("--resume", help: "continue from the training state in --output")
    static let logEvery = Option("--log-every", value: "N", default: "500", help: "log the mean loss every N steps (stderr)")
    static let stopAfter = Option("--stop-after", value: "N", help: "stop (with a checkpoint) after step N of --steps; continue later with --resume")

    static let options = [output, steps, batch, lr, hidden, noise, checkpointEvery, resume, stopAfter, logEvery, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let totalSteps = try args.int(steps, range: 1...10_000_000)!
        let batchSize = try args.int(batch, range: 1...1_000_000)!
        let peak = try args.float(lr)!
        let width = try args.int(hidden, range: 1...65_536)!
        let sigma = try args.float(noise)!
        guard sigma > 0 else { throw CLIError("--noise must be positive", usage: true) }
        let every = try args.int(checkpointEvery, range: 1...Int.max)!
        let seed = try args.seed()
        let task = ToyRegressionTask(noise: sigma)
        guard batchSize <= task.trainingPoints else { throw CLIError("--batch-size exceeds the \(task.trainingPoints) training points", usage: true) }

        let dataRNG = RandomGenerator(seed: seed)
        let (xTrain, yTrain) = task.sample(task.trainingPoints, rng: dataRNG)
        var model = MLP([1, width, width, 1], activation: .mish, rng: RandomGenerator(seed: seed &+ 1))
        var optimizer = Adam(model, learningRate: peak)
        let sampler = MinibatchSampler(count: task.trainingPoints, batchSize: batchSize, seed: seed &+ 2)
        let schedule = LRSchedule.cosine(base: peak, final: 1e-4, steps: totalSteps)
        var start = 0

        if args.flag(resume) {
            guard FileManager.default.fileExists(atPath: url.path) else { throw CLIError("--resume: \(url.path) does not exist") }
            let (loaded, meta, training) = try Checkpoint.load(MLP.self, from: url)
            guard let training else { throw CLIError("--resume: \(url.path) has no training state") }
            guard meta["task"] == task.jsonString(), loaded.config.sizes == [1, width, width, 1] else {
                throw CLIError("--resume: \(url.path) was trained with different settings")
            }
            model = loaded
            optimizer = Adam(model, learningRate: peak)
            try training.restore([("optimizer", optimizer), ("sampler", sampler)])
            start = training.step
            console.err("resuming at step \(start)")
        }

        let command = "diffuse " + (CommandLine.arguments.dropFirst().joined(separator: " "))
        func save(_ step: Int) throws {
            var state = TrainingState(step: step, rng: dataRNG.state)
            state.save([("optimizer", optimizer), ("sampler", sampler)])
            try Checkpoint.save(model, to: url, metadata: ["task": task.jsonString(), "command": command], training: state)
        }

        let loop = TrainingLoop(steps: totalSteps, logEvery: try args.int(logEvery, range: 1...Int.max)!, checkpointEvery: every, log: console.err)
        let started = Date()
        let stop = try args.int(stopAfter, range: 1...Int.max)
        try loop.run(from: start, stoppingAt: stop, checkpoint: save) { step in
            let idx = sampler.next()
            optimizer.learningRate = schedule(step)
            let loss = Loss.mse(model(xTrain.indexSelect(axis: 0, idx)), yTrain.indexSelect(axis: 0, idx))
            optimizer.zeroGrad()
            loss.backward()
            optimizer.update()
            return ["loss": loss.item]
        }
        let seconds = Date().timeIntervalSince(started)
        if let stop, stop < totalSteps {
            console.err("stopped after step \(stop) of \(totalSteps); continue with --resume")
            return
        }
        let mse = task.testMSE(model, rng: RandomGenerator(seed: seed &+ 1000))
        let ratio = mse / task.noiseFloor
        if args.flag(.json) {
            console.out(jsonLine(["test_mse": mse, "noise_floor": task.noiseFloor, "ratio": ratio, "steps": totalSteps,
                                  "seconds": seconds, "checkpoint": url.path]))
        } else {
            console.out(String(format: "test MSE %.5f  noise floor %.5f  ratio %.3f  (%d steps in %.1f s) → %@",
                               mse, task.noiseFloor, ratio, totalSteps - start, seconds, url.path))
        }
    }
}
