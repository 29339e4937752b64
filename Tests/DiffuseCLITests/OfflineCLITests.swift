import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing

@Suite("diffuse offline-RL commands", .serialized)
struct OfflineCLITests {
    @Test(arguments: [
        (["dataset", "collect", "--env", "cartpole", "-o", "/tmp/x.hdf5"], Int32(1), "unknown environment 'cartpole'"),
        (["dataset", "collect", "--env", "pendulum", "--quality", "great", "-o", "/tmp/x.hdf5"], 2, "--quality must be one of"),
        (["dataset", "collect", "--env", "pendulum", "--format", "csv", "-o", "/tmp/x.hdf5"], 2, "--format must be"),
        (["dataset", "collect", "--env", "pendulum", "--steps", "10", "-o", "/nonexistent/x.hdf5"], 1, "cannot write"),
        (["dataset", "info", "/nonexistent.hdf5"], 1, "no such file"),
        (["train", "agent", "--algo", "ppo", "--data", "x", "-o", "y"], 2, "--algo must be one of"),
        (["train", "agent", "--algo", "bc", "--data", "/nonexistent.hdf5", "-o", "/tmp/y.safetensors"], 1, "no such file"),
        (["eval", "--env", "pendulum", "--policy", "scripted:flying"], 1, "no behavior 'flying'"),
        (["eval", "--policy", "scripted:expert"], 2, "--env is required"),
        (["eval", "--env", "pendulum", "--policy", "/nonexistent.safetensors"], 1, "cannot read"),
        (["env", "references", "--env", "mujoco"], 1, "unknown environment"),
    ] as [([String], Int32, String)])
    func badInputGivesOneLineError(_ args: [String], _ status: Int32, _ message: String) {
        expectOneLineError(args, status, message)
    }

    @Test func envListShowsEveryEnvironment() throws {
        let r = runCLI(["env", "list", "--json"])
        #expect(r.status == 0)
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        let names = (obj["environments"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(names == Environments.names)
        #expect(runCLI(["env", "list"]).out.joined(separator: "\n").contains("reference returns"))
    }

    @Test func collectInspectTrainResumeEvaluate() throws {
        let data = tempPath("pend.hdf5"), agent = tempPath("agent.safetensors")
        var r = runCLI(["dataset", "collect", "--env", "pendulum", "--quality", "mixed", "--steps", "3000", "-o", data])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(["dataset", "info", data, "--json"])
        let info = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect(info["transitions"] as? Int == 3000 && info["episodes"] as? Int == 15)
        // NPZ export (collect --format, or convert) reads back the same.
        let npz = tempPath("pend.npz"), converted = tempPath("converted.npz")
        #expect(runCLI(["dataset", "collect", "--env", "pendulum", "--quality", "mixed", "--steps", "3000", "-o", npz]).status == 0)
        #expect(runCLI(["dataset", "convert", data, "-o", converted]).status == 0)
        let a = try OfflineDataset.load(URL(fileURLWithPath: data))
        for path in [npz, converted] {
            let b = try OfflineDataset.load(URL(fileURLWithPath: path))
            #expect(a.observations.scalars == b.observations.scalars && a.terminals.scalars == b.terminals.scalars && a.attributes["env"] == b.attributes["env"])
        }

        // Interrupted and resumed training equals the straight run.
        let straight = tempPath("straight.safetensors")
        let common = ["train", "agent", "--algo", "td3bc", "--data", data, "--steps", "40", "--batch-size", "64", "--checkpoint-every", "10", "--seed", "3"]
        #expect(runCLI(common + ["-o", straight]).status == 0)
        r = runCLI(common + ["-o", agent, "--stop-after", "20"])
        #expect(r.status == 0 && r.err.joined().contains("continue with --resume"))
        r = runCLI(common + ["-o", agent, "--resume", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let s1 = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), s2 = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: agent))
        #expect(try s1.tensors["actor.layers.0.weight"]!.tensor(name: "a").scalars == s2.tensors["actor.layers.0.weight"]!.tensor(name: "b").scalars)

        r = runCLI(["eval", "--policy", agent, "--episodes", "4", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let result = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect(result["environment"] as? String == "pendulum" && (result["returns"] as? [Double])?.count == 4)
        r = runCLI(["eval", "--env", "safe-circle", "--policy", agent])
        #expect(r.status == 1 && r.err.joined().contains("trained for 3-d observations"))

        // Loaders are chosen by what a checkpoint is: an agent cannot be sampled, a toy model cannot act.
        r = runCLI(["sample", "--model", agent, "-n", "4"])
        #expect(r.status == 1 && (r.err.last ?? "").contains("model AgentNetworks; sampling (diffuse sample) cannot use it"), "\(r.err)")
        let toy = tempPath("toy.safetensors")
        #expect(runCLI(["train", "toy", "--steps", "5", "-o", toy]).status == 0)
        #expect(runCLI(["sample", "--model", toy, "-n", "8", "--sampler", "ddim", "--steps", "5"]).status == 0)
        r = runCLI(["eval", "--env", "pendulum", "--policy", toy])
        #expect(r.status == 1 && (r.err.last ?? "").contains("model MLPDenoiser; evaluation (diffuse eval) cannot use it"), "\(r.err)")
    }

    @Test func scriptedEvaluationOnASafeTask() throws {
        let r = runCLI(["eval", "--env", "safe-circle", "--policy", "scripted:fast-unsafe", "--episodes", "5"])
        #expect(r.status == 0)
        let text = r.out.joined(separator: "\n")
        #expect(text.contains("violation rate 100%") && text.contains("normalized score"))
    }
}
