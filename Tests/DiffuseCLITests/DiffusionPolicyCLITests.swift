import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing

@Suite("diffuse train agent: diffusion policies", .serialized)
struct DiffusionPolicyCLITests {
    /// A small mixed pendulum dataset, collected once per test.
    func pendulumData() -> String {
        let data = tempPath("dpol-pend.hdf5")
        let r = runCLI(["dataset", "collect", "--env", "pendulum", "--quality", "mixed", "--steps", "1000", "-o", data])
        #expect(r.status == 0, "\(r.err)")
        return data
    }

    /// Interrupted (--stop-after) and resumed training equals the straight run in every tensor, and
    /// `eval agent` loads the checkpoint and its export.
    @Test(arguments: ["diffusion-bc", "idql", "dql"])
    func resumeIsBitIdentical(_ algo: String) throws {
        let data = pendulumData()
        let straight = tempPath("dpol-straight-\(algo).safetensors"), resumed = tempPath("dpol-resumed-\(algo).safetensors")
        let common = ["train", "agent", "--algo", algo, "--data", data, "--steps", "6", "--batch-size", "32", "--checkpoint-every", "3",
                      "--seed", "5", "--eval-episodes", "1", "--candidates", "4"]
        var r = runCLI(common + ["-o", straight])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(common + ["-o", resumed, "--stop-after", "3"])
        #expect(r.status == 0 && r.err.joined().contains("continue with --resume"), "\(r.err)")
        r = runCLI(common + ["-o", resumed, "--resume"])
        #expect(r.status == 0, "\(r.err)")
        let s1 = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), s2 = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed))
        #expect(Set(s1.tensors.keys) == Set(s2.tensors.keys))
        #expect(s1.tensors.keys.contains("actorEMA.output.weight"))
        for key in s1.tensors.keys {
            #expect(try s1.tensors[key]!.tensor(name: key).scalars == s2.tensors[key]!.tensor(name: key).scalars, "\(key) differs after resume")
        }
        r = runCLI(["eval", "agent", "--policy", resumed, "--episodes", "1", "--json"])
        #expect(r.status == 0, "\(r.err)")
        // `checkpoint export` keeps what evaluation reads.
        let exported = tempPath("dpol-exported-\(algo).safetensors")
        r = runCLI(["checkpoint", "export", resumed, "-o", exported])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(["eval", "agent", "--policy", exported, "--episodes", "1", "--json"])
        #expect(r.status == 0, "\(r.err)")
    }

    /// A dataset without rewards: diffusion-bc trains, idql and dql stop with one line.
    @Test func missingRewards() throws {
        let data = pendulumData()
        var archive = try ArrayArchive.read(URL(fileURLWithPath: data))
        archive.arrays["rewards"] = nil
        let bare = tempPath("dpol-norewards.npz")
        try archive.write(to: URL(fileURLWithPath: bare), format: .npz)
        let out = tempPath("dpol-bc.safetensors")
        let r = runCLI(["train", "agent", "--algo", "diffusion-bc", "--data", bare, "--steps", "2", "--batch-size", "32", "--eval-episodes", "1", "-o", out])
        #expect(r.status == 0, "\(r.err)")
        for algo in ["idql", "dql"] {
            expectOneLineError(["train", "agent", "--algo", algo, "--data", bare, "--steps", "2", "-o", out], 1, "has no rewards")
        }
        expectOneLineError(["train", "agent", "--algo", "bc", "--data", data, "--candidates", "4", "-o", out], 2, "applies to diffusion-bc")
    }

    /// `pgd train-agent` trains a diffusion policy on synthetic pools: unguided trajectory-model pools
    /// (stopped and resumed = straight, pool included) and world-model rollouts under its sampled
    /// actions; guidance toward it is refused in one line (it has no log-likelihood).
    @Test func trainsOnSyntheticData() throws {
        let data = pendulumData()
        let model = tempPath("dpol-traj.safetensors"), worldModel = tempPath("dpol-wm.safetensors")
        var r = runCLI(["train", "trajectory", "--network", "temporal-unet", "--data", data, "--steps", "2", "--horizon", "8", "--dim", "8", "--batch-size", "8", "-o", model])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(["train", "world-model", "--data", data, "--ensemble", "2", "--steps", "4", "--batch-size", "32", "-o", worldModel])
        #expect(r.status == 0, "\(r.err)")
        let straight = tempPath("dpol-pgd-straight.safetensors"), resumed = tempPath("dpol-pgd-resumed.safetensors")
        let common = ["pgd", "train-agent", "--algo", "idql", "--data", data, "--model", model, "--guidance", "0", "--steps", "6", "--pool", "300",
                      "--regenerate-every", "3", "--sample-steps", "2", "--checkpoint-every", "3", "--eval-episodes", "1"]
        r = runCLI(common + ["-o", straight])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(common + ["-o", resumed, "--stop-after", "3"])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(common + ["-o", resumed, "--resume"])
        #expect(r.status == 0, "\(r.err)")
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed))
        #expect(a.tensors.keys.contains("pool.observations") && a.tensors.keys.contains("actorEMA.output.weight") && a.tensors == b.tensors)
        r = runCLI(["eval", "agent", "--policy", straight, "--episodes", "1", "--json"])
        #expect(r.status == 0, "\(r.err)")

        let baseline = tempPath("dpol-wm-agent.safetensors")
        r = runCLI(["pgd", "train-agent", "--algo", "dql", "--data", data, "--world-model", worldModel, "--horizon", "20", "--steps", "4",
                    "--pool", "300", "--regenerate-every", "2", "--eval-episodes", "1", "--json", "-o", baseline])
        #expect(r.status == 0, "\(r.err)")
        let pool = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: baseline))
        // The second pool is rollouts under the DQL actor: 300 rows, one timeout per 20-step rollout.
        #expect(pool.tensors["pool.rewards"]?.shape == [300] && pool.metadata["world_model"] == worldModel)
        #expect(try pool.tensors["pool.timeouts"]!.tensor(name: "pool.timeouts").scalars.reduce(0, +) == 15)

        expectOneLineError(["pgd", "train-agent", "--algo", "dql", "--data", data, "--model", model, "--steps", "2", "-o", tempPath("dpol-x.safetensors")],
                           1, "needs an actor with a log-likelihood")
    }
}
