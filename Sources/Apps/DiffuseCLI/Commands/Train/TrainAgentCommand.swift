import Foundation
import PolicyDiffusion

/// `diffuse train agent`: BC, Gaussian BC, TD3+BC or IQL on an offline dataset.
struct TrainAgentCommand: Command {
    static let path = ["train", "agent"]
    static let abstract = "train an offline agent (bc | bc-gaussian | td3bc | iql) on a dataset"
    static let discussion = """
    Hyperparameters follow Policy-Guided Diffusion's agents (docs/pgd.md §5): MLPs 256-256 ReLU, Adam \
    3e-4 (ε 1e-5), γ 0.99, Polyak 0.005, batch 256; TD3+BC α 2.5; IQL expectile 0.7, β 3, weights ≤ 100, \
    rewards × 1000 / (return range). Observations are z-scored and actions mapped from the environment's \
    bounds to [-1, 1]; both maps are stored in the checkpoint. Checkpoints are written atomically every \
    --checkpoint-every steps and can be resumed with --resume.
    """

    static let algo = Option("--algo", value: "A", help: "bc | bc-gaussian | td3bc | iql")
    static let data = Option("--data", value: "FILE", help: "dataset (.hdf5 / .npz, D4RL keys)")
    static let output = Option("--output", "-o", value: "FILE", help: "agent checkpoint to write (.safetensors)")
    static let env = Option("--env", value: "NAME", help: "environment for action bounds and evaluation (default: the dataset's 'env' attribute)")
    static let steps = Option("--steps", value: "N", default: "100000", help: "gradient steps")
    static let batch = Option("--batch-size", value: "N", default: "256", help: "minibatch size")
    static let lr = Option("--lr", value: "RATE", default: "0.0003", range: Option.learningRates, help: "Adam learning rate")
    static let timeouts = Option("--done", value: "D", default: "terminals", help: "what stops bootstrapping: terminals | terminals-or-timeouts")
    static let evalEvery = Option("--eval-every", value: "N", help: "evaluate the actor every N steps (needs an environment)")
    static let evalEpisodes = Option("--eval-episodes", value: "N", default: "10", help: "episodes per periodic evaluation")
    static let checkpointEvery = Option.checkpointEvery(default: 10_000)
    static let logEvery = Option.logEvery(default: 5000)
    static let options = [algo, data, output, env, steps, batch, lr, timeouts, evalEvery, evalEpisodes, checkpointEvery, .resume, .stopAfter,
                          logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        _ = try args.required(algo)
        let algorithm = try args.choice(algo, AgentAlgorithm.self)!
        let url = URL(fileURLWithPath: try args.required(output))
        let total = try args.int(steps, range: 1...100_000_000)!
        var h = AgentHyperparameters.defaults(for: algorithm)
        h.batchSize = try args.int(batch, range: 1...1_000_000)!
        h.learningRate = try args.float(lr)!
        h.bootstrapping = try args.choice(timeouts, Bootstrapping.self)!
        let seed = try args.seed()
        let input = try TrainingData(args, data: data, env: env, console: console)
        let evalPeriod = try args.int(evalEvery, range: 1...Int.max)
        if evalPeriod != nil && input.environmentName == nil { throw CLIError("--eval-every needs --env (the dataset names no environment)", usage: true) }
        let episodes = try args.int(evalEpisodes, range: 1...10_000)!

        let trainer = try OfflineTrainer(dataset: input.dataset, algorithm: algorithm, hyperparameters: h, actionBounds: input.actionBounds, seed: seed)
        let run = try ResumableRun(args, total: total, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        var evaluations: [[String: Any]] = []
        let outcome = try run.train(trainer, label: "train \(algorithm.rawValue)", metadata: input.metadata(["algorithm": algorithm.rawValue]),
                                    console: console, afterStep: { done, _ in
            guard let evalPeriod, done % evalPeriod == 0, let r = try input.evaluate(trainer.policy(), episodes: episodes, runSeed: seed) else { return }
            console.err(String(format: "step %d: return %.2f ± %.2f  normalized %.1f", done, r.returnMean, r.returnStd, r.normalizedScoreMean)
                        + (r.normalizedCostMean.map { String(format: "  cost %.2f (normalized %.2f)", r.costMean, $0) } ?? ""))
            evaluations.append(["step": done, "return_mean": r.returnMean, "normalized_score": r.normalizedScoreMean, "cost_mean": r.costMean])
        })
        if outcome.stopped { return }
        let result = try input.evaluate(trainer.policy(), episodes: episodes, runSeed: seed)
        console.summary(args, json: ["checkpoint": url.path, "algorithm": algorithm.rawValue, "steps": total, "seconds": outcome.seconds,
                                     "final_losses": outcome.metrics, "evaluations": evaluations].merging(result?.summary ?? [:]) { _, own in own },
                        text: String(format: "%@ trained %d steps in %.1f s → %@", algorithm.rawValue, total, outcome.seconds, url.path)
                            + (result?.summaryText ?? ""))
    }
}
