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

        let dataRNG = RandomGenerator(seed: seed)
        let (xTrain, yTrain) = task.sample(task.trainingPoints, rng: dataRNG)
        var model = MLP([1, width, width, 1], activation: .mish, rng: RandomGenerator(seed: seed &+ 1))
        var optimizer = Adam(model, learningRate: peak)
        let sampler = MinibatchSampler(count: task.trainingPoints, batchSize: batchSize, seed: seed &+ 2)
        let schedule = LRSchedule.cosine(base: peak, final: 1e-4, steps: totalSteps)
        let run = try ResumableRun(args, total: totalSteps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let start = try run.start(console: console) { url in
            let (loaded, meta, training) = try Checkpoint.load(MLP.self, from: url)
            guard let training else { throw CLIError("--resume: \(url.path) has no training state") }
            guard meta["task"] == canonicalJSON(task), loaded.config.sizes == [1, width, width, 1] else {
                throw CLIError("--resume: \(url.path) was trained with different settings")
            }
            model = loaded
            optimizer = Adam(model, learningRate: peak)
            try training.restore([("optimizer", optimizer), ("sampler", sampler)])
            return training.step
        }

        let command = args.invocation
        func save(_ step: Int) throws {
            var state = TrainingState(step: step, rng: dataRNG.state)
            state.save([("optimizer", optimizer), ("sampler", sampler)])
            try Checkpoint.save(model, to: url, metadata: ["task": canonicalJSON(task), "command": command], training: state)
        }

        let (_, seconds, stopped) = try run.run(from: start, label: "train regression", console: console, save: save) { step in
            let idx = sampler.next()
            optimizer.learningRate = schedule(step)
            let loss = Loss.mse(model(xTrain.indexSelect(axis: 0, idx)), yTrain.indexSelect(axis: 0, idx))
            optimizer.minimize(loss)
            return ["loss": loss.item]
        }
        if stopped { return }
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
