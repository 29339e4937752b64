import Foundation
import PolicyDiffusion

/// `diffuse pgd train-agent`: an offline agent trained mostly on policy-guided synthetic data.
struct PGDTrainAgentCommand: Command {
    static let path = ["pgd", "train-agent"]
    static let abstract = "train TD3+BC or IQL on synthetic data from a trajectory model, regenerated with guidance toward the current actor (PGD)"
    static let discussion = """
    docs/pgd.md §4: batches of 256 mix --synthetic-rows synthetic (default 240) with real transitions \
    (the dataset without timeout rows), both drawn without replacement within a batch. The first pool \
    of --pool transitions is unguided; every --regenerate-every steps the whole pool is sampled again \
    with guidance λ toward the current actor (λ = 0: unguided diffusion, the baseline). Agents use PGD's \
    hyperparameters (diffuse train agent --help); IQL's reward scale comes from the real data. The \
    checkpoint carries the current pool, so --resume continues exactly. With --world-model instead of \
    --model, the same loop trains the autoregressive baseline: each pool is world-model rollouts of \
    --horizon steps under the current actor (MBPO/MOPO), the first pool the real data.
    """
    static let data = Option("--data", value: "FILE", help: "real dataset (.hdf5 / .npz)")
    static let model = Option("--model", "-m", value: "FILE", help: "trajectory model (diffuse train trajectory)")
    static let worldModel = Option("--world-model", value: "FILE", help: "world model (diffuse train world-model) instead of --model: the baseline")
    static let horizon = Option("--horizon", value: "H", default: "127", help: "world-model rollout steps (127 = PGD's 128-row windows)")
    static let algo = Option("--algo", value: "A", default: "td3bc", help: "td3bc | iql")
    static let output = Option("--output", "-o", value: "FILE", help: "agent checkpoint to write (.safetensors)")
    static let env = Option("--env", value: "NAME", help: "environment for bounds and evaluation (default: the dataset's 'env')")
    static let guidance = Option("--guidance", value: "λ", default: "1", help: "guidance coefficient for regenerated pools")
    static let steps = Option("--steps", value: "N", default: "50000", help: "agent updates")
    static let pool = Option("--pool", value: "N", default: "50000", help: "synthetic transitions per pool")
    static let every = Option("--regenerate-every", value: "K", default: "10000", help: "regenerate the pool every K steps")
    static let syntheticRows = Option("--synthetic-rows", value: "N", default: "240", help: "synthetic rows per batch of 256")
    static let sampleSteps = Option("--sample-steps", value: "N", help: "sampler steps per pool (default: 256 for EDM)")
    static let evalEpisodes = Option("--eval-episodes", value: "N", default: "20", help: "episodes of the final evaluation")
    static let checkpointEvery = Option.checkpointEvery(default: 10_000)
    static let logEvery = Option.logEvery(default: 5000)
    static let options = [data, model, worldModel, horizon, algo, output, env, guidance, steps, pool, every, syntheticRows, sampleSteps, evalEpisodes,
                          checkpointEvery, .resume, .stopAfter, logEvery, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let dataPath = try args.required(data)
        let modelPath = args.string(model), worldModelPath = args.string(worldModel)
        guard (modelPath == nil) != (worldModelPath == nil) else {
            throw CLIError("give exactly one of --model (PGD) and --world-model (the baseline)", usage: true)
        }
        let url = URL(fileURLWithPath: try args.required(output))
        let kind = try args.choice(algo, AgentAlgorithm.self, allowed: [.td3bc, .iql])!
        var settings = PolicyGuidedTrainingSettings()
        settings.lambda = try args.float(guidance)!
        settings.poolSize = try args.int(pool, range: 256...100_000_000)!
        settings.regenerateEvery = try args.int(every, range: 1...Int.max)!
        settings.syntheticRows = try args.int(syntheticRows, range: 1...255)!
        settings.synthesis.sampling.steps = try args.int(sampleSteps, range: 1...100_000)
        let total = try args.int(steps, range: 1...100_000_000)!
        let seed = try args.seed()
        let dataset = try OfflineDataset.load(URL(fileURLWithPath: dataPath))
        let context = try DatasetEnvironment(dataset: dataset, path: dataPath, env: args.string(env), console: console)
        let generator: SyntheticPoolGenerator
        if let modelPath {
            generator = .diffusion(try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: modelPath)).0)
        } else {
            let rollout = RolloutSettings(horizon: try args.int(horizon, range: 1...1_000_000)!)
            generator = .worldModel(try Checkpoint.load(WorldModel.self, from: URL(fileURLWithPath: worldModelPath!)).0, rollout)
        }
        let episodes = try args.int(evalEpisodes, range: 1...10_000)!

        let run = try ResumableRun(args, total: total, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        func make(resumingFrom checkpoint: URL?) throws -> PolicyGuidedTraining {
            let poolProgress = Progress("pool", total: settings.poolSize, unit: "transitions", console: console)
            defer { poolProgress.finish() }
            return try PolicyGuidedTraining(real: dataset, generator: generator, algorithm: kind, hyperparameters: .defaults(for: kind),
                                            actionBounds: context.actionBounds, settings: settings, seed: seed, resumingFrom: checkpoint,
                                            progress: poolProgress.update)
        }
        // A resumed run restores its pool from the checkpoint instead of sampling the first one again.
        var resumed: PolicyGuidedTraining?
        _ = try run.start(console: console) { resumed = try make(resumingFrom: $0); return resumed!.trainer.step }
        let pgd = try resumed ?? make(resumingFrom: nil)
        var metadata = ["algorithm": kind.rawValue, "dataset": dataPath, "guidance": String(settings.lambda),
                        "command": args.invocation]
        if let name = context.name { metadata["env"] = name }
        if let modelPath { metadata["trajectory_model"] = modelPath }
        if let worldModelPath { metadata["world_model"] = worldModelPath }
        let (final, seconds, stopped) = try run.run(from: pgd.trainer.step, label: "pgd \(kind.rawValue)", console: console,
                                                    save: { _ in try pgd.trainer.save(to: url, metadata: metadata) }) { _ in
            try pgd.trainStep()
        }
        if stopped { return }
        let result = try context.name.map { try Evaluation.run(pgd.trainer.policy(), environment: $0, episodes: episodes, seed: 1_000_000 &+ seed) }
        if args.flag(.json) {
            var out: [String: Any] = ["checkpoint": url.path, "algorithm": kind.rawValue, "generator": modelPath != nil ? "diffusion" : "world-model",
                                      "guidance": settings.lambda, "steps": total,
                                      "seconds": seconds, "final_losses": final]
            if let r = result { out["normalized_score"] = r.normalizedScoreMean; out["return_mean"] = r.returnMean }
            console.out(jsonLine(out))
        } else {
            let source = modelPath != nil ? String(format: "PGD data (λ = %g)", Double(settings.lambda)) : "world-model rollouts"
            console.out(String(format: "%@ on %@ trained %d steps in %.1f s → %@", kind.rawValue, source, total, seconds, url.path)
                        + (result.map { String(format: "; %d-episode return %.2f ± %.2f, normalized score %.1f", episodes, $0.returnMean, $0.returnStd, $0.normalizedScoreMean) } ?? ""))
        }
    }
}
