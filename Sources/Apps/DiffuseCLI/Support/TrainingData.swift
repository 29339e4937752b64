import Foundation
import PolicyDiffusion

/// What every training command on a dataset sets up the same way: the file behind --data, its
/// environment and action box (`DatasetEnvironment`), and the provenance its checkpoints record.
struct TrainingData {
    let path: String
    let dataset: OfflineDataset
    let context: DatasetEnvironment
    /// "dataset", "command" and, when known, "env": merged into every checkpoint's metadata.
    let provenance: [String: String]

    /// `rewardsOptional`: a file without rewards loads (zero rewards) for methods that never read them.
    init(_ args: ParsedArguments, data: Option, env: Option, console: Console, rewardsOptional: Bool = false) throws {
        path = try args.required(data)
        dataset = try OfflineDataset.load(URL(fileURLWithPath: path), rewardsOptional: rewardsOptional)
        context = try DatasetEnvironment(dataset: dataset, path: path, env: args.string(env), console: console)
        var provenance = ["dataset": path, "command": args.invocation]
        if let name = context.name { provenance["env"] = name }
        self.provenance = provenance
    }

    var environmentName: String? { context.name }
    var actionBounds: Box { context.actionBounds }

    /// The provenance with a command's own entries added.
    func metadata(_ extra: [String: String]) -> [String: String] { provenance.merging(extra) { _, own in own } }

    /// The final (and periodic) evaluation of a trained policy on the dataset's environment, or nil
    /// without one. Episodes are seeded from `Evaluation.seed(forRun:)`, away from the training seed.
    func evaluate(_ policy: any Policy, episodes: Int, runSeed: UInt64, costLimit: Double? = nil) throws -> EvaluationResult? {
        guard let name = context.name else { return nil }
        return try Evaluation.run(policy, environment: name, episodes: episodes, seed: Evaluation.seed(forRun: runSeed), costLimit: costLimit)
    }
}

extension Evaluation {
    /// A run with seed s evaluates on episodes seeded from s + 1e6: never a stream its training drew from.
    static let runSeedOffset: UInt64 = 1_000_000
    static func seed(forRun seed: UInt64) -> UInt64 { seed &+ runSeedOffset }
}

extension EvaluationResult {
    /// The fields a training command's --json summary reports.
    var summary: [String: Any] {
        var out: [String: Any] = ["normalized_score": normalizedScoreMean, "return_mean": returnMean, "cost_mean": costMean]
        if let c = normalizedCostMean { out["normalized_cost"] = c }
        return out
    }

    /// "; 10-episode return 12.30 ± 1.20, normalized score 45.6", what the text summaries append.
    var summaryText: String {
        String(format: "; %d-episode return %.2f ± %.2f, normalized score %.1f", episodes, returnMean, returnStd, normalizedScoreMean)
    }
}

extension Console {
    /// A training command's final line: `json` as one sorted JSON object with --json, else `text`.
    func summary(_ args: ParsedArguments, json: [String: Any], text: @autoclosure () -> String) {
        out(args.flag(.json) ? jsonLine(json) : text())
    }
}
