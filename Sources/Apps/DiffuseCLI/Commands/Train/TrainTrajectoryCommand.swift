import Foundation
import PolicyDiffusion

/// `diffuse train trajectory`: PGD's trajectory diffusion model on a dataset's windows.
struct TrainTrajectoryCommand: Command {
    static let path = ["train", "trajectory"]
    static let abstract = "train a trajectory diffusion model (PGD) on a dataset's sub-trajectories"
    static let discussion = """
    Rows [s | atanh(a) | r | done] over windows of --horizon steps started every --stride rows \
    (docs/pgd.md §1), each channel z-scored; 5 % of episodes are held out for a validation loss. EDM \
    objective by default (σ_data 1, ln σ ~ N(−1.2, 1.2²); --sigma-data, --noise-mean, --noise-std); --objective ddpm trains a discrete ε-model \
    (squaredcos_cap_v2, T = 100) sampled with DDPM or DDIM instead. Adam with a linear warm-up from \
    2e-4 to --lr over 10 % of the steps, then cosine to 0; batch 256 (window MLP) or 32 (U-Nets); EMA every 10 steps \
    (--ema-decay: 0.99 window MLP, 0.995 U-Nets) — the checkpoint holds the EMA weights, which sampling uses. \
    Resumable with --resume. The default network, window-mlp, models whole windows with a residual MLP (width 128 \
    × 4 blocks, 20k steps); its defaults (--horizon 2 --stride 1, batch 256) make each sample one transition, as \
    SynthER's generator, and it samples only the length it was trained on. These defaults gave the most fidelity \
    per CPU-minute on two cores (docs/fidelity-results.md); \
    --network temporal-unet (Diffuser's) or pgd-unet (the PGD paper's) model long windows instead.
    """

