import Foundation
import PolicyDiffusion

/// `diffuse world-model rollout`: synthetic offline data from world-model rollouts under a target policy.
struct WorldModelRolloutCommand: Command {
    static let path = ["world-model", "rollout"]
    static let abstract = "generate a synthetic offline dataset by rolling a world model out under a target policy"
    static let discussion = """
    Starts rollouts from observations drawn uniformly from --data, acts with the policy's mean action \
    (clipped to the action box) and predicts s′ and r with an ensemble member drawn per rollout and step \
    (MOPO), sampling from its Gaussian (MBPO/MOPO; --mean uses its mean). Each rollout is an episode of \
    --horizon steps ending in a timeout (127 = PGD's 128-row windows); the last one is cut so the file \
    holds exactly -n transitions. With an environment in the model's metadata, the fraction of predicted \
    observations outside its observation box is reported (--clip-observations clips them instead). The \
    file's attributes record model, policy, horizon, seed and command.
    """

    static let model = Option("--model", "-m", value: "FILE", help: "world model (diffuse train world-model)")
    static let data = Option("--data", value: "FILE", help: "dataset whose observations start the rollouts")
    static let policy = Option("--policy", value: "FILE", help: "target policy: an agent checkpoint (diffuse train agent)")
    static let count = Option("-n", "--transitions", value: "N", default: "100000", help: "transitions to generate")
    static let horizon = Option("--horizon", value: "H", default: "127", help: "steps per rollout")
    static let output = Option("--output", "-o", value: "FILE", help: "dataset to write (.hdf5, or .npz)")
    static let mean = Option("--mean", help: "use each member's mean prediction instead of sampling its Gaussian")
    static let clip = Option("--clip-observations", help: "clip predicted observations to the environment's observation box")
    static let terminals = Option.syntheticTerminals
    static let options = [model, data, policy, count, horizon, output, mean, clip, terminals, Option.datasetFormat, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let modelPath = try args.required(model), dataPath = try args.required(data), policyPath = try args.required(policy)
        let url = URL(fileURLWithPath: try args.required(output))
        let format = try args.datasetFormat()
        let byRule = try args.terminalsByRule(terminals)
        let n = try args.int(count, range: 1...100_000_000)!
        let settings = RolloutSettings(horizon: try args.int(horizon, range: 1...1_000_000)!, sample: !args.flag(mean),
                                         clipObservations: args.flag(clip))
        let seed = try args.seed()
        let (worldModel, modelMeta, _) = try Checkpoint.load(WorldModel.self, from: URL(fileURLWithPath: modelPath))
        let termination = byRule ? modelMeta["env"].flatMap { TerminationRule.of(environment: $0) } : nil
        let dataset = try OfflineDataset.load(URL(fileURLWithPath: dataPath))
        guard dataset.observationDim == worldModel.config.observationDim else {
            throw CLIError("\(dataPath) has \(dataset.observationDim)-d observations; the world model's are \(worldModel.config.observationDim)")
        }
        let agent = try AgentPolicy.load(URL(fileURLWithPath: policyPath))
        let environment = try modelMeta["env"].map { try Environments.make($0) }
        if settings.clipObservations && environment == nil {
            throw CLIError("--clip-observations needs the environment's observation box; \(modelPath) names no environment", usage: true)
        }
        let started = Date()
        var result: WorldModelRollouts
        do {
            result = try worldModel.rollout(transitions: n, from: dataset, policy: agent, settings: settings,
                                            observationSpace: environment?.spec.observationSpace, seed: seed)
        } catch let e as WorldModelError { throw CLIError(e.description) }
        result.dataset.endSynthetic(by: termination)
        let seconds = Date().timeIntervalSince(started)
        // The rollout records generator, horizon and seed; provenance is added here.
        if let env = modelMeta["env"] { result.dataset.attributes["env"] = env }
        result.dataset.attributes["model"] = modelPath
        result.dataset.attributes["policy"] = policyPath
        result.dataset.attributes["command"] = args.invocation
        try result.dataset.save(to: url, format: format)
        let meanReward = Double(result.dataset.rewards.mean().item)
        if args.flag(.json) {
            var out: [String: Any] = ["file": url.path, "transitions": result.dataset.count, "rollouts": result.rollouts, "seconds": seconds,
                                      "mean_reward": meanReward]
            if let f = result.outOfBoundsFraction { out["out_of_bounds_fraction"] = f }
            console.out(jsonLine(out))
        } else {
            console.out(String(format: "%d transitions from %d rollouts in %.1f s; mean reward %.4g", result.dataset.count, result.rollouts, seconds, meanReward)
                        + (result.outOfBoundsFraction.map { String(format: "; %.2f%% of s′ outside the observation box", $0 * 100) } ?? "")
                        + " → \(url.path)")
        }
    }
}
