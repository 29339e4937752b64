import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing

@Suite("diffuse world-model commands", .serialized)
struct WorldModelCLITests {
    @Test(arguments: [
        (["train", "world-model", "--data", "/nonexistent.hdf5", "-o", "/tmp/wm.safetensors"], Int32(1), "no such file"),
        (["train", "world-model", "--data", "x.hdf5", "-o", "/tmp/wm.safetensors", "--ensemble", "0"], 2, "--ensemble must be in"),
        (["world-model", "rollout", "--model", "/nonexistent.safetensors", "--data", "x", "--policy", "y", "-o", "/tmp/s.hdf5"], 1, "cannot read"),
        (["world-model", "rollout", "--model", "m", "--data", "x", "--policy", "y", "-o", "/tmp/s.hdf5", "--horizon", "0"], 2, "--horizon must be in"),
        (["world-model", "rollout", "--model", "m", "--data", "x", "-o", "/tmp/s.hdf5"], 2, "missing required option --policy"),
    ] as [([String], Int32, String)])
    func badInputGivesOneLineError(_ args: [String], _ status: Int32, _ message: String) {
        let r = runCLI(args)
        #expect(r.status == status, "\(args): exit \(r.status)")
        #expect(r.err.filter { $0.contains("error") }.count == 1 && (r.err.last ?? "").contains(message), "\(args): \(r.err)")
    }

    @Test func helpOfWorldModelCommands() {
        for words in [["train", "world-model"], ["world-model", "rollout"]] {
            let h = runCLI(words + ["--help"])
            #expect(h.status == 0 && h.out.joined().contains("USAGE: diffuse \(words.joined(separator: " "))"))
        }
        let r = runCLI(["world-model"])
        #expect(r.status == 2 && (r.err.last ?? "").contains("needs a subcommand: rollout"))
    }

    /// collect → train agent → train world-model (stopped and resumed = straight) → rollout →
    /// dataset info; an agent checkpoint is not a world model.
    @Test func trainRolloutInspectWorldModel() throws {
        let data = tempPath("pend.hdf5"), agent = tempPath("agent.safetensors"), model = tempPath("wm.safetensors")
        let straight = tempPath("wm-straight.safetensors"), synthetic = tempPath("synthetic.hdf5")
        #expect(runCLI(["dataset", "collect", "--env", "pendulum", "--quality", "mixed", "--steps", "2000", "-o", data]).status == 0)
        #expect(runCLI(["train", "agent", "--algo", "td3bc", "--data", data, "--steps", "20", "--batch-size", "64", "-o", agent]).status == 0)

        let common = ["train", "world-model", "--data", data, "--ensemble", "2", "--steps", "30", "--batch-size", "64", "--checkpoint-every", "10", "--seed", "4"]
        var r = runCLI(common + ["-o", straight, "--json"])
        #expect(r.status == 0, "\(r.err)")
        let trained = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect((trained["validation_mse"] as? [Double])?.count == 2 && trained["one_step_error"] is Double && trained["identity_error"] is Double)
        r = runCLI(common + ["-o", model, "--stop-after", "20"])
        #expect(r.status == 0 && r.err.joined().contains("continue with --resume"))
        r = runCLI(common + ["-o", model, "--resume"])
        #expect(r.status == 0 && r.out.joined().contains("validation one-step error"), "\(r.err)")
        let s1 = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), s2 = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: model))
        for name in ["members.0.layers.0.weight", "members.1.layers.4.bias", "maxLogVariance"] {
            #expect(try s1.tensors[name]!.tensor(name: name).scalars == s2.tensors[name]!.tensor(name: name).scalars, "\(name)")
        }

        r = runCLI(["world-model", "rollout", "--model", model, "--data", data, "--policy", agent, "-n", "450", "--horizon", "100",
                    "-o", synthetic, "--seed", "2", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let rollout = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect(rollout["transitions"] as? Int == 450 && rollout["rollouts"] as? Int == 5 && rollout["out_of_bounds_fraction"] is Double)
        r = runCLI(["dataset", "info", synthetic, "--json"])
        let info = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect(info["transitions"] as? Int == 450 && info["episodes"] as? Int == 5 && info["timeouts"] as? Int == 5 && info["terminals"] as? Int == 0)
        let attributes = info["attributes"] as? [String: String] ?? [:]
        #expect(attributes["generator"] == "world-model" && attributes["env"] == "pendulum" && attributes["horizon"] == "100"
                && attributes["model"] == model && attributes["policy"] == agent && attributes["seed"] == "2"
                && attributes["command"]?.hasPrefix("diffuse") == true, "\(attributes)")

        // The world-model baseline of pgd train-agent: the first pool is the real data, the second
        // (after 8 steps) rollouts under the current actor; the checkpoint carries the latter.
        let baseline = tempPath("wm-agent.safetensors")
        r = runCLI(["pgd", "train-agent", "--data", data, "--world-model", model, "--horizon", "50", "--steps", "12", "--pool", "300",
                    "--regenerate-every", "8", "--eval-episodes", "1", "--json", "-o", baseline])
        #expect(r.status == 0, "\(r.err)")
        let trainedAgent = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect(trainedAgent["generator"] as? String == "world-model" && trainedAgent["normalized_score"] is Double)
        let pool = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: baseline))
        #expect(pool.tensors["pool.rewards"]?.shape == [300] && pool.metadata["world_model"] == model)

        r = runCLI(["world-model", "rollout", "--model", agent, "--data", data, "--policy", agent, "-o", synthetic])
        #expect(r.status == 1 && (r.err.last ?? "").contains("holds a AgentNetworks, not a WorldModel"), "\(r.err)")
    }
}
