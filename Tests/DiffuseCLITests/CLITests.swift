@testable import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing

/// Runs the CLI in-process, capturing stdout and stderr lines.
func runCLI(_ args: [String]) -> (status: Int32, out: [String], err: [String]) {
    var out: [String] = [], err: [String] = []
    let status = Diffuse.main(args, console: Console(out: { out.append($0) }, err: { err.append($0) }, errRedraw: nil))
    return (status, out, err)
}

/// Runs the built `diffuse` executable (or `executable`, e.g. mpirun) as a child process, with extra
/// environment variables; returns its exit status and stderr.
func runProcess(_ args: [String], executable: URL = KillSafetyTests.diffuse, environment: [String: String] = [:]) throws -> (status: Int32, err: String) {
    let p = Process(), err = Pipe()
    p.executableURL = executable
    p.arguments = args
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    p.standardOutput = FileHandle.nullDevice
    p.standardError = err
    try p.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
}

/// A bad invocation fails with `status` and exactly one error line, the last, containing `message`.
func expectOneLineError(_ args: [String], _ status: Int32, _ message: String) {
    let r = runCLI(args)
    #expect(r.out.isEmpty, "\(args): \(r.out)")
    #expect(r.status == status, "\(args): exit \(r.status)")
    // Progress lines may come first; the error is one line, the last.
    #expect(r.err.filter { $0.contains("error") }.count == 1 && (r.err.last ?? "").contains(message), "\(args): \(r.err)")
}

func tempPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("pd-cli-\(UUID().uuidString)-\(name)").path
}

@Suite("diffuse CLI")
struct CLITests {
    @Test func helpListsCommandsAndEachCommandHasHelp() {
        let r = runCLI(["--help"])
        #expect(r.status == 0 && r.out.joined().contains("train regression"))
        for words in [["train", "regression"], ["eval", "regression"], ["checkpoint", "info"], ["bench", "core"], ["bench", "conv"],
                      ["env", "list"], ["env", "references"], ["dataset", "collect"], ["dataset", "info"], ["dataset", "convert"],
                      ["train", "agent"], ["eval"]] {
            let h = runCLI(words + ["--help"])
            #expect(h.status == 0 && h.out.joined().contains("USAGE: diffuse \(words.joined(separator: " "))"))
        }
    }

