import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing
import TestSupport

/// The vendored digits (data/digits.csv).
let digitsCSV = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/digits.csv").standardized.path

@Suite("diffuse seppo commands", .serialized)
struct SePPOCLITests {
    /// Scorer → base model → SePPO alignment (stopped and resumed: equal to a straight run, bank
    /// included) → scoring → a labelled PNG grid from `diffuse sample`.
    @Test func trainAlignScoreAndSample() throws {
        let scorer = tempPath("scorer.safetensors"), base = tempPath("base.safetensors")
        var r = runCLI(["seppo", "train-scorer", "--data", digitsCSV, "--steps", "50", "-o", scorer, "--json"])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(["seppo", "train-base", "--data", digitsCSV, "--steps", "6", "--width", "8", "--batch-size", "16", "-o", base])
        #expect(r.status == 0, "\(r.err)")
        let straight = tempPath("straight.safetensors"), resumed = tempPath("resumed.safetensors")
        let common = ["seppo", "align", "--base", base, "--preferred", digitsCSV, "--ref", "random", "--flip", "sign", "--steps", "6",
                      "--bank-every", "2", "--batch-size", "4", "--sampling-steps", "2", "--checkpoint-every", "2"]
        r = runCLI(common + ["-o", straight, "--json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.joined().contains("\"bank\":4"))
        #expect(runCLI(common + ["-o", resumed, "--stop-after", "4"]).status == 0)
        // The first 4 of 6 updates are a 4-update run (constant learning rate, bank every 2): what lets
        // experiments/seppo.sh score a sweep's update counts as snapshots of one run.
        let short = tempPath("short.safetensors")
        var shortArgs = common
        shortArgs[shortArgs.firstIndex(of: "--steps")! + 1] = "4"
        #expect(runCLI(shortArgs + ["-o", short]).status == 0)
        let stopped = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed)), four = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: short))
        #expect(stopped.tensors.keys.contains("bank.2.stem.weight") && stopped.tensors == four.tensors)
        r = runCLI(common + ["-o", resumed, "--resume"])
        #expect(r.status == 0, "\(r.err)")
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed))
        #expect(a.tensors.keys.contains("bank.3.stem.weight") && a.tensors == b.tensors)

        r = runCLI(["seppo", "score", "--model", straight, "--scorer", scorer, "--data", digitsCSV, "--per-class", "2", "--steps", "2", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let report = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect((report["scores"] as? [Double])?.count == 20 && (report["frechet"] as? Double)?.isFinite == true)

        let png = tempPath("grid.png")
        r = runCLI(["sample", "--model", straight, "-n", "20", "--sampler", "ddim", "--steps", "2", "--png", png])
        #expect(r.status == 0, "\(r.err)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(Array(bytes.prefix(8)) == PNG.signature)
    }

    /// A sweep's validation judge (issue #29) learns from the evaluation split, not the test judge's: same
    /// seed and steps give different weights, the split is recorded, and the generator split is refused.
    @Test func validationJudgeTrainsOnItsOwnSplit() throws {
        let test = tempPath("test-judge.safetensors"), validation = tempPath("validation-judge.safetensors")
        var r = runCLI(["seppo", "train-scorer", "--data", digitsCSV, "--steps", "20", "-o", test])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(["seppo", "train-scorer", "--data", digitsCSV, "--steps", "20", "--split", "evaluation", "-o", validation, "--json"])
        #expect(r.status == 0, "\(r.err)")
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: test)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: validation))
        #expect(a.metadata["split"] == "scorer" && b.metadata["split"] == "evaluation")
        #expect(a.tensors.keys == b.tensors.keys && a.tensors != b.tensors)
        r = runCLI(["seppo", "train-scorer", "--data", digitsCSV, "--steps", "2", "--split", "generator", "-o", tempPath("no.safetensors")])
        #expect(r.status != 0 && r.err.count == 1 && r.err[0].contains("--split"), "\(r.err)")
    }

    /// The trajectory setup end to end: a window model on pointmaze data, aligned toward the best
    /// windows by path score (resumable, with the exact score's diagnostics), then scored.
    @Test func alignAndScoreATrajectoryModel() throws {
        let data = tempPath("umaze.hdf5"), base = tempPath("traj.safetensors")
        #expect(runCLI(["dataset", "collect", "--env", "pointmaze-umaze", "--steps", "1500", "--seed", "4", "-o", data]).status == 0)
        var r = runCLI(["train", "trajectory", "--network", "temporal-unet", "--data", data, "--steps", "2", "--horizon", "8", "--dim", "8", "-o", base])
        #expect(r.status == 0, "\(r.err)")
        let straight = tempPath("straight.safetensors"), resumed = tempPath("resumed.safetensors")
        let common = ["seppo", "align", "--base", base, "--preferred", data, "--top", "0.3", "--steps", "4", "--bank-every", "2", "--batch-size", "4",
                      "--sampling-steps", "2", "--checkpoint-every", "2", "--scorer", "exact", "--eval-every", "2"]
        r = runCLI(common + ["-o", straight, "--json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains { $0.contains("preferred windows of") }, "\(r.err)")
        let aligned = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect(aligned["bank"] as? Int == 3 && (aligned["curve"] as? [[Double]])?.count == 3)
        #expect(runCLI(common + ["-o", resumed, "--stop-after", "2"]).status == 0)
        #expect(runCLI(common + ["-o", resumed, "--resume"]).status == 0)
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed))
        #expect(a.tensors.keys.contains { $0.hasPrefix("bank.2.") } && a.tensors == b.tensors)

        r = runCLI(["seppo", "score", "--model", straight, "-n", "6", "--steps", "2", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let report = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect((report["scores"] as? [Double])?.count == 6 && report["env"] as? String == "pointmaze-umaze")
        #expect(((report["valid_fraction"] as? Double) ?? -1) >= 0 && ((report["mean_roughness"] as? Double) ?? -1) >= 0)

        expectOneLineError(["seppo", "align", "--base", base, "-o", tempPath("x.safetensors")], 2, "needs --preferred DATASET")
        expectOneLineError(["seppo", "align", "--base", base, "--preferred", data, "--scorer", "s.safetensors", "-o", tempPath("x.safetensors")], 2,
                           "is 'exact'")
        expectOneLineError(["seppo", "align", "--base", base, "--preferred", data, "--top", "0.9", "-o", tempPath("x.safetensors")], 2, "--top must be")
        expectOneLineError(["seppo", "score", "--model", base, "--env", "pendulum"], 2, "pendulum is neither")
        expectOneLineError(["seppo", "score", "--model", base, "--env", "hopper"], 2, "hopper has 11 and 3")
        expectOneLineError(["seppo", "score", "--model", base, "--smoothness", "-1"], 2, "--smoothness must be")
        // w = 0 leaves the mean reward alone: the score of the same samples moves by w × roughness.
        let rough = try JSONSerialization.jsonObject(with: Data(runCLI(["seppo", "score", "--model", straight, "-n", "6", "--steps", "2", "--smoothness", "0", "--json"]).out.joined().utf8)) as! [String: Any]
        #expect(abs((rough["mean_score"] as! Double) - (report["mean_reward"] as! Double)) < 1e-12)
    }

    @Test(arguments: [
        (["seppo", "align", "--base", "/nonexistent.safetensors", "-o", "/tmp/x.safetensors"], 1, "does not exist"),
        (["seppo", "align", "--base", "b", "--method", "ppo", "-o", "/tmp/x.safetensors"], 2, "--method must be one of seppo | dpo | sft | spin"),
        (["seppo", "align", "--base", "b", "--method", "dpo", "--ref", "random", "-o", "/tmp/x.safetensors"], 2, "--ref applies to --method seppo"),
        (["seppo", "align", "--base", "b", "--flip", "maybe", "-o", "/tmp/x.safetensors"], 2, "--flip must be one of off | sign | indicator"),
        (["seppo", "train-base", "--data", "/nonexistent.csv", "-o", "/tmp/x.safetensors"], 1, "cannot read digits file"),
        (["seppo", "score", "--model", "/nonexistent.safetensors", "--scorer", "s"], 1, "does not exist"),
    ] as [([String], Int32, String)])
    func badInputGivesOneLineError(_ args: [String], _ status: Int32, _ message: String) {
        expectOneLineError(args, status, message)
    }
}
