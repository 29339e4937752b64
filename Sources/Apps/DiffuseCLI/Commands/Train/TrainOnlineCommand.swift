import Foundation
import PolicyDiffusion

/// `diffuse train online`: soft actor-critic in a built-in environment (docs/environments.md §7).
struct TrainOnlineCommand: Command {
    static let path = ["train", "online"]
    static let abstract = "train a SAC agent online in an environment (the behaviour policies of the locomotion datasets)"
    static let discussion = """
    Soft actor-critic with CleanRL's sac_continuous_action defaults (Haarnoja et al. 2018): 256-256 ReLU \
    MLPs, twin Q, tanh-squashed Gaussian actor (log σ in [-5, 2]), Adam 1e-3 (Q, α) / 3e-4 (actor), batch \
    256, γ 0.99, τ 0.005, buffer 1e6, uniform random actions for the first 5000 steps, actor and α updated \
    twice every second step, entropy target −|A|. One environment step and one update per step. The \
    checkpoint holds the replay buffer and the episode under way, so --resume continues bit for bit; it \
    loads in eval agent like any agent checkpoint (acting with tanh of the mean). --snapshot-every N also \
    writes FILE.stepN.safetensors (the actor, no training state) and FILE.stepN.replay.hdf5 (the replay \
    buffer so far as a D4RL dataset: the medium-replay recipe).
    """
    static let env = Option("--env", value: "NAME", help: "environment (diffuse env list), e.g. halfcheetah")
    static let output = Option("--output", "-o", value: "FILE", help: "agent checkpoint to write (.safetensors)")
    static let steps = Option("--steps", value: "N", default: "1000000", help: "environment steps")
    static let learningStarts = Option("--learning-starts", value: "N", default: "5000", help: "random actions and no updates before step N")
    static let bufferSize = Option("--buffer-size", value: "N", default: "1000000", help: "replay buffer capacity (transitions)")
    static let batch = Option("--batch-size", value: "N", default: "256", help: "minibatch size")
    static let evalEvery = Option("--eval-every", value: "N", help: "evaluate the mean action every N steps")
    static let evalEpisodes = Option("--eval-episodes", value: "N", default: "10", help: "episodes per evaluation")
    static let curve = Option("--curve", value: "FILE", help: "append each evaluation as a JSON line (step, return, seconds) to FILE")
    static let snapshotEvery = Option("--snapshot-every", value: "N", help: "every N steps also write the actor and the replay buffer (see above)")
    static let checkpointEvery = Option.checkpointEvery(default: 10_000)
    static let logEvery = Option.logEvery(default: 1000)
    static let options = [env, output, steps, learningStarts, bufferSize, batch, evalEvery, evalEpisodes, curve, snapshotEvery, checkpointEvery,
                          .resume, .stopAfter, logEvery, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let name = try args.required(env)
        let total = try args.int(steps, range: 1...100_000_000)!
        var s = SACSettings()
        s.learningStarts = try args.int(learningStarts, range: 0...100_000_000)!
        s.bufferSize = try args.int(bufferSize, range: 1...100_000_000)!
        s.batchSize = try args.int(batch, range: 1...1_000_000)!
        s.seed = try args.seed()
        if let error = s.validationError() { throw CLIError("sac: \(error)", usage: true) }
        let evalPeriod = try args.int(evalEvery, range: 1...Int.max)
        let episodes = try args.int(evalEpisodes, range: 1...10_000)!
        let snapshots = try args.int(snapshotEvery, range: 1...Int.max)
        if args.string(curve) != nil && evalPeriod == nil { throw CLIError("--curve needs --eval-every", usage: true) }
        let environment = try Environments.make(name)
        let trainer = try OnlineTrainer(environment: environment, settings: s)
        let run = try ResumableRun(args, total: total, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let metadata = ["algorithm": "sac", "command": args.invocation]
        let started = Date()
        var evaluations: [[String: Any]] = []
        func evaluate() throws -> EvaluationResult {
            try Evaluation.run(trainer.policy(), environment: environment.spec.name, episodes: episodes, seed: Evaluation.seed(forRun: s.seed))
        }
        let outcome = try run.train(trainer, label: "train online sac", metadata: metadata, console: console, afterStep: { done, _ in
            if let snapshots, done % snapshots == 0 { try snapshot(trainer, at: done, output: url, metadata: metadata, console: console) }
            guard let evalPeriod, done % evalPeriod == 0 else { return }
            let r = try evaluate()
            let row: [String: Any] = ["step": done, "return_mean": r.returnMean, "return_std": r.returnStd, "normalized_score": r.normalizedScoreMean,
                                      "cost_mean": r.costMean, "seconds": Date().timeIntervalSince(started), "env": environment.spec.name, "seed": Int(s.seed)]
            console.err(String(format: "step %d: return %.1f ± %.1f  normalized %.1f  (%.0f s)", done, r.returnMean, r.returnStd,
                               r.normalizedScoreMean, Date().timeIntervalSince(started)))
            evaluations.append(row)
            if let path = args.string(curve) { try appendLine(row, to: URL(fileURLWithPath: path)) }
        })
        if outcome.stopped { return }
        let r = try evaluate()
        console.summary(args, json: ["checkpoint": url.path, "algorithm": "sac", "env": environment.spec.name, "steps": total, "seconds": outcome.seconds,
                                     "final_losses": outcome.metrics, "evaluations": evaluations].merging(r.summary) { _, own in own },
                        text: String(format: "sac trained %d steps on %@ in %.1f s → %@", total, environment.spec.name, outcome.seconds, url.path)
                            + r.summaryText)
    }

    /// FILE.stepN.safetensors (the networks without training state) and FILE.stepN.replay.hdf5.
    static func snapshot(_ trainer: OnlineTrainer, at step: Int, output: URL, metadata: [String: String], console: Console) throws {
        let stem = output.deletingPathExtension().path
        var meta = metadata.merging(trainer.resumeSettings) { _, own in own }
        meta["step"] = String(step)
        try Checkpoint.save(trainer.agent.networks, to: URL(fileURLWithPath: "\(stem).step\(step).safetensors"), metadata: meta)
        let data = try trainer.buffer.dataset(attributes: ["env": trainer.environment.spec.name, "quality": "replay",
                                                           "behaviors": "SAC replay buffer, steps 0..<\(step) (seed \(trainer.settings.seed))",
                                                           "format": "D4RL/DSRL (PolicyDiffusion)"])
        try data.save(to: URL(fileURLWithPath: "\(stem).step\(step).replay.hdf5"))
        console.err("snapshot at step \(step): \(stem).step\(step).{safetensors,replay.hdf5}")
    }

    static func appendLine(_ row: [String: Any], to url: URL) throws {
        let line = String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self) + "\n"
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw CLIError("cannot create \(url.path)") }
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
    }
}
