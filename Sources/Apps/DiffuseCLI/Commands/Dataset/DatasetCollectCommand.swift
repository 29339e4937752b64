import Foundation
import PolicyDiffusion

/// `diffuse dataset collect`: scripted behavior data in the D4RL / DSRL layout.
struct DatasetCollectCommand: Command {
    static let path = ["dataset", "collect"]
    static let abstract = "collect an offline dataset from scripted behavior policies (HDF5 or NPZ)"
    static var discussion: String {
        var lines = ["Each episode's behavior is drawn from the quality's mixture (σ: Gaussian action noise before clipping):"]
        for env in ["pendulum", "pointmaze-umaze", "safe-circle", "safe-goal"] {
            for q in DataQuality.scripted {
                lines.append("  \(env.padding(toLength: 16, withPad: " ", startingAt: 0)) \(q.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) "
                             + DataCollection.mixture(environment: env, quality: q).map(\.description).joined(separator: ", "))
            }
        }
        lines.append("pointmaze-medium mixes as pointmaze-umaze. Pointmaze follows D4RL: the behavior chases a random target "
                     + "(infos/goal) redrawn when reached; rewards are those of the fixed evaluation goal. Hidden state "
                     + "(goals, hazards) is stored under infos/. The last episode is cut at --steps and marked as a timeout.")
        lines.append("halfcheetah, hopper, walker2d follow D4RL's recipes with our SAC agents from --behaviors "
                     + "(<robot>-sac-medium|expert.safetensors, sampled actions): random | medium | expert | medium-expert "
                     + "(half of --steps each) | medium-replay (the SAC replay buffer up to the medium agent, "
                     + "<robot>-sac-medium.replay.hdf5, at most --steps rows). The -velocity tasks: random | medium | expert | "
                     + "mixed (10% random, 20% medium, 20% expert, 50% the expert under speed governors at 0.75, 1, 1.25 × the "
                     + "cost threshold). docs/environments.md §7.")
        return lines.joined(separator: "\n")
    }

    static let env = Option("--env", value: "NAME", help: "environment (diffuse env list)")
    static let quality = Option("--quality", value: "Q", default: "mixed", help: "random | medium | expert | mixed; locomotion: medium-replay | medium-expert too")
    static let behaviors = Option("--behaviors", value: "DIR", default: "Checkpoints", help: "where the locomotion recipes' SAC agents are")
    static let steps = Option("--steps", value: "N", default: "100000", help: "transitions to collect")
    static let output = Option("--output", "-o", value: "FILE", help: "dataset to write (.hdf5, or .npz)")
    static let options = [env, quality, steps, output, behaviors, Option.datasetFormat, .distributed, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let name = try args.required(env)
        let q = try args.choice(quality, DataQuality.self)!
        let n = try args.int(steps, range: 1...100_000_000)!
        let url = URL(fileURLWithPath: try args.required(output))
        let fileFormat = try args.datasetFormat()
        let seed = try args.seed()
        let started = Date()
        var data: OfflineDataset
        let locomotion = try Environments.make(name) is Locomotion
        if let group = ProcessGroup.parallel {
            if locomotion && q != .random { throw CLIError("--distributed collects scripted behaviour only; run the \(q.rawValue) recipe without it") }
            guard let gathered = try collectSharded(name, quality: q, steps: n, seed: seed, group: group, console: console) else { return }
            data = gathered
        } else {
            let progress = Progress("collect \(name) \(q.rawValue)", total: n, console: console)
            data = locomotion
                ? try LocomotionRecipes.collect(environment: name, quality: q, steps: n, seed: seed,
                                                behaviors: URL(fileURLWithPath: try args.required(behaviors)), progress: progress.update)
                : try DataCollection.collect(environment: name, quality: q, steps: n, seed: seed, progress: progress.update)
            progress.finish()
        }
        data.attributes["command"] = args.invocation
        try data.save(to: url, format: fileFormat)
        let s = data.episodeSummaries()
        let meanReturn = s.map(\.return).reduce(0, +) / Double(s.count)
        if args.flag(.json) {
            console.out(jsonLine(["file": url.path, "transitions": data.count, "episodes": s.count, "return_mean": meanReturn,
                                  "seconds": Date().timeIntervalSince(started)]))
        } else {
            console.out(String(format: "%d transitions, %d episodes (mean return %.2f) → %@", data.count, s.count, meanReturn, url.path))
        }
    }

    /// Sharded collection (docs/distributed.md): rank r collects its share of the transitions from
    /// its own seed (seed + r·φ, φ = 2⁶⁴/golden ratio), the shards are gathered to rank 0 in rank
    /// order and concatenated there. Returns the whole dataset on rank 0, nil on the others.
    static func collectSharded(_ name: String, quality: DataQuality, steps n: Int, seed: UInt64, group: ProcessGroup,
                               console: Console) throws -> OfflineDataset? {
        let mine = group.shard(n).count
        guard mine > 0 else { throw CLIError("--steps \(n) is fewer than the \(group.size) ranks") }
        let progress = Progress("collect \(name) \(quality.rawValue) (rank 0 of \(group.size))", total: mine, console: console)
        let shard = try DataCollection.collect(environment: name, quality: quality, steps: mine,
                                               seed: seed &+ UInt64(group.rank) &* 0x9E37_79B9_7F4A_7C15, progress: progress.update)
        progress.finish()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pd-shard-\(getpid())-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try shard.save(to: scratch, format: .npz)
        guard let parts = group.gather(try Data(contentsOf: scratch)) else { return nil }
        let shards = try parts.map { bytes -> OfflineDataset in
            try bytes.write(to: scratch)
            return try OfflineDataset.load(scratch)
        }
        var data = try OfflineDataset.concatenate(shards)
        data.attributes = shards[0].attributes
        data.attributes["ranks"] = String(group.size)
        return data
    }
}
