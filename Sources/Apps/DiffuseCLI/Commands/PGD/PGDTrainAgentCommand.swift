import Foundation
import PolicyDiffusion

/// `diffuse pgd train-agent`: an offline agent trained mostly on policy-guided synthetic data.
struct PGDTrainAgentCommand: Command {
    static let path = ["pgd", "train-agent"]
    static let abstract = "train TD3+BC, IQL or a diffusion policy on synthetic data from a trajectory model, regenerated with guidance toward the current actor (PGD)"
    static let discussion = """
    docs/pgd.md §4: batches of 256 mix --synthetic-rows synthetic (default 240) with real transitions \
    (the dataset without timeout rows), both drawn without replacement within a batch. The first pool \
    of --pool transitions is unguided; every --regenerate-every steps the whole pool is sampled again \
    with guidance λ toward the current actor (λ = 0: unguided diffusion, the baseline). Agents use PGD's \
    hyperparameters (diffuse train agent --help); IQL's reward scale comes from the real data. The \
    checkpoint carries the current pool, so --resume continues exactly. With --world-model instead of \
    --model, the same loop trains the autoregressive baseline: each pool is world-model rollouts of \
    --horizon steps under the current actor (MBPO/MOPO), the first pool the real data. \
    Diffusion policies (diffusion-bc | idql | dql, docs/offline-agents.md) train the same way with their \
    default settings, but have no log-likelihood to guide toward: with --model they need --guidance 0 \
    (unguided pools); world-model rollouts act with their sampled actions.
    """
    static let data = Option("--data", value: "FILE", help: "real dataset (.hdf5 / .npz)")
    static let model = Option("--model", "-m", value: "FILE", help: "trajectory model (diffuse train trajectory)")
    static let worldModel = Option("--world-model", value: "FILE", help: "world model (diffuse train world-model) instead of --model: the baseline")
    static let horizon = Option("--horizon", value: "H", default: "127", help: "world-model rollout steps (127 = PGD's 128-row windows)")
    static let algo = Option("--algo", value: "A", default: "td3bc", help: "td3bc | iql | diffusion-bc | idql | dql")
    static let output = Option("--output", "-o", value: "FILE", help: "agent checkpoint to write (.safetensors)")
    static let env = Option("--env", value: "NAME", help: "environment for bounds and evaluation (default: the dataset's 'env')")
    static let guidance = Option("--guidance", value: "λ", default: "1", help: "guidance coefficient for regenerated pools")
    static let steps = Option("--steps", value: "N", default: "50000", help: "agent updates")
    static let pool = Option("--pool", value: "N", default: "50000", help: "synthetic transitions per pool")
    static let every = Option("--regenerate-every", value: "K", default: "10000", help: "regenerate the pool every K steps")
    static let syntheticRows = Option("--synthetic-rows", value: "N", default: "240", help: "synthetic rows per batch of 256")
    static let sampleSteps = Option("--sample-steps", value: "N", help: "sampler steps per pool (default: EDM 256 for the U-Nets, 64 for window-mlp)")
    static let evalEpisodes = Option("--eval-episodes", value: "N", default: "20", help: "episodes of the final evaluation")
    static let terminals = Option.syntheticTerminals
    static let checkpointEvery = Option.checkpointEvery(default: 10_000)
    static let logEvery = Option.logEvery(default: 5000)
    static let options = [data, model, worldModel, horizon, algo, output, env, guidance, steps, pool, every, syntheticRows, sampleSteps, evalEpisodes,
                          terminals, checkpointEvery, .resume, .stopAfter, logEvery, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let modelPath = args.string(model), worldModelPath = args.string(worldModel)
        guard (modelPath == nil) != (worldModelPath == nil) else {
            throw CLIError("give exactly one of --model (PGD) and --world-model (the baseline)", usage: true)
        }
        let url = URL(fileURLWithPath: try args.required(output))
        let name = try args.choice(algo, among: ["td3bc", "iql"] + DiffusionAlgorithm.allCases.map(\.rawValue))!
        let recipe: any OfflineAlgorithmRecipe
        if let diffusion = DiffusionAlgorithm(rawValue: name) {
            recipe = DiffusionPolicySettings(algorithm: diffusion)
        } else {
            let kind = AgentAlgorithm(rawValue: name)!
            recipe = AgentRecipe(kind, hyperparameters: .defaults(for: kind))
        }
        var settings = PolicyGuidedTrainingSettings()
        settings.synthesis.lambda = try args.float(guidance)!
        settings.poolSize = try args.int(pool, range: 256...100_000_000)!
        settings.regenerateEvery = try args.int(every, range: 1...Int.max)!
        settings.syntheticRows = try args.int(syntheticRows, range: 1...255)!
        settings.synthesis.sampling.steps = try args.int(sampleSteps, range: 1...100_000)
        let lambda = settings.synthesis.lambda
        let total = try args.int(steps, range: 1...100_000_000)!
        let seed = try args.seed()
        let byRule = try args.terminalsByRule(terminals)
        let input = try TrainingData(args, data: data, env: env, console: console)
        settings.termination = byRule ? input.environmentName : nil
        let generator: SyntheticPoolGenerator
        if let modelPath {
            generator = .diffusion(try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: modelPath)).0)
        } else {
            let rollout = RolloutSettings(horizon: try args.int(horizon, range: 1...1_000_000)!)
            generator = .worldModel(try Checkpoint.load(WorldModel.self, from: URL(fileURLWithPath: worldModelPath!)).0, rollout)
        }
        let episodes = try args.int(evalEpisodes, range: 1...10_000)!

        let pgd = try PolicyGuidedAgentTrainer(real: input.dataset, generator: generator, recipe: recipe, actionBounds: input.actionBounds,
                                               settings: settings, seed: seed)
        // Each pool's generation shows as its own progress bar.
        var poolBar: Progress?
        pgd.poolProgress = { done in
            if poolBar == nil { poolBar = Progress("pool", total: settings.poolSize, unit: "transitions", console: console) }
            poolBar!.update(done)
            if done >= settings.poolSize { poolBar!.finish(); poolBar = nil }
        }
        var extra = ["algorithm": name, "guidance": String(lambda), "terminals": settings.termination == nil ? "model" : "rule"]
        if let modelPath { extra["trajectory_model"] = modelPath }
        if let worldModelPath { extra["world_model"] = worldModelPath }
        let run = try ResumableRun(args, total: total, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(pgd, label: "pgd \(name)", metadata: input.metadata(extra), console: console)
        if outcome.stopped { return }
        let result = try input.evaluate(pgd.trainer.policy(), episodes: episodes, runSeed: seed)
        var json: [String: Any] = ["checkpoint": url.path, "algorithm": name, "generator": modelPath != nil ? "diffusion" : "world-model",
                                   "guidance": lambda, "steps": total, "seconds": outcome.seconds, "final_losses": outcome.metrics]
        if let r = result { json["normalized_score"] = r.normalizedScoreMean; json["return_mean"] = r.returnMean }
        let source = modelPath != nil ? String(format: "PGD data (λ = %g)", Double(lambda)) : "world-model rollouts"
        console.summary(args, json: json, text: String(format: "%@ on %@ trained %d steps in %.1f s → %@", name, source, total, outcome.seconds, url.path)
                            + (result?.summaryText ?? ""))
    }
}
