import Foundation
import PolicyDiffusion

/// `diffuse eval regression`: loads a regression checkpoint (no hyperparameters needed: they are in
/// its metadata) and measures its test MSE on fresh samples.
struct EvalRegressionCommand: Command {
    static let path = ["eval", "regression"]
    static let abstract = "test MSE of a `train regression` checkpoint against the task's noise floor"

    static let model = Option("--model", "-m", value: "FILE", help: "checkpoint written by `diffuse train regression`")
    static let samples = Option("--samples", value: "N", default: "20000", help: "fresh test points")
    static let options = [model, samples, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(model))
        let n = try args.int(samples, range: 1...100_000_000)!
        let (mlp, meta, _) = try Checkpoint.load(MLP.self, from: url)
        guard let taskJSON = meta["task"], let task = try? JSONDecoder().decode(ToyRegressionTask.self, from: Data(taskJSON.utf8)) else {
            throw CLIError("\(url.path) is not a regression checkpoint (no task in its metadata)")
        }
        mlp.eval()
        let mse = task.testMSE(mlp, samples: n, rng: RandomGenerator(seed: try args.seed() &+ 7919))
        if args.flag(.json) {
            console.out(jsonLine(["test_mse": mse, "noise_floor": task.noiseFloor, "ratio": mse / task.noiseFloor, "samples": n]))
        } else {
            console.out(String(format: "test MSE %.5f  noise floor %.5f  ratio %.3f  (%d samples)", mse, task.noiseFloor, mse / task.noiseFloor, n))
        }
    }
}
