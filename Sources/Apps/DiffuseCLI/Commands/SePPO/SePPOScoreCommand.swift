import Foundation
import PolicyDiffusion

/// `diffuse seppo score`: what the held-out scorer says about a digits model's samples, or what the exact
/// path score says about a trajectory model's windows.
struct SePPOScoreCommand: Command {
    static let path = ["seppo", "score"]
    static let abstract = "score a model's samples: digits with the held-out scorer (log p(c|x), degradation, diversity, feature FD), windows with the exact path score"
    static let discussion = """
    Digits: draws --per-class samples of every class (row i has class i mod 10) with DDIM from --seed, \
    so two models scored with the same seed give paired samples (win rates: the per-sample scores in \
    --json). The Fréchet distance compares the classifier's 64-d features with the clean evaluation \
    split of --data. Trajectory models: draws --samples windows from --seed and replays each window's \
    actions in the environment from its first state: the path score is the mean dense reward minus \
    0.25 × the mean squared action change (docs/seppo.md §7); also the valid-start fraction and the \
    plan error (generated positions against the replayed ones).
    """
    static let model = Option("--model", "-m", value: "FILE", help: "digits or trajectory model checkpoint")
    static let scorer = Option("--scorer", value: "FILE", help: "digits: scorer checkpoint (diffuse seppo train-scorer)")
    static let perClass = Option("--per-class", value: "N", default: "50", help: "digits: samples per class")
    static let samples = Option("--samples", "-n", value: "N", default: "256", help: "trajectories: windows to sample")
    static let env = Option("--env", value: "NAME", help: "trajectories: the environment (default: the model's, from its training data)")
    static let steps = Option("--steps", value: "N", default: "50", help: "sampler steps (digits: DDIM; windows: the model's sampler)")
    static let png = Option("--png", value: "FILE", help: "digits: also write the first 8 samples of each class as a labelled PNG grid (one column per class)")
    static let options = [model, scorer, Option.digits, perClass, samples, env, steps, png, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let modelPath = try args.required(model)
        if try SePPOInputs.isTrajectoryModel(modelPath) { return try scoreTrajectories(args, modelPath: modelPath, console: console) }
        let (net, objective) = try SePPOInputs.generator(modelPath)
        let judge = try SePPOInputs.scorer(try args.required(scorer))
        let evaluation = try SePPOInputs.digits(args.string(.digits)!).split(.evaluation)
        let n = try args.int(perClass, range: 2...10_000)!
        guard case let .discrete(_, trainSteps, _) = objective else { throw CLIError("the model's objective is not discrete") }
        let k = try args.int(steps, range: 1...trainSteps)!
        let started = Date()
        let (images, labels) = SePPOInputs.sampleAllClasses(net, objective: objective, perClass: n, steps: k, seed: try args.seed())
        let seconds = Date().timeIntervalSince(started)
        let report = try SampleReport.measure(images, labels: labels, scorer: judge, reference: evaluation)
        if let path = args.string(png) {
            let shown = min(8, n) * DigitsData.classes
            try ImageGrid.writePNG(images.slice(axis: 0, 0..<shown), labels: Array(labels.prefix(shown)), columns: DigitsData.classes, to: URL(fileURLWithPath: path))
        }
        if args.flag(.json) {
            console.out(jsonLine(["model": args.string(model)!, "samples": labels.count, "seconds": seconds, "mean_score": report.meanScore,
                                  "accuracy": report.accuracy, "degraded_fraction": report.degradedFraction, "mean_degradation": report.meanDegradation,
                                  "diversity": report.diversity, "coverage": report.coverage, "frechet": report.frechet, "scores": report.scores]))
        } else {
            console.out(String(format: "%d samples in %.1f s: held-out score %.4f, accuracy %.3f, degraded %.3f (mean p %.3f), diversity %.3f, coverage %d/10, feature FD %.3f",
                               labels.count, seconds, Double(report.meanScore), Double(report.accuracy), Double(report.degradedFraction),
                               Double(report.meanDegradation), Double(report.diversity), report.coverage, report.frechet))
        }
    }

    static func scoreTrajectories(_ args: ParsedArguments, modelPath: String, console: Console) throws {
        let (net, metadata, _) = try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: modelPath))
        net.eval()
        let maze = try SePPOInputs.maze(args.string(env) ?? metadata["env"], for: modelPath)
        let n = try args.int(samples, range: 1...1_000_000)!, k = try args.int(steps, range: 1...10_000)!
        let started = Date()
        let windows = net.generate(labels: [Int](repeating: 0, count: n), objective: net.config.objective, steps: k, rng: RandomGenerator(seed: try args.seed()))
        let seconds = Date().timeIntervalSince(started)
        guard windows.isFinite else { throw CLIError("\(modelPath) sampled non-finite windows") }
        let parts = try PathScore().score(windows: windows, layout: net.layout, maze: maze)
        func mean(_ f: (PathScore.Parts) -> Double) -> Double { parts.map(f).reduce(0, +) / Double(parts.count) }
        let (score, reward, rough, valid, plan) = (mean(\.score), mean(\.reward), mean(\.roughness), mean { $0.valid ? 1 : 0 }, mean(\.planError))
        if args.flag(.json) {
            console.out(jsonLine(["model": modelPath, "env": maze.spec.name, "samples": n, "seconds": seconds, "mean_score": score, "mean_reward": reward,
                                  "mean_roughness": rough, "valid_fraction": valid, "plan_error": plan, "scores": parts.map(\.score)]))
        } else {
            console.out(String(format: "%d windows in %.1f s: path score %.4f (reward %.4f, roughness %.4f), valid starts %.3f, plan error %.4f",
                               n, seconds, score, reward, rough, valid, plan))
        }
    }
}
