import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing
import TestSupport

@Suite("diffuse PGD commands", .serialized)
struct PGDCLITests {
    /// `train trajectory` without --network trains the transition generator (window MLP, H = 2, stride 1,
    /// batch 256; docs/pgd.md §2.1); `pgd generate` then samples its one length by default and refuses
    /// another in one line.
    @Test func theTransitionGeneratorIsTheDefault() throws {
        let data = tempPath("pend-default.hdf5"), model = tempPath("traj-default.safetensors")
        #expect(runCLI(["dataset", "collect", "--env", "pendulum", "--steps", "2000", "--seed", "5", "-o", data]).status == 0)
        var r = runCLI(["train", "trajectory", "--data", data, "--steps", "4", "--dim", "16", "--blocks", "1", "-o", model])
        #expect(r.status == 0, "\(r.err)")
        let (trained, metadata, _) = try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: model))
        guard case let .windowMLP(c) = trained.config.network else { Issue.record("default network is \(trained.config.network)"); return }
        #expect(c.horizon == 2 && c.width == 16 && c.blocks == 1 && trained.layout.horizon == 2)
        let settings = try JSONDecoder().decode(TrajectoryTrainingSettings.self, from: Data((metadata["trajectory_training"] ?? "").utf8))
        #expect(settings == { var s = TrajectoryTrainingSettings.transitions; s.steps = 4; s.seed = settings.seed; return s }())
        #expect(settings.emaDecay == 0.99 && settings.batchSize == 256, "the fidelity sweep's defaults (docs/fidelity-results.md)")
        let synthetic = tempPath("syn-default.hdf5")
        r = runCLI(["pgd", "generate", "--model", model, "-n", "40", "--steps", "4", "-o", synthetic])
        #expect(r.status == 0, "\(r.err)")
        #expect(try OfflineDataset.load(URL(fileURLWithPath: synthetic)).count == 40)
        expectOneLineError(["pgd", "generate", "--model", model, "-n", "40", "--length", "16", "-o", synthetic], 2, "differs from the 2 rows")
    }

    /// Synthetic hopper transitions end where the robot falls (docs/pgd.md §6): with `--terminals rule` (the
    /// default) `pgd generate` adds exactly the terminals `TerminationRule.label` adds to the model's own done
    /// channel, which is all `--terminals model` keeps.
    @Test func syntheticHopperRowsEndWhereTheRobotFalls() throws {
        let data = tempPath("hopper-random.hdf5"), model = tempPath("traj-hopper.safetensors")
        #expect(runCLI(["dataset", "collect", "--env", "hopper", "--quality", "random", "--steps", "2000", "--seed", "5", "-o", data]).status == 0)
        var r = runCLI(["train", "trajectory", "--data", data, "--steps", "4", "--dim", "16", "--blocks", "1", "-o", model])
        #expect(r.status == 0, "\(r.err)")
        let byRule = tempPath("syn-rule.hdf5"), byModel = tempPath("syn-model.hdf5")
        r = runCLI(["pgd", "generate", "--model", model, "-n", "400", "--steps", "4", "-o", byRule])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(["pgd", "generate", "--model", model, "-n", "400", "--steps", "4", "--terminals", "model", "-o", byModel])
        #expect(r.status == 0, "\(r.err)")
        let ruled = try OfflineDataset.load(URL(fileURLWithPath: byRule)), plain = try OfflineDataset.load(URL(fileURLWithPath: byModel))
        let rule = try #require(TerminationRule.of(environment: "hopper"))
        #expect(ruled.attributes["terminals"] == "rule" && plain.attributes["terminals"] == "model")
        #expect(ruled.terminals.sum().item > plain.terminals.sum().item && ruled.terminals.scalars == rule.label(plain).terminals.scalars)
        #expect(ruled.nextObservations.scalars == plain.nextObservations.scalars)
    }

    /// The knob flags of the fidelity sweep reach the model and its settings: the EMA decay, EDM's σ_data
    /// and training noise distribution (stored in the checkpoint's objective, so sampling uses them too);
    /// the EDM-only ones are refused with the discrete objective, out-of-range values in one line.
    @Test func edmAndEMAKnobsReachTheCheckpoint() throws {
        let data = tempPath("pend-knobs.hdf5"), model = tempPath("traj-knobs.safetensors")
        #expect(runCLI(["dataset", "collect", "--env", "pendulum", "--steps", "2000", "--seed", "5", "-o", data]).status == 0)
        let train = ["train", "trajectory", "--data", data, "--steps", "3", "--dim", "16", "--blocks", "1", "-o", model]
        let r = runCLI(train + ["--ema-decay", "0.9", "--sigma-data", "0.5", "--noise-mean", "-0.6", "--noise-std", "0.8"])
        #expect(r.status == 0, "\(r.err)")
        let (trained, metadata, _) = try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: model))
        guard case let .edm(edm) = trained.config.objective else { Issue.record("objective is \(trained.config.objective)"); return }
        #expect(edm == EDM(sigmaData: 0.5, pMean: -0.6, pStd: 0.8))
        let settings = try JSONDecoder().decode(TrajectoryTrainingSettings.self, from: Data((metadata["trajectory_training"] ?? "").utf8))
        #expect(settings.emaDecay == 0.9)
        expectOneLineError(train + ["--objective", "ddpm", "--noise-std", "0.8"], 2, "--noise-std applies to --objective edm")
        expectOneLineError(train + ["--ema-decay", "1.5"], 2, "--ema-decay must be in")
        expectOneLineError(train + ["--sigma-data", "0"], 2, "--sigma-data must be in")
    }

    /// Dataset → trajectory model → guided generation (HDF5 with D4RL keys and provenance) →
    /// evaluation → agent on synthetic data, stopped and resumed (equal to a straight run).
    @Test func trainGenerateEvaluateAndTrainAnAgent() throws {
        let data = tempPath("pend.hdf5"), model = tempPath("traj.safetensors"), agent = tempPath("agent.safetensors")
        #expect(runCLI(["dataset", "collect", "--env", "pendulum", "--steps", "3000", "--seed", "2", "-o", data]).status == 0)
        var r = runCLI(["train", "trajectory", "--network", "temporal-unet", "--data", data, "--steps", "30", "--horizon", "8", "--dim", "8", "--batch-size", "8", "--json", "-o", model])
        #expect(r.status == 0, "\(r.err)")
        #expect(runCLI(["train", "agent", "--algo", "td3bc", "--data", data, "--steps", "20", "--batch-size", "32", "-o", agent]).status == 0)
        // train trajectory stopped and resumed ends bit-identical to the straight run.
        let sliced = tempPath("traj-sliced.safetensors")
        let trajectory = ["train", "trajectory", "--network", "temporal-unet", "--data", data, "--steps", "30", "--horizon", "8", "--dim", "8", "--batch-size", "8", "--checkpoint-every", "10"]
        #expect(runCLI(trajectory + ["-o", sliced, "--stop-after", "20"]).status == 0)
        r = runCLI(trajectory + ["-o", sliced, "--resume"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: sliced)).tensors == SafeTensorsFile(contentsOf: URL(fileURLWithPath: model)).tensors)

        let synthetic = tempPath("syn.hdf5")
        r = runCLI(["pgd", "generate", "--model", model, "--policy", agent, "--guidance", "2", "-n", "100", "--length", "16", "--steps", "8",
                    "--seed", "3", "--json", "-o", synthetic])
        #expect(r.status == 0, "\(r.err)")
        let d = try OfflineDataset.load(URL(fileURLWithPath: synthetic))
        #expect(d.count == 100 && d.attributes["env"] == "pendulum" && d.attributes["guidance"] == "2.0" && d.attributes["seed"] == "3")
        #expect(d.attributes["policy"] == agent && d.attributes["command"]?.contains("pgd generate") == true)
        if PythonCheck.available("h5py", "numpy") {  // h5py reads the generated file with D4RL keys
            let (status, out) = try PythonCheck.run(devScript: "check_offline_files.py", [synthetic, "100", "3", "1"])
            #expect(status == 0, "\(out)")
        }
        r = runCLI(["pgd", "evaluate", "--data", synthetic, "--real", data, "--policy", agent, "--json"])
        #expect(r.status == 0, "\(r.err)")
        let m = try JSONDecoder().decode(SyntheticDataMetrics.self, from: Data(r.out.joined().utf8))
        #expect(m.transitions == 100 && m.dynamicsError.isFinite && m.meanLogLikelihood != nil)
        #expect(m.units == "real data \(data)" && m.relativeDynamicsError != nil && m.roughnessObservations != nil && m.observationW1?.count == 3)
        // Without --real the units are still the real data's: the model's training set (its
        // checkpoint names it), and with the model gone, the σ pgd generate recorded in the file.
        r = runCLI(["pgd", "evaluate", "--data", synthetic, "--threads", "1", "--seed", "0", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let byModel = try JSONDecoder().decode(SyntheticDataMetrics.self, from: Data(r.out.joined().utf8))
        #expect(byModel.units?.hasPrefix("real data \(data)") == true && byModel.dynamicsError == m.dynamicsError
                && byModel.relativeDynamicsError == m.relativeDynamicsError && byModel.observationW1 == m.observationW1)
        var moved = d
        moved.attributes["model"] = "/nonexistent.safetensors"
        let recorded = tempPath("syn-recorded.hdf5")
        try moved.save(to: URL(fileURLWithPath: recorded))
        r = runCLI(["pgd", "evaluate", "--data", recorded, "--json"])
        #expect(r.status == 0, "\(r.err)")
        let byFile = try JSONDecoder().decode(SyntheticDataMetrics.self, from: Data(r.out.joined().utf8))
        let (trajectoryModel, _, _) = try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: model))
        let expected = try SyntheticDataMetrics(d, environment: Environments.make("pendulum"),
                                                reference: FidelityReference(observationStd: FidelityReference.observationStd(of: trajectoryModel.layout), source: ""))
        #expect(byFile.units?.contains("recorded") == true && abs(byFile.dynamicsError - expected.dynamicsError) <= 1e-9 * expected.dynamicsError)
        #expect(byFile.relativeDynamicsError == nil)
        r = runCLI(["pgd", "evaluate", "--data", recorded])
        #expect(r.status == 0 && r.out.joined().contains("σ units of the real-data σ recorded in"), "\(r.out)")
        moved.attributes["observation_std"] = nil
        try moved.save(to: URL(fileURLWithPath: recorded))
        expectOneLineError(["pgd", "evaluate", "--data", recorded], 2, "records no real-data statistics")

        let straight = tempPath("straight.safetensors"), resumed = tempPath("resumed.safetensors")
        let common = ["pgd", "train-agent", "--data", data, "--model", model, "--steps", "24", "--pool", "300", "--regenerate-every", "8",
                      "--sample-steps", "4", "--checkpoint-every", "8", "--eval-episodes", "1"]
        #expect(runCLI(common + ["-o", straight]).status == 0)
        #expect(runCLI(common + ["-o", resumed, "--stop-after", "16"]).status == 0)
        r = runCLI(common + ["-o", resumed, "--resume"])
        #expect(r.status == 0, "\(r.err)")
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed))
        #expect(a.tensors.keys.contains("pool.observations") && a.tensors == b.tensors)
    }

    @Test(arguments: [
        (["train", "trajectory", "--data", "/nonexistent.hdf5", "-o", "/tmp/x.safetensors"], 1, "no such file"),
        (["train", "trajectory", "--network", "temporal-unet", "--data", "x.hdf5", "--horizon", "30", "-o", "/tmp/x.safetensors"], 2, "multiple of 4"),
        (["pgd", "generate", "--model", "/nonexistent.safetensors", "-o", "/tmp/x.hdf5"], 1, "cannot read"),
        (["pgd", "train-agent", "--data", "x.hdf5", "--model", "m", "--algo", "bc", "-o", "/tmp/x.safetensors"], 2, "--algo must be one of td3bc | iql | diffusion-bc | idql | dql"),
        (["pgd", "evaluate", "--data", "/nonexistent.hdf5"], 1, "no such file"),
        (["pgd", "generate", "--model", "m", "--terminals", "always", "-o", "/tmp/x.hdf5"], 2, "--terminals must be one of rule | model"),
        (["pgd", "train-agent", "--data", "x.hdf5", "--model", "m", "--terminals", "env", "-o", "/tmp/x.safetensors"], 2, "--terminals must be one of rule | model"),
        (["pgd", "evaluate", "--data", "x.hdf5", "--oob-tolerance", "-1"], 2, "--oob-tolerance must be in"),
        (["pgd", "train-agent", "--data", "x.hdf5", "--model", "m", "--world-model", "w", "-o", "/tmp/x.safetensors"], 2, "exactly one of --model"),
    ] as [([String], Int32, String)])
    func badInputGivesOneLineError(_ args: [String], _ status: Int32, _ message: String) {
        expectOneLineError(args, status, message)
    }
}