    /// Bad input: one line on stderr and a non-zero exit, never a crash.
    @Test(arguments: [
        (["frobnicate"], Int32(2), "unknown command"),
        (["trian", "agent"], 2, "unknown command 'trian agent' (did you mean train agent?)"),
        (["train"], 2, "needs a subcommand"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--stpes", "3"], 2, "unknown option --stpes"),
        (["train", "regression"], 2, "missing required option --output"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--steps", "ten"], 2, "expects an integer"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--steps", "0"], 2, "must be in"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--lr", "nan"], 2, "finite number"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--threads"], 2, "needs a value"),
        (["train", "regression", "-o", "/nonexistent/dir/x.safetensors", "--steps", "2", "--checkpoint-every", "1"], 1, "cannot write"),
        (["train", "regression", "-o", "/nonexistent/x.safetensors", "--resume", "--steps", "2", "--checkpoint-every", "1"], 1, "cannot write"),
        (["eval", "regression", "--model", "/nonexistent.safetensors"], 1, "cannot read"),
        (["checkpoint", "info"], 2, "missing <file>"),
        (["checkpoint", "info", "a", "b"], 2, "unexpected argument"),
        (["bench", "core", "--repeats", "-3"], 2, "must be in"),
        (["schedule", "--kind", "quadratic"], 2, "unknown --kind"),
        (["schedule", "--steps", "0"], 2, "must be in"),
        (["train", "toy", "--dist", "spiral", "-o", "/tmp/x.safetensors"], 2, "--dist must be one of eight-gaussians | two-moons | checkerboard"),
        (["train", "toy", "--objective", "flow", "-o", "/tmp/x.safetensors"], 2, "--objective must be one of ddpm | edm, got 'flow'"),
        // Strict parsing (docs/architecture.md, Command-line tool): a forgotten value, a repeated
        // option, a value out of its documented range, typos answered by the closest name.
        (["train", "regression", "-o", "--steps", "3"], 2, "-o needs a value <FILE>, got the option --steps"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--steps", "3", "--steps", "4"], 2, "--steps is given more than once"),
        (["train", "regression", "--output=/tmp/x.safetensors", "--steps=3", "--steps", "4"], 2, "--steps is given more than once"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--lr", "-1"], 2, "--lr must be in [1e-09, 1.0], got -1"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--lr=2"], 2, "--lr must be in"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--steps="], 2, "--steps= needs a value"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--sepds", "3"], 2, "unknown option --sepds (did you mean --seed?)"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--thread", "3"], 2, "(did you mean --threads?)"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--jsno"], 2, "(did you mean --json?)"),
        (["train", "regression", "-o", "/tmp/x.safetensors", "--zzzzzzzz"], 2, "unknown option --zzzzzzzz"),
        (["train", "agent", "--algo", "td3cb", "--data", "x", "-o", "y"], 2, "got 'td3cb' (did you mean td3bc?)"),
        (["pgd", "train-agent", "--algo", "bc", "--data", "x", "--model", "m", "-o", "y"], 2, "--algo must be one of td3bc | iql | diffusion-bc | idql | dql, got 'bc'"),
        (["dataset", "collect", "--env", "pendulum", "--quality", "expret", "-o", "/tmp/x.hdf5"], 2, "(did you mean expert?)"),
        (["sample", "-m", "/nonexistent.safetensors"], 1, "cannot read"),
        (["sample"], 2, "missing required option --model"),
    ] as [([String], Int32, String)])
    func badInputGivesOneLineError(_ args: [String], _ status: Int32, _ message: String) {
        expectOneLineError(args, status, message)
    }

    @Test func quietSilencesLogsButNotResultsOrErrors() {
        let path = tempPath("quiet.safetensors")
        var r = runCLI(["train", "regression", "--steps", "20", "--log-every", "5", "--quiet", "-o", path])
        #expect(r.status == 0 && r.err.isEmpty && !r.out.isEmpty, "\(r.err)")
        r = runCLI(["train", "regression", "--steps", "0", "--quiet", "-o", path])
        #expect(r.status == 2 && r.err.count == 1)
    }

    @Test func helpCommandShowsUsage() {
        let r = runCLI(["help", "train", "agent"])
        #expect(r.status == 0 && r.out.joined().contains("USAGE: diffuse train agent"))
    }

    @Test func negativeNumbersAreValuesAndEqualsFormWorks() throws {
        // `--guidance -1` is a value, not an option; `--opt=value` equals `--opt value`.
        let a = try ParsedArguments.parse(["--lr=0.5", "--steps", "-3", "-o", "-"], options: [TrainRegressionCommand.lr, TrainRegressionCommand.steps,
                                                                                             TrainRegressionCommand.output], positionals: 0)
        #expect(a.string(TrainRegressionCommand.lr) == "0.5" && a.string(TrainRegressionCommand.steps) == "-3" && a.string(TrainRegressionCommand.output) == "-")
        #expect(didYouMean("--zzzzzzzz", among: ["--seed", "--steps"]) == "")
        #expect(editDistance("kitten", "sitting") == 3 && editDistance("", "abc") == 3 && editDistance("abc", "") == 3)
        #expect(editDistance("td3cb", "td3bc") == 1 && editDistance("ca", "abc") == 3)
    }

    /// Seeded fuzzing of the argument parser with every command's own option names, values that look
    /// like options, `=` forms and empty words: a parse or a one-line CLIError, nothing else.
    @Test func argumentParserSurvivesRandomWords() {
        let rng = RandomGenerator(seed: 7)
        for command in Diffuse.commands {
            let words = command.options.flatMap(\.names) + ["--help", "-", "--", "-1", "1e9", "nan", "", "=", "--=", "x", "-o=", "--\n"]
            for _ in 0..<300 {
                let tokens = (0..<rng.nextInt(below: 8)).map { _ in words[rng.nextInt(below: words.count)] + (rng.nextInt(below: 4) == 0 ? "=v" : "") }
                do {
                    _ = try ParsedArguments.parse(tokens, options: command.options, positionals: command.arguments.count)
                } catch let e as CLIError {
                    #expect(!e.message.isEmpty)  // printed through oneLine() by Diffuse.main
                } catch {
                    Issue.record("\(command.path) \(tokens): untyped \(error)")
                }
            }
        }
    }

    /// Every subcommand: an unknown flag is a usage error naming it; a missing input file and a
    /// non-numeric count each give exactly one error line and a non-zero exit (never a crash or a run).
    @Test func everySubcommandRejectsBadInputInOneLine() {
        let outputs: Set<String> = ["--output", "--svg", "--png"]
        for command in Diffuse.commands {
            let words = command.path
            expectOneLineError(words + ["--no-such-flag"], 2, "unknown option --no-such-flag")
            let fileOptions = command.options.filter { $0.valueName == "FILE" && !outputs.contains($0.key) }
            // Benchmarks read no input files (their FILE options are reports they write).
            guard command.path[0] != "bench", !fileOptions.isEmpty || !command.arguments.isEmpty else { continue }
            var args = words + command.arguments.map { _ in "/nonexistent/input.safetensors" }
            for o in command.options where o.valueName == "FILE" {
                args += [o.key, outputs.contains(o.key) ? tempPath("out") : "/nonexistent/input.safetensors"]
            }
            for bad in [args, args + (command.options.first { $0.valueName == "N" }.map { [$0.key, "abc"] } ?? [])] {
                let r = runCLI(bad)
                #expect(r.status != 0 && r.out.isEmpty, "\(bad): exit \(r.status)")
                #expect(r.err.filter { $0.contains("error") }.count == 1, "\(bad): \(r.err)")
            }
        }
    }

    /// Paths over the environment: one polyline and one start dot per drawn episode; maze walls and
    /// the goal for pointmaze, the dashed target circle and the shaded unsafe band for safe-circle.
    @Test func plotTrajectoriesDrawsEpisodesOverTheEnvironment() throws {
        let maze = tempPath("maze.hdf5"), circle = tempPath("circle.hdf5"), svg = tempPath("paths.svg")
        #expect(runCLI(["dataset", "collect", "--env", "pointmaze-umaze", "--steps", "900", "-o", maze]).status == 0)
        #expect(runCLI(["dataset", "collect", "--env", "safe-circle", "--steps", "600", "-o", circle]).status == 0)
        var r = runCLI(["plot", "trajectories", maze, "--compare", circle, "--env", "pointmaze-umaze", "--episodes", "2", "--svg", svg])
        #expect(r.status == 0 && r.out == ["2 + 2 episodes drawn → \(svg)"], "\(r.out) \(r.err)")
        var text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.components(separatedBy: "<polyline").count - 1 == 4 && text.contains("fill=\"#bbb\"") && text.contains("★"))
        r = runCLI(["plot", "trajectories", circle, "--svg", svg])
        text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(r.status == 0 && text.contains("stroke-dasharray") && text.contains("#fdd") && text.components(separatedBy: "<polyline").count - 1 == 3)
        expectOneLineError(["plot", "trajectories", "/nonexistent.hdf5", "--svg", svg], 1, "no such file")
    }

    /// Learning curves from a training log: one panel (axes + polyline) per logged metric, in the
    /// order asked; a metric the log lacks is a usage error that suggests the closest.
    @Test func plotCurvesFromATrainingLog() throws {
        let log = tempPath("train.log"), svg = tempPath("curves.svg")
        try "resuming at step 0\nstep 10/30  loss 0.5  lr 0.001\nstep 20/30  loss 0.25  lr 0.001\nstep 30/30  loss 0.125  lr 0.0005\n"
            .write(toFile: log, atomically: true, encoding: .utf8)
        var r = runCLI(["plot", "curves", log, "--metrics", "loss,lr", "--svg", svg])
        #expect(r.status == 0 && r.out == ["2 curves, 3 log lines → \(svg)"], "\(r.out) \(r.err)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.components(separatedBy: "<polyline").count - 1 == 2 && text.contains(">loss<") && text.contains(">lr<"))
        r = runCLI(["plot", "curves", log, "--metrics", "los", "--svg", svg])
        #expect(r.status == 2 && (r.err.last ?? "").contains("did you mean loss?"), "\(r.err)")
        expectOneLineError(["plot", "curves", "/nonexistent.log", "--svg", svg], 1, "cannot read")
    }

    @Test func corruptCheckpointIsAnErrorNotACrash() throws {
        let path = tempPath("corrupt.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x7b]).write(to: URL(fileURLWithPath: path))
        for args in [["checkpoint", "info", path], ["eval", "regression", "-m", path]] {
            let r = runCLI(args)
            #expect(r.status == 1 && r.err.count == 1 && r.err[0].contains("truncated"), "\(r.err)")
        }
    }

    @Test func trainResumeEvalAndInspect() throws {
        let path = tempPath("reg.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let base = ["train", "regression", "-o", path, "--hidden", "16", "--batch-size", "64", "--seed", "3",
                    "--checkpoint-every", "50", "--log-every", "1000", "--json"]
        let full = runCLI(base + ["--steps", "100"])
        #expect(full.status == 0, "\(full.err)")
        let fullOut = try JSONSerialization.jsonObject(with: Data(full.out[0].utf8)) as! [String: Any]
        let mse = fullOut["test_mse"] as! Double
        #expect(mse.isFinite && mse > 0)

        // The same run stopped after step 50 and resumed gives the same model, bit for bit.
        let sliced = tempPath("sliced.safetensors")
        defer { try? FileManager.default.removeItem(atPath: sliced) }
        let slicedArgs = ["train", "regression", "-o", sliced, "--hidden", "16", "--batch-size", "64", "--seed", "3",
                          "--checkpoint-every", "50", "--log-every", "1000", "--json", "--steps", "100"]
        let first = runCLI(slicedArgs + ["--stop-after", "50"])
        #expect(first.status == 0 && first.out.isEmpty && first.err.contains { $0.contains("stopped after step 50") })
        let resumed = runCLI(slicedArgs + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(resumed.err.contains { $0.contains("resuming at step 50") })
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: sliced))
        for name in a.tensors.keys where !name.hasPrefix("optimizer.") {
            #expect(a.tensors[name] == b.tensors[name], "\(name) differs after resume")
        }

        let eval = runCLI(["eval", "regression", "-m", path, "--json"])
        #expect(eval.status == 0)
        let e = try JSONSerialization.jsonObject(with: Data(eval.out[0].utf8)) as! [String: Any]
        #expect(abs((e["noise_floor"] as! Double) - 0.01) < 1e-6)

        let info = runCLI(["checkpoint", "info", path])
        #expect(info.status == 0 && info.out.contains { $0.contains("layers.0.weight") } && info.out.contains { $0.contains("format: policydiffusion-checkpoint/1") })

        let mismatch = runCLI(["train", "regression", "-o", path, "--hidden", "32", "--steps", "100", "--resume"])
        #expect(mismatch.status == 1 && mismatch.err[0].contains("different settings"))

        // Killed before its first checkpoint and requeued with --resume: a notice, then the straight run's result.
        let requeued = tempPath("requeued.safetensors")
        defer { try? FileManager.default.removeItem(atPath: requeued) }
        try? FileManager.default.removeItem(atPath: requeued)
        let fresh = runCLI(["train", "regression", "-o", requeued, "--hidden", "16", "--batch-size", "64", "--seed", "3",
                            "--checkpoint-every", "50", "--log-every", "1000", "--json", "--steps", "100", "--resume"])
        #expect(fresh.status == 0 && fresh.err.contains { $0.contains("no checkpoint at") && $0.contains("starting from scratch") }, "\(fresh.err)")
        let c = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: requeued))
        for name in a.tensors.keys where !name.hasPrefix("optimizer.") {
            #expect(a.tensors[name] == c.tensors[name], "\(name) differs from the straight run")
        }
    }

    @Test func scheduleJSONHasTheArrays() throws {
        let r = runCLI(["schedule", "--kind", "vp", "--steps", "5", "--json"])
        #expect(r.status == 0)
        let j = try JSONSerialization.jsonObject(with: Data(r.out[0].utf8)) as! [String: Any]
        let abar = (j["alphas_cumprod"] as! [Double])
        #expect(abar.count == 5 && abs(abar[4] - 0.00641) < 1e-5)
    }

    /// `train toy` stopped and resumed ends bit-identical to a straight run (weights, Adam, data RNG).
    @Test func trainToyResumes() throws {
        let straight = tempPath("toy-straight.safetensors"), resumed = tempPath("toy-resumed.safetensors")
        let common = ["train", "toy", "--dist", "two-moons", "--steps", "30", "--batch-size", "64", "--hidden", "16,16", "--checkpoint-every", "10", "--seed", "5"]
        #expect(runCLI(common + ["-o", straight]).status == 0)
        #expect(runCLI(common + ["-o", resumed, "--stop-after", "20"]).status == 0)
        let r = runCLI(common + ["-o", resumed, "--resume", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed))
        #expect(a.tensors == b.tensors && a.metadata["training.step"] == "30")
        let sampled = runCLI(["sample", "-m", resumed, "-n", "16", "--steps", "5", "-o", tempPath("s.npy"), "--json"])
        #expect(sampled.status == 0)
        let j = try JSONSerialization.jsonObject(with: Data(sampled.out.joined().utf8)) as! [String: Any]
        #expect(j["samples"] as? Int == 16 && j["shape"] as? [Int] == [16, 2] && (j["std"] as? Double).map { $0 > 0 } == true)
    }

    @Test func trainToyThenSample() throws {
        let model = tempPath("toy.safetensors"), npy = tempPath("s.npy"), svg = tempPath("s.svg")
        defer { for p in [model, npy, svg] { try? FileManager.default.removeItem(atPath: p) } }
        #expect(runCLI(["train", "toy", "--dist", "checkerboard", "--steps", "50", "-o", model]).status == 0)
        let r = runCLI(["sample", "-m", model, "-n", "64", "--sampler", "ddim", "--steps", "10", "-o", npy, "--svg", svg])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains { $0.hasPrefix("structure: ") && $0.contains("on dark squares") }, "\(r.out)")
        let data = try Data(contentsOf: URL(fileURLWithPath: npy))
        #expect(data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) && data.count == 128 + 64 * 2 * 4)
        #expect(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg"))
        let wrong = runCLI(["sample", "-m", model, "--sampler", "edm"])
        #expect(wrong.status == 2 && wrong.err[0].contains("does not fit"))
        let regression = runCLI(["sample", "-m", "Checkpoints/toy-regression.safetensors"])
        #expect(regression.status == 1)
    }

    @Test func benchRunsAndReportsJSON() throws {
        // Every workload group of docs/bench-workloads.md is registered (the closures are not run here) …
        let groups = CoreWorkloads.groups(warmup: 0, repeats: 0).map(\.0)
        #expect(groups == [
            "op_overhead", "sgemm_256", "sgemm_1024", "mlp_train_step", "mlp_sample_100", "fisor_actor_train_step", "fisor_select_action",
            "fisor_select_action_1", "fisor_update", "unet1d_train_step", "unet1d_sample_100", "conv1d", "conv2d", "unet2d_train_step",
            "pgd_generate", "td3bc_update", "iql_update", "seppo_dpo_step", "diffusion_bc_update", "diffusion_bc_select_action_1",
            "idql_update", "idql_select_action_1", "dql_update", "dql_select_action_1"])
        // … in the order of the PyTorch mirror's WORKLOADS (bench/paired.py runs the two in lockstep) …
        let mirror = try String(contentsOfFile: "bench/pytorch_bench.py", encoding: .utf8)
        let table = mirror.components(separatedBy: "WORKLOADS = {")[1].components(separatedBy: "\n}")[0]
        let mirrored = table.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: "\"")
            return line.hasPrefix("    \"") && parts.count >= 2 ? String(parts[1]) : nil
        }
        #expect(mirrored == groups)
        // … and a run reports the selected ones, with the OpenBLAS core in use.
        let r = runCLI(["bench", "core", "--only", "sgemm_256,conv1d,td3bc_update,iql_update", "--repeats", "2", "--warmup", "0", "--json"])
        #expect(r.status == 0)
        let j = try JSONSerialization.jsonObject(with: Data(r.out[0].utf8)) as! [String: Any]
        let names = (j["results"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(names == ["sgemm_256", "conv1d_forward", "conv1d_forward_backward", "td3bc_update", "iql_update"])
        #expect((j["blas_core"] as? String).map { !$0.isEmpty } == true)
    }
}
