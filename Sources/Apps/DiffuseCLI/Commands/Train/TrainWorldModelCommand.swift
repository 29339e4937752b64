import Foundation
import PolicyDiffusion

/// `diffuse train world-model`: the autoregressive world-model baseline of PGD (MBPO/MOPO's ensemble).
struct TrainWorldModelCommand: Command {
    static let path = ["train", "world-model"]
    static let abstract = "train an ensemble MLP world model (the MBPO/MOPO baseline of PGD) on a dataset"
    static let discussion = """
    An ensemble of --ensemble MLPs (4 × 200 SiLU, MBPO) maps [s | a] to a Gaussian over [s′ − s | r] \
    (learned, softly bounded log-variance, PETS/MBPO) or, with --deterministic, to its mean under an MSE \
    loss. Inputs and targets are z-scored on the training rows (actions mapped from the environment's \
    box to [-1, 1]); the maps are stored in the checkpoint. Each member trains on its own bootstrap \
    resample; 5 % of the transitions are held out and each member's validation MSE (normalized units) is \
    reported, with the ensemble's one-step error ‖ŝ′ − s′‖ beside that of predicting s′ = s. Adam \
    --lr, batch --batch-size per member. Resumable with --resume.
    """

    static let data = Option("--data", value: "FILE", help: "dataset (.hdf5 / .npz, D4RL keys)")
    static let output = Option("--output", "-o", value: "FILE", help: "world model checkpoint to write (.safetensors)")
    static let env = Option("--env", value: "NAME", help: "environment for the action box (default: the dataset's 'env' attribute)")
    static let ensemble = Option("--ensemble", value: "K", default: "5", help: "ensemble members")
    static let deterministic = Option("--deterministic", help: "MSE on the mean instead of the Gaussian NLL")
    static let steps = Option("--steps", value: "N", default: "10000", help: "optimizer steps")
    static let batch = Option("--batch-size", value: "N", default: "256", help: "transitions per member and batch")
    static let lr = Option("--lr", value: "RATE", default: "0.001", range: Option.learningRates, help: "Adam learning rate")
    static let checkpointEvery = Option.checkpointEvery(default: 2000)
    static let logEvery = Option.logEvery(default: 1000)
    static let options = [data, output, env, ensemble, deterministic, steps, batch, lr, checkpointEvery, .resume, .stopAfter, logEvery,
                          .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        var architecture = WorldModel.Architecture()
        architecture.ensemble = try args.int(ensemble, range: 1...100)!
        architecture.probabilistic = !args.flag(deterministic)
        var settings = WorldModelTrainingSettings()
        settings.steps = try args.int(steps, range: 1...100_000_000)!
        settings.batchSize = try args.int(batch, range: 1...1_000_000)!
        settings.learningRate = try args.float(lr)!
        guard settings.learningRate > 0 else { throw CLIError("--lr must be positive", usage: true) }
        settings.seed = try args.seed()

        let input = try TrainingData(args, data: data, env: env, console: console)
        let dataset = input.dataset
        let trainer: WorldModelTrainer
        do {
            trainer = try WorldModelTrainer(dataset: dataset, actionBounds: input.actionBounds, architecture: architecture, settings: settings)
        } catch let e as PGDTrainingError { throw CLIError("\(input.path): \(e)") }
        console.err(String(format: "%d training and %d validation transitions; %d members, %.2f M parameters",
                           dataset.count - trainer.validation.count, trainer.validation.count, architecture.ensemble,
                           Double(trainer.model.parameterCount) / 1e6))
        let run = try ResumableRun(args, total: settings.steps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(trainer, label: "train world-model", metadata: input.provenance, console: console)
        if outcome.stopped { return }
        let (final, seconds) = (outcome.metrics, outcome.seconds)
        let mse = trainer.validationMSE()
        let error = trainer.validation.count > 0 ? trainer.model.oneStepError(on: trainer.validation) : nil
        if args.flag(.json) {
            var out: [String: Any] = ["checkpoint": url.path, "steps": settings.steps, "seconds": seconds, "final_losses": final,
                                      "parameters": trainer.model.parameterCount, "validation_mse": mse]
            if let error { out["one_step_error"] = error.model; out["identity_error"] = error.identity }
            console.out(jsonLine(out))
        } else {
            console.out(String(format: "trained %d steps in %.1f s; loss %.4f", settings.steps, seconds, Double(final["loss"] ?? .nan)) + " → \(url.path)")
            if !mse.isEmpty { console.out("validation MSE per member (normalized): " + mse.map { String(format: "%.4g", Double($0)) }.joined(separator: " ")) }
            if let error {
                console.out(String(format: "validation one-step error ‖ŝ′ − s′‖ %.4g (predicting s′ = s: %.4g)", error.model, error.identity))
            }
        }
    }
}
