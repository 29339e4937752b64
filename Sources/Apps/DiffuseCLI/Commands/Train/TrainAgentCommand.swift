import Foundation
import PolicyDiffusion

/// `diffuse train agent`: BC, Gaussian BC, TD3+BC, IQL, or a diffusion policy (diffusion BC, IDQL,
/// Diffusion-QL) on an offline dataset.
struct TrainAgentCommand: Command {
    static let path = ["train", "agent"]
    static let abstract = "train an offline agent (bc | bc-gaussian | td3bc | iql | diffusion-bc | idql | dql) on a dataset"
    static let discussion = """
    Hyperparameters follow Policy-Guided Diffusion's agents (docs/pgd.md §5): MLPs 256-256 ReLU, Adam \
    3e-4 (ε 1e-5), γ 0.99, Polyak 0.005, batch 256; TD3+BC α 2.5; IQL expectile 0.7, β 3, weights ≤ 100, \
    rewards × 1000 / (return range). Observations are z-scored and actions mapped from the environment's \
    bounds to [-1, 1]; both maps are stored in the checkpoint. Checkpoints are written atomically every \
    --checkpoint-every steps and can be resumed with --resume. \
    Diffusion policies (docs/offline-agents.md): diffusion-bc, idql (Hansen-Estruch et al. 2023) and dql \
    (Wang et al. 2023) share a T = 5 residual-MLP ε-network with an EMA copy that samples N candidates per \
    state; idql picks by its expectile energy weights (or argmax Q), dql by softmax Q. diffusion-bc needs \
    no rewards.
    """

    static let algo = Option("--algo", value: "A", help: "bc | bc-gaussian | td3bc | iql | diffusion-bc | idql | dql")
    static let candidates = Option("--candidates", value: "N", help: "diffusion policies: candidates per state (default: idql 32, dql 50, diffusion-bc 1)")
    static let selection = Option("--selection", value: "S", help: "diffusion policies: expectile-weights | argmax-q (idql), softmax-q | argmax-q (dql)")
    static let eta = Option("--eta", value: "η", help: "dql: weight of the normalized Q term (default 1)")
    static let maxQBackup = Option("--max-q-backup", help: "dql: back up the max over 10 sampled next actions")
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
    static let options = [algo, candidates, selection, eta, maxQBackup, data, output, env, steps, batch, lr, timeouts, evalEvery, evalEpisodes, checkpointEvery, .resume, .stopAfter,
                          logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let name = try args.required(algo)
        if let diffusion = DiffusionAlgorithm(rawValue: name) { return try runDiffusion(diffusion, args, console: console) }
        for o in [candidates, selection, eta, maxQBackup] where args.string(o) != nil || args.flag(o) {
            throw CLIError("\(o.key) applies to diffusion-bc | idql | dql only", usage: true)
        }
        _ = try args.choice(algo, among: AgentAlgorithm.offline.map(\.rawValue) + DiffusionAlgorithm.allCases.map(\.rawValue))
        let algorithm = try args.choice(algo, AgentAlgorithm.self, allowed: AgentAlgorithm.offline)!
        var h = AgentHyperparameters.defaults(for: algorithm)
        h.batchSize = try args.int(batch, range: 1...1_000_000)!
        h.learningRate = try args.float(lr)!
        h.bootstrapping = try args.choice(timeouts, Bootstrapping.self)!
        let seed = try args.seed()
        let input = try TrainingData(args, data: data, env: env, console: console)
        let trainer = try OfflineTrainer(dataset: input.dataset, algorithm: algorithm, hyperparameters: h, actionBounds: input.actionBounds, seed: seed)
        try train(trainer, name: algorithm.rawValue, input: input, args, console: console)
    }

    /// diffusion-bc | idql | dql: the diffusion policies' settings from the options, then the same run.
    static func runDiffusion(_ algorithm: DiffusionAlgorithm, _ args: ParsedArguments, console: Console) throws {
        var s = DiffusionPolicySettings(algorithm: algorithm)
        s.batchSize = try args.int(batch, range: 1...1_000_000)!
        let rate = try args.float(lr)!
        s.actorLearningRate = rate
        s.criticLearningRate = rate
        s.bootstrapping = try args.choice(timeouts, Bootstrapping.self)!
        if let n = try args.int(candidates, range: 1...100_000) { s.candidates = n }
        if let rule = try args.choice(selection, DiffusionSelection.self) { s.selection = rule }
        if let e = try args.float(eta) {
            guard algorithm == .dql else { throw CLIError("--eta applies to dql only", usage: true) }
            s.eta = e
        }
        if args.flag(maxQBackup) {
            guard algorithm == .dql else { throw CLIError("--max-q-backup applies to dql only", usage: true) }
            s.maxQBackup = true
        }
        if let error = s.validationError() { throw CLIError("\(algorithm.rawValue): \(error)", usage: true) }
        let input = try TrainingData(args, data: data, env: env, console: console, rewardsOptional: true)
        if algorithm.needsRewards && input.dataset.attributes["rewards"] == "absent" {
            throw CLIError("\(input.path) has no rewards: \(algorithm.rawValue) learns critics from them (diffusion-bc does not need them)")
        }
        let trainer = try OfflineTrainer(dataset: input.dataset, diffusion: s, actionBounds: input.actionBounds, seed: try args.seed())
        try train(trainer, name: algorithm.rawValue, input: input, args, console: console)
    }

    /// The run shared by every algorithm: checkpoints, resume, periodic and final evaluation.
    static func train(_ trainer: OfflineTrainer, name: String, input: TrainingData, _ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let total = try args.int(steps, range: 1...100_000_000)!
        let seed = try args.seed()
        let evalPeriod = try args.int(evalEvery, range: 1...Int.max)
        if evalPeriod != nil && input.environmentName == nil { throw CLIError("--eval-every needs --env (the dataset names no environment)", usage: true) }
        let episodes = try args.int(evalEpisodes, range: 1...10_000)!
        let run = try ResumableRun(args, total: total, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        var evaluations: [[String: Any]] = []
        let outcome = try run.train(trainer, label: "train \(name)", metadata: input.metadata(["algorithm": name]),
                                    console: console, afterStep: { done, _ in
            guard let evalPeriod, done % evalPeriod == 0, let r = try input.evaluate(trainer.policy(), episodes: episodes, runSeed: seed) else { return }
            console.err(String(format: "step %d: return %.2f ± %.2f  normalized %.1f", done, r.returnMean, r.returnStd, r.normalizedScoreMean)
                        + (r.normalizedCostMean.map { String(format: "  cost %.2f (normalized %.2f)", r.costMean, $0) } ?? ""))
            evaluations.append(["step": done, "return_mean": r.returnMean, "normalized_score": r.normalizedScoreMean, "cost_mean": r.costMean])
        })
        if outcome.stopped { return }
        let result = try input.evaluate(trainer.policy(), episodes: episodes, runSeed: seed)
        console.summary(args, json: ["checkpoint": url.path, "algorithm": name, "steps": total, "seconds": outcome.seconds,
                                     "final_losses": outcome.metrics, "evaluations": evaluations].merging(result?.summary ?? [:]) { _, own in own },
                        text: String(format: "%@ trained %d steps in %.1f s → %@", name, total, outcome.seconds, url.path)
                            + (result?.summaryText ?? ""))
    }
}
