import Foundation
import PolicyDiffusion

/// `diffuse pgd generate`: synthetic offline data from a trajectory model, guided by a target policy.
struct PGDGenerateCommand: Command {
    static let path = ["pgd", "generate"]
    static let abstract = "generate a synthetic offline dataset with policy-guided diffusion (PGD)"
    static let discussion = """
    Samples windows of --length rows from a `diffuse train trajectory` model with EDM's stochastic \
    Heun sampler (256 steps, churn 80; DDPM/DDIM for discrete models), adding λ·∇ᵤ Σₜ log π(aₜ|sₜ) of \
    the target policy to the action channels before each step, with λᵢ = λ·[(1 − i/N) + 0.3 sin(π(i+1)/N)] \
    and 0 at the last step (docs/pgd.md §3). Windows decode to D4RL transitions (raw actions; done from \
    the done channel; next observation = next row), each window its own episode. λ = 0 (or no policy) \
    is unguided diffusion. The file's attributes record model, policy, λ, seed and command.
    """

    static let model = Option("--model", "-m", value: "FILE", help: "trajectory model (diffuse train trajectory)")
    static let policy = Option("--policy", value: "FILE", help: "target policy: an agent checkpoint (diffuse train agent)")
    static let guidance = Option("--guidance", value: "λ", default: "0", help: "guidance coefficient λ (0: unguided)")
    static let count = Option("-n", "--transitions", value: "N", default: "100000", help: "transitions to generate")
    static let output = Option("--output", "-o", value: "FILE", help: "dataset to write (.hdf5, or .npz)")
    static let length = Option("--length", value: "L", help: "rows per sampled window, L − 1 transitions each (default 128; a window-mlp model: its training horizon, the only length it takes)")
    static let steps = Option("--steps", value: "N", help: "sampler steps (default: EDM 256 for the U-Nets, 64 for window-mlp; all training steps for DDPM; 50 for DDIM)")
    static let churn = Option("--churn", value: "S", range: 0...1000, help: "EDM models: S_churn, noise re-injected per step (default 80, PGD's; 0: deterministic Heun)")
    static let ddim = Option("--ddim", help: "discrete models: deterministic DDIM instead of DDPM")
    static let batch = Option("--batch", value: "N", help: "windows per sampler call (default: 8192 rows' worth, 64 windows of 128)")
    static let normalize = Option("--normalize-guidance", help: "divide the guidance gradient by its norm per window")
    static let denoised = Option("--denoised-guidance", help: "evaluate log π on the denoised estimate instead of the noisy sample")
    static let terminals = Option.syntheticTerminals
    static let options = [model, policy, guidance, count, output, length, steps, churn, ddim, batch, normalize, denoised, terminals, Option.datasetFormat,
                          .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let modelPath = try args.required(model)
        let url = URL(fileURLWithPath: try args.required(output))
        let format = try args.datasetFormat()
        let byRule = try args.terminalsByRule(terminals)
        let n = try args.int(count, range: 1...100_000_000)!
        var settings = SynthesisSettings(lambda: try args.float(guidance)!, length: try args.int(length, range: 2...100_000),
                                         batch: try args.int(batch, range: 1...100_000),
                                         sampling: TrajectorySampling(steps: try args.int(steps, range: 1...100_000), ddim: args.flag(ddim),
                                                                             churn: try args.float(churn)))
        guard settings.lambda.isFinite else { throw CLIError("--guidance must be finite", usage: true) }
        settings.normalizeGradient = args.flag(normalize)
        settings.target = args.flag(denoised) ? .denoised : .sample
        let (trajectoryModel, modelMeta, _) = try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: modelPath))
        let layout = trajectoryModel.layout
        let target = try args.string(policy).map {
            try Loaders.agent($0, observationDim: layout.observationDim, actionDim: layout.actionDim, what: "the model's rows")
        }
        if target == nil && settings.lambda != 0 { throw CLIError("--guidance \(settings.lambda) needs a --policy", usage: true) }
        let seed = try args.seed()
        let termination = byRule ? modelMeta["env"].flatMap { TerminationRule.of(environment: $0) } : nil
        let progress = Progress("generate", total: n, unit: "transitions", console: console)
        let started = Date()
        var data: OfflineDataset
        do {
            if let group = ProcessGroup.parallel {
                guard let gathered = try trajectoryModel.synthesizeSharded(transitions: n, policy: target, settings: settings, seed: seed, group: group,
                                                                           progress: progress.update) else { return }
                data = gathered
            } else {
                data = try trajectoryModel.synthesize(transitions: n, policy: target, settings: settings, seed: seed, progress: progress.update)
            }
        } catch let e as SynthesisError {
            if case .nonFinite = e { throw CLIError(e.description) }
            throw CLIError(e.description, usage: true)  // a length or flag combination that cannot work
        }
        progress.finish()
        data.endSynthetic(by: termination)
        let seconds = Date().timeIntervalSince(started)
        if let env = modelMeta["env"] { data.attributes["env"] = env }
        data.attributes["generator"] = "pgd"
        data.attributes["model"] = modelPath
        data.attributes["policy"] = args.string(policy) ?? ""
        data.attributes["guidance"] = String(settings.lambda)
        data.attributes["seed"] = String(seed)
        data.attributes["command"] = args.invocation
        // The real data's observation σ (the model's normalization), so `pgd evaluate` keeps real-data units without the model file.
        data.attributes["observation_std"] = FidelityReference.observationStd(of: layout).map { String($0) }.joined(separator: ",")
        try data.save(to: url, format: format)
        let logLikelihood = target.map { p in
            noGrad { p.logProbability(observations: data.observations, actions: data.actions).mean().item }
        }
        if args.flag(.json) {
            var out: [String: Any] = ["file": url.path, "transitions": data.count, "seconds": seconds, "guidance": settings.lambda,
                                      "terminal_fraction": data.terminals.mean().item]
            if let logLikelihood { out["mean_log_likelihood"] = logLikelihood }
            console.out(jsonLine(out))
        } else {
            console.out(String(format: "%d transitions in %.1f s (λ = %g)", data.count, seconds, Double(settings.lambda))
                        + (logLikelihood.map { String(format: "; mean log π(a|s) %.3f", Double($0)) } ?? "") + " → \(url.path)")
        }
    }
}
