import Foundation
import PolicyDiffusion

/// `diffuse pgd evaluate`: how faithful a synthetic dataset is to the environment and to the real
/// data, and how on-policy it is for a target policy (docs/pgd.md §6.1).
struct PGDEvaluateCommand: Command {
    static let path = ["pgd", "evaluate"]
    static let abstract = "measure a synthetic dataset: dynamics error (also relative to the real data's one-step change), reward error, roughness, marginal W1, log π(a|s), out-of-bounds states"
    static let discussion = """
    Every σ is the real data's, never the synthetic data's own: from --real, else from the dataset the \
    trajectory model named in the file's 'model' attribute was trained on, else from that model's \
    normalization statistics, else from the 'observation_std' the file records (pgd generate writes it); \
    the output says which. Dynamics error: mean, median and 90th percentile over rows of \
    ‖(s′ − f(s, a)) / σ_s‖, f the environment's exact transition; rows the environment marks ambiguous \
    (Hopper/Walker2d velocities at the ±10 clip) are counted and left out. Relative dynamics error: that \
    ÷ the real data's mean ‖(s′ − s) / σ_s‖ (below 1 beats "nothing moves"). Roughness: mean over \
    windows of the mean squared second difference (σ units) of observations and of actions, next to \
    the real data's. Marginal W1: per-dimension 1-D Wasserstein distance to the real data in σ units. \
    These three need real transitions (--real or the model's training file). Reward error: mean \
    |r − r(s, a, f(s, a))|. With --policy: mean log π(a|s). Out of bounds: rows whose s or s′ lies \
    more than --oob-tolerance σ outside the observation box, and how far (σ). The measurement is \
    deterministic; --seed is accepted like every command's.
    """
    static let data = Option("--data", value: "FILE", help: "synthetic dataset (.hdf5 / .npz)")
    static let env = Option("--env", value: "NAME", help: "environment (default: the file's 'env' attribute)")
    static let real = Option("--real", value: "FILE", help: "real dataset: sets σ and is the reference for the relative error, roughness and W1")
    static let policy = Option("--policy", value: "FILE", help: "target policy (agent checkpoint) for the log-likelihood")
    static let tolerance = Option("--oob-tolerance", value: "SIGMA", default: String(SyntheticDataMetrics.defaultOutOfBoundsTolerance), range: 0...1e6,
                                  help: "a state counts as out of bounds more than this many σ outside the observation box")
    static let options = [data, env, real, policy, tolerance, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let path = try args.required(data)
        _ = try args.seed()
        _ = try args.float(tolerance)  // range check; read in Double so 0.05 stays 0.05
        let oobTolerance = Double(args.string(tolerance)!)!
        let synthetic = try OfflineDataset.load(URL(fileURLWithPath: path))
        guard let name = args.string(env) ?? synthetic.attributes["env"] else { throw CLIError("\(path) names no environment: pass --env", usage: true) }
        let environment = try Environments.make(name)
        let reference = try Self.reference(args.string(real), synthetic: synthetic, path: path)
        guard reference.observationStd.count == synthetic.observationDim else {
            throw CLIError("\(reference.units) has \(reference.observationStd.count)-d observations, the data \(synthetic.observationDim)")
        }
        if let r = reference.data, r.actionDim != synthetic.actionDim {
            throw CLIError("\(reference.units) has \(r.actionDim)-d actions, the data \(synthetic.actionDim)")
        }
        let target = try args.string(policy).map {
            try Loaders.agent($0, observationDim: synthetic.observationDim, actionDim: synthetic.actionDim, what: "the data")
        }
        let m = try SyntheticDataMetrics(synthetic, environment: environment, reference: reference, policy: target, outOfBoundsTolerance: oobTolerance)
        if args.flag(.json) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            console.out(String(decoding: try encoder.encode(m), as: UTF8.self))
            return
        }
        console.out(text(m, path: path, env: name))
    }

    /// The real data's statistics, from the first source that exists (see `discussion`).
    static func reference(_ realPath: String?, synthetic: OfflineDataset, path: String) throws -> FidelityReference {
        if let realPath {
            return FidelityReference(real: try OfflineDataset.load(URL(fileURLWithPath: realPath)), source: "real data \(realPath)")
        }
        let fm = FileManager.default
        if let modelPath = synthetic.attributes["model"], fm.fileExists(atPath: modelPath),
           case let (model, meta, _)? = try? Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: modelPath)) {
            if let dataPath = meta["dataset"], fm.fileExists(atPath: dataPath), let real = try? OfflineDataset.load(URL(fileURLWithPath: dataPath)),
               real.observationDim == model.layout.observationDim {
                return FidelityReference(real: real, source: "real data \(dataPath) (the training set of \(modelPath))")
            }
            return FidelityReference(observationStd: FidelityReference.observationStd(of: model.layout),
                                     source: "normalization statistics of \(modelPath) (pass --real for the relative error, roughness and W1)")
        }
        if let recorded = synthetic.attributes["observation_std"] {
            let std = recorded.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard std.count == synthetic.observationDim else { throw CLIError("\(path): its observation_std attribute does not hold \(synthetic.observationDim) numbers") }
            return FidelityReference(observationStd: std, source: "the real-data σ recorded in \(path) (pass --real for the relative error, roughness and W1)")
        }
        throw CLIError("\(path) records no real-data statistics (no readable 'model', no 'observation_std'): pass --real FILE", usage: true)
    }

    static func text(_ m: SyntheticDataMetrics, path: String, env: String) -> String {
        func f(_ v: Double?, _ digits: Int = 4) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        var lines = [String(format: "%@ (%d transitions on %@), in σ units of %@", path, m.transitions, env, m.units ?? "?")]
        var dynamics = "  dynamics error \(f(m.dynamicsError)) (median \(f(m.dynamicsErrorMedian)), p90 \(f(m.dynamicsErrorP90)))"
        if let r = m.relativeDynamicsError {
            dynamics += "; relative to the real one-step change \(f(m.realOneStepChange)): \(f(r)) (median \(f(m.relativeDynamicsErrorMedian)), p90 \(f(m.relativeDynamicsErrorP90))) — below 1 beats \"nothing moves\""
        }
        if let a = m.ambiguousRows, a > 0 { dynamics += "; \(a) rows at the velocity clip left out" }
        lines.append(dynamics)
        if m.roughnessObservations != nil || m.realRoughnessObservations != nil {
            lines.append("  roughness (mean squared 2nd difference): observations \(f(m.roughnessObservations)) (real \(f(m.realRoughnessObservations))), actions \(f(m.roughnessActions)) (real \(f(m.realRoughnessActions)))")
        }
        if let wo = m.observationW1Max {
            lines.append("  marginal W1 to the real data: observations max \(f(wo)) mean \(f(m.observationW1Mean)), actions max \(f(m.actionW1Max)) mean \(f(m.actionW1Mean))")
        }
        lines.append(String(format: "  reward error %.4f; out of bounds %.2f%% beyond %@ σ (%.2f%% by any amount, excess max %@ mean %@ σ); terminals %.2f%%",
                            m.rewardError, 100 * m.outOfBoundsFraction, f(m.outOfBoundsTolerance, 3), 100 * (m.outOfBoundsAnyFraction ?? 0),
                            f(m.outOfBoundsMaxExcess), f(m.outOfBoundsMeanExcess), 100 * m.terminalFraction)
                     + (m.ruleTerminalFraction.map { String(format: " (the environment's termination rule: %.2f%%)", 100 * $0) } ?? "")
                     + (m.meanLogLikelihood.map { String(format: "; mean log π(a|s) %.3f", $0) } ?? ""))
        return lines.joined(separator: "\n")
    }
}