    static let data = Option("--data", value: "FILE", help: "dataset (.hdf5 / .npz, D4RL keys)")
    static let output = Option("--output", "-o", value: "FILE", help: "trajectory model checkpoint to write (.safetensors)")
    static let env = Option("--env", value: "NAME", help: "environment for the action box (default: the dataset's 'env' attribute)")
    static let horizon = Option("--horizon", value: "H", help: "window length (window-mlp: default 2, one transition per sample; U-Nets: default 32, a multiple of 4)")
    static let stride = Option("--stride", value: "N", help: "window start stride (window-mlp: default 1, every transition; U-Nets: default 8)")
    static let objective = Option("--objective", value: "KIND", default: "edm", help: "edm (PGD) | ddpm (discrete, T = 100)")
    static let actions = Option("--action-transform", value: "T", default: "atanh", help: "atanh (PGD) | identity: how normalized actions are modeled")
    static let steps = Option("--steps", value: "N", help: "optimizer steps (window-mlp: default 20000; U-Nets: 10000)")
    static let batch = Option("--batch-size", value: "N", help: "windows per batch (window-mlp: default 256, SynthER's; U-Nets: 32, PGD's)")
    static let lr = Option("--lr", value: "RATE", default: "0.002", range: Option.learningRates, help: "peak learning rate (after warm-up from 2e-4)")
    static let network = Option("--network", value: "NET", default: "window-mlp",
                                help: "window-mlp (default: a residual MLP over the flattened window; at horizon 2 SynthER's transition generator, docs/pgd.md §2.1) | temporal-unet (Diffuser's) | pgd-unet (the PGD paper's: k3, max-pool, ReLU, per-timestep GroupNorm; --dim 1024 is the paper's 178 M-parameter model)")
    static let dim = Option("--dim", value: "C", help: "window-mlp: residual width (default 128, blocks 4× wider); U-Nets: base width, channels C, 2C, 4C over the three levels (default 32)")
    static let blocks = Option("--blocks", value: "N", default: "4", help: "window-mlp: residual blocks")
    static let emaDecay = Option("--ema-decay", value: "D", range: 0...0.999999, help: "decay of the EMA weights (updated every 10 steps) that the checkpoint holds and sampling uses (window-mlp: default 0.99; U-Nets: 0.995)")
    static let sigmaData = Option("--sigma-data", value: "S", default: "1", range: 1e-3...100, help: "EDM: σ_data of the preconditioning (the data are z-scored, so 1)")
    static let noiseMean = Option("--noise-mean", value: "P", default: "-1.2", range: -10...10, help: "EDM: mean of ln σ for the training noise levels (P_mean)")
    static let noiseStd = Option("--noise-std", value: "P", default: "1.2", range: 1e-3...10, help: "EDM: standard deviation of ln σ for the training noise levels (P_std)")
    static let checkpointEvery = Option.checkpointEvery(default: 1000)
    static let logEvery = Option.logEvery(default: 500)
    static let options = [data, output, env, horizon, stride, objective, actions, steps, batch, lr, network, dim, blocks, emaDecay, sigmaData, noiseMean,
                          noiseStd, checkpointEvery, .resume,
                          .stopAfter, logEvery, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let kind = try args.choice(network, among: ["temporal-unet", "pgd-unet", "window-mlp"])!
        let isMLP = kind == "window-mlp"
        var settings = isMLP ? TrajectoryTrainingSettings.transitions : TrajectoryTrainingSettings()
        settings.horizon = try args.int(horizon, range: 2...4096) ?? settings.horizon
        guard isMLP || settings.horizon % 4 == 0 else { throw CLIError("--horizon must be a multiple of 4 (the U-Net halves it twice)", usage: true) }
        settings.stride = try args.int(stride, range: 1...1_000_000) ?? settings.stride
        settings.steps = try args.int(steps, range: 1...100_000_000) ?? settings.steps
        settings.batchSize = try args.int(batch, range: 1...65_536) ?? settings.batchSize
        settings.peakLearningRate = try args.float(lr)!
        settings.seed = try args.seed()
        settings.actionTransform = try args.choice(actions, TrajectoryLayout.ActionTransform.self)!
        settings.emaDecay = try args.float(emaDecay) ?? settings.emaDecay
        let edm = EDM(sigmaData: try args.float(sigmaData)!, pMean: try args.float(noiseMean)!, pStd: try args.float(noiseStd)!)
        let isEDM = try args.choice(objective, among: ["edm", "ddpm"]) == "edm"
        if !isEDM, let flag = [sigmaData, noiseMean, noiseStd].first(where: { args.values[$0.key] != nil }) {
            throw CLIError("\(flag.key) applies to --objective edm", usage: true)
        }
        let obj: DiffusionObjective = isEDM ? .edm(edm) : .discrete(schedule: .squaredCosCapV2, steps: 100, prediction: .epsilon)
        let width = try args.int(dim, range: 8...4096) ?? (isMLP ? WindowMLP.Config.defaultWidth : 32)
        guard isMLP || width % 8 == 0 else { throw CLIError("--dim must be a multiple of 8 (GroupNorm's 8 groups)", usage: true) }
        let blockCount = try args.int(blocks, range: 1...64)!

        let input = try TrainingData(args, data: data, env: env, console: console)
        let dataset = input.dataset
        let transition = dataset.observationDim + dataset.actionDim + 2
        let net: TrajectoryNetwork
        switch kind {
        case "window-mlp": net = .windowMLP(.init(horizon: settings.horizon, transition: transition, width: width, hidden: 4 * width, blocks: blockCount))
        case "temporal-unet": net = .temporalUNet(.init(transition: transition, horizon: settings.horizon, dim: width))
        case "pgd-unet":
            var c = PGDUNet.paperPreset(transition: transition)
            c.features = width
            net = .pgdUNet(c)
        default: preconditionFailure("choice returned an unlisted value")
        }
        let trainer: TrajectoryTrainer
        do {
            trainer = try TrajectoryTrainer(dataset: dataset, actionSpace: input.actionBounds, network: net, objective: obj, settings: settings)
        } catch let e as TrajectoryLayoutError { throw CLIError("\(input.path): \(e)") }
        console.err(String(format: "%d training and %d validation windows of %d × %d; %.2f M parameters",
                           trainer.trainWindows.shape[0], trainer.validationWindows.shape[0], settings.horizon, transition,
                           Double(trainer.model.parameterCount) / 1e6))
        let run = try ResumableRun(args, total: settings.steps, output: url, checkpointEvery: checkpointEvery, logEvery: logEvery)
        let outcome = try run.train(trainer, label: "train trajectory", metadata: input.provenance, console: console, afterStep: { done, _ in
            // Logged on its own line: the loop's log averages metrics over every step of a window.
            if done % run.logEvery == 0, let v = trainer.validationLoss() { console.err(String(format: "step %d: validation loss (EMA) %.4f", done, Double(v))) }
        })
        if outcome.stopped { return }
        let validation = trainer.validationLoss()
        var json: [String: Any] = ["checkpoint": url.path, "steps": settings.steps, "seconds": outcome.seconds, "final_losses": outcome.metrics,
                                   "parameters": trainer.model.parameterCount]
        if let validation { json["validation_loss"] = validation }
        console.summary(args, json: json, text: String(format: "trained %d steps in %.1f s; loss %.4f", settings.steps, outcome.seconds, Double(outcome.metrics["loss"] ?? .nan))
                        + (validation.map { String(format: ", validation loss (EMA) %.4f", Double($0)) } ?? "") + " → \(url.path)")
    }
}
