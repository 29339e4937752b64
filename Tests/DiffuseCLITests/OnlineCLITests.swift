@testable import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing

/// `diffuse train online` (SAC): resume, snapshots, evaluation of its checkpoints, one-line errors.
@Suite("diffuse train online", .serialized) struct OnlineCLITests {
    /// Pendulum, small: 40 random steps, then one update per step; episodes are 200 steps, so the stop
    /// at step 130 is mid-episode and the resume must rebuild the environment from the saved actions.
    static let common = ["train", "online", "--env", "pendulum", "--steps", "260", "--learning-starts", "40", "--batch-size", "32",
                         "--buffer-size", "150", "--checkpoint-every", "65", "--seed", "5"]

    @Test func resumeMidEpisodeEqualsTheStraightRun() throws {
        let straight = tempPath("straight.safetensors"), resumed = tempPath("resumed.safetensors")
        var r = runCLI(Self.common + ["-o", straight])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(Self.common + ["-o", resumed, "--stop-after", "130"])
        #expect(r.status == 0 && r.err.joined().contains("continue with --resume"), "\(r.err)")
        r = runCLI(Self.common + ["-o", resumed, "--resume"])
        #expect(r.status == 0, "\(r.err)")
        // Every tensor — weights, targets, optimizer moments, the (wrapped) replay buffer — and every
        // training-state value (random streams, episode actions) is the same.
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed))
        #expect(a.tensors.keys.sorted() == b.tensors.keys.sorted())
        #expect(a.tensors.keys.contains { $0.contains("buffer.rewards") } && a.tensors.keys.contains { $0.contains("critic_optimizer") })
        for key in a.tensors.keys {
            #expect(try a.tensors[key]!.tensor(name: key).scalars == b.tensors[key]!.tensor(name: key).scalars, "\(key) differs")
        }
        let stateKeys = a.metadata.keys.filter { $0 != "command" }
        for key in stateKeys { #expect(a.metadata[key] == b.metadata[key], "metadata \(key) differs") }

        // The checkpoint is an agent checkpoint: eval loads it and finds its environment.
        r = runCLI(["eval", "--policy", straight, "--episodes", "2", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let result = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect(result["environment"] as? String == "pendulum" && (result["returns"] as? [Double])?.count == 2)
    }

    @Test func snapshotsWriteTheActorAndTheReplayBuffer() throws {
        let out = tempPath("sac.safetensors"), curve = tempPath("curve.jsonl")
        let r = runCLI(["train", "online", "--env", "pendulum", "--steps", "120", "--learning-starts", "60", "--batch-size", "16",
                        "--snapshot-every", "100", "--eval-every", "60", "--eval-episodes", "2", "--curve", curve, "-o", out])
        #expect(r.status == 0, "\(r.err)")
        let stem = URL(fileURLWithPath: out).deletingPathExtension().path
        let data = try OfflineDataset.load(URL(fileURLWithPath: "\(stem).step100.replay.hdf5"))
        #expect(data.count == 100 && data.attributes["env"] == "pendulum")
        // The stored actions are what the environment received: inside pendulum's ±2 box, not [−1, 1] only.
        #expect(data.actions.scalars.allSatisfy { abs($0) <= 2 } && data.actions.scalars.contains { abs($0) > 1 })
        #expect(data.timeouts.scalars.last == 1)
        let snap = try AgentPolicy.load(URL(fileURLWithPath: "\(stem).step100.safetensors"))
        #expect(snap.networks.config.algorithm == .sac && snap.metadata["step"] == "100")
        let rows = try String(contentsOfFile: curve, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 2 && rows[1].contains("\"step\":120"))
    }

    /// The locomotion recipes end to end on a tiny run: its snapshot stands in for the medium and expert
    /// agents and its replay buffer for medium-replay (docs/environments.md §7).
    @Test func locomotionRecipesFromSnapshots() throws {
        let dir = URL(fileURLWithPath: tempPath("behaviors"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let run = dir.appendingPathComponent("run.safetensors").path
        let r = runCLI(["train", "online", "--env", "halfcheetah", "--steps", "120", "--learning-starts", "100", "--batch-size", "16",
                        "--snapshot-every", "120", "-o", run])
        #expect(r.status == 0, "\(r.err)")
        let fm = FileManager.default
        for level in ["medium", "expert"] {
            try fm.copyItem(atPath: dir.appendingPathComponent("run.step120.safetensors").path,
                            toPath: dir.appendingPathComponent(LocomotionRecipes.policyFile("halfcheetah", level)).path)
        }
        try fm.copyItem(atPath: dir.appendingPathComponent("run.step120.replay.hdf5").path,
                        toPath: dir.appendingPathComponent(LocomotionRecipes.replayFile("halfcheetah")).path)
        func collect(_ env: String, _ quality: String, _ steps: Int) throws -> OfflineDataset {
            let out = tempPath("\(env)-\(quality).hdf5")
            let r = runCLI(["dataset", "collect", "--env", env, "--quality", quality, "--steps", String(steps), "--behaviors", dir.path, "-o", out])
            #expect(r.status == 0, "\(env) \(quality): \(r.err)")
            return try OfflineDataset.load(URL(fileURLWithPath: out))
        }
        let medium = try collect("halfcheetah", "medium", 300)
        #expect(medium.count == 300 && medium.attributes["quality"] == "medium" && medium.actions.scalars.allSatisfy { abs($0) <= 1 })
        let both = try collect("halfcheetah", "medium-expert", 300)
        #expect(both.count == 300 && (both.attributes["behaviors"] ?? "").hasPrefix("rows 0..<150: SAC medium"))
        let replay = try collect("halfcheetah", "medium-replay", 100)
        let buffer = try OfflineDataset.load(dir.appendingPathComponent(LocomotionRecipes.replayFile("halfcheetah")))
        #expect(replay.count == 100 && replay.observations.scalars == buffer.subset(Array(0..<100)).observations.scalars)
        #expect(replay.timeouts.scalars.last == 1 && replay.attributes["quality"] == "medium-replay")
        let mixed = try collect("halfcheetah-velocity", "mixed", 2000)
        #expect(mixed.costs != nil && mixed.count == 2000)

        expectOneLineError(["dataset", "collect", "--env", "halfcheetah", "--quality", "mixed", "--behaviors", dir.path, "-o", tempPath("x.hdf5")], 1,
                           "known: random, medium, medium-replay, expert, medium-expert")
        expectOneLineError(["dataset", "collect", "--env", "hopper", "--quality", "expert", "--behaviors", dir.path, "-o", tempPath("x.hdf5")], 1,
                           "hopper-sac-expert.safetensors")
        expectOneLineError(["dataset", "collect", "--env", "pendulum", "--quality", "medium-replay", "-o", tempPath("x.hdf5")], 1,
                           "known: random, medium, expert, mixed")
    }

    @Test func badFlagsAreOneLineErrors() {
        expectOneLineError(["train", "online", "--env", "nope", "-o", tempPath("x.safetensors")], 1, "unknown environment 'nope'")
        expectOneLineError(["train", "online", "-o", tempPath("x.safetensors")], 2, "missing required option --env")
        expectOneLineError(["train", "online", "--env", "pendulum", "--learning-starts", "10", "-o", tempPath("x.safetensors")], 2,
                           "learning starts (10) before the buffer holds one batch (256)")
        expectOneLineError(["train", "online", "--env", "pendulum", "--steps", "0", "-o", tempPath("x.safetensors")], 2, "--steps must be in")
        expectOneLineError(["train", "online", "--env", "pendulum", "--curve", tempPath("c.jsonl"), "-o", tempPath("x.safetensors")], 2,
                           "--curve needs --eval-every")
        expectOneLineError(["train", "agent", "--algo", "sac", "--data", tempPath("d.hdf5"), "-o", tempPath("x.safetensors")], 2,
                           "--algo must be one of")
    }
}
