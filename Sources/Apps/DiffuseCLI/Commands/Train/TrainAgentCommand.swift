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
        let dataPath = try args.required(data)
        let url = URL(fileURLWithPath: try args.required(output))
        let total = try args.int(steps, range: 1...100_000_000)!
        var h = AgentHyperparameters.defaults(for: algorithm)
        h.batchSize = try args.int(batch, range: 1...1_000_000)!
        h.learningRate = try args.float(lr)!
        h.bootstrapping = try args.choice(timeouts, Bootstrapping.self)!
        let seed = try args.seed()
        let dataset = try OfflineDataset.load(URL(fileURLWithPath: dataPath))
        let context = try DatasetEnvironment(dataset: dataset, path: dataPath, env: args.string(env), console: console)
        let (envName, environment, bounds) = (context.name, context.environment, context.actionBounds)
        let evalPeriod = try args.int(evalEvery, range: 1...Int.max)
        if evalPeriod != nil && environment == nil { throw CLIError("--eval-every needs --env (the dataset names no environment)", usage: true) }
        let episodes = try args.int(evalEpisodes, range: 1...10_000)!

        let trainer = try OfflineTrainer(dataset: dataset, algorithm: algorithm, hyperparameters: h, actionBounds: bounds, seed: seed)
        let run = try ResumableRun(args, total: total, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        _ = try run.start(console: console) { try trainer.resume(from: $0); return trainer.step }
        var metadata = ["algorithm": algorithm.rawValue, "dataset": dataPath,
                        "command": args.invocation]
        if let envName { metadata["env"] = envName }
        var evaluations: [[String: Any]] = []
        func evaluate() throws -> EvaluationResult? {
            guard let envName else { return nil }
            return try Evaluation.run(trainer.policy(), environment: envName, episodes: episodes, seed: 1_000_000 &+ seed)
        }
        let (final, seconds, stopped) = try run.run(from: trainer.step, label: "train \(algorithm.rawValue)", console: console,
                                                    save: { _ in try trainer.save(to: url, metadata: metadata) }) { step in
            let metrics = trainer.trainStep()
            if let evalPeriod, (step + 1) % evalPeriod == 0, let r = try evaluate() {
                console.err(String(format: "step %d: return %.2f ± %.2f  normalized %.1f", step + 1, r.returnMean, r.returnStd, r.normalizedScoreMean)
                            + (r.normalizedCostMean.map { String(format: "  cost %.2f (normalized %.2f)", r.costMean, $0) } ?? ""))
                evaluations.append(["step": step + 1, "return_mean": r.returnMean, "normalized_score": r.normalizedScoreMean, "cost_mean": r.costMean])
            }
            return metrics
        }
        if stopped { return }
        let result = try evaluate()
        if args.flag(.json) {
            var out: [String: Any] = ["checkpoint": url.path, "algorithm": algorithm.rawValue, "steps": total, "seconds": seconds,
                                      "final_losses": final, "evaluations": evaluations]
            if let r = result { out["normalized_score"] = r.normalizedScoreMean; out["return_mean"] = r.returnMean; out["cost_mean"] = r.costMean }
            console.out(jsonLine(out))
        } else {
            console.out(String(format: "%@ trained %d steps in %.1f s → %@", algorithm.rawValue, total, seconds, url.path)
                        + (result.map { String(format: "; %d-episode return %.2f ± %.2f, normalized score %.1f", episodes, $0.returnMean, $0.returnStd, $0.normalizedScoreMean) } ?? ""))
        }
    }
}
