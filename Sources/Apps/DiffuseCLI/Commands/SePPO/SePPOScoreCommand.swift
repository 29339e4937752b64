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
    actions in the environment from its first state (pointmaze or a MuJoCo robot): the path score is \
    the mean reward minus --smoothness (0.25) × the mean squared action change (docs/seppo.md §7); also the \
    valid-start fraction and the plan error (generated positions, or MuJoCo observations, against the \
    replayed ones). Your own images (--preferred and \
    --images instead of --scorer): --per-class samples of every class (or of the unconditional model), \
    their Fréchet distance to the preferred images and to the training images and the improved \
    precision / recall of the preferred set (k = 3 nearest neighbours), all in the features of a PCA \
    encoder fitted on the training images (pooled to at most 16×16, 32 components: it knows only your \
    data), and the per-class diversity in pixels.
    """
    static let model = Option("--model", "-m", value: "FILE", help: "digits or trajectory model checkpoint")
    static let scorer = Option("--scorer", value: "FILE", help: "digits: scorer checkpoint (diffuse seppo train-scorer)")
    static let perClass = Option("--per-class", value: "N", default: "50", help: "digits: samples per class")
    static let samples = Option("--samples", "-n", value: "N", default: "256", help: "trajectories: windows to sample")
    static let env = Option("--env", value: "NAME", help: "trajectories: the environment (default: the model's, from its training data)")
    static let steps = Option("--steps", value: "N", default: "50", help: "sampler steps (digits: DDIM; windows: the model's sampler)")
    static let png = Option("--png", value: "FILE", help: "digits: also write the first 8 samples of each class as a labelled PNG grid (one column per class)")
    static let preferred = Option("--preferred", value: "PATH", help: "your images: the preferred images (.npy, .npz, PNG folder) to measure samples against, without a scorer")
    static let images = Option("--images", value: "PATH", help: "your images: the base model's training images (the feature encoder is fitted on them)")
    static let options = [model, scorer, Option.digits, preferred, images, perClass, samples, env, Option.smoothness, steps, png, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let modelPath = try args.required(model)
        if try SePPOInputs.isTrajectoryModel(modelPath) { return try scoreTrajectories(args, modelPath: modelPath, console: console) }
        let (net, objective) = try SePPOInputs.generator(modelPath)
        if args.string(scorer) == nil, args.string(preferred) != nil { return try scoreImages(args, model: net, objective: objective, console: console) }
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

    /// Any image model against the user's own images (issue #31): Fréchet distance to the preferred set and to
    /// the training images, and improved precision / recall of the preferred set, in the features of a PCA
    /// encoder fitted on the training images (`PCAFeatures`), plus the per-class diversity in pixels.
    static func scoreImages(_ args: ParsedArguments, model net: UNet2D, objective: DiffusionObjective, console: Console) throws {
        let liked = try SePPOInputs.images(try args.required(preferred), for: net), base = try SePPOInputs.images(try args.required(images), for: net)
        let c = net.config
        guard case let .discrete(_, trainSteps, _) = objective else { throw CLIError("the model's objective is not discrete") }
        let perClassCount = try args.int(perClass, range: 2...10_000)!, k = try args.int(steps, range: 1...trainSteps)!
        let classes = Swift.max(c.classes, 1)
        let labels = (0..<(perClassCount * classes)).map { $0 % classes }
        let started = Date()
        let samples = ImageModel.sample(net, labels: labels, objective: objective, steps: k, rng: RandomGenerator(seed: try args.seed()))
        let seconds = Date().timeIntervalSince(started)
        guard samples.isFinite else { throw CLIError("the model sampled non-finite images") }
        let encoder = try PCAFeatures(fitting: base.images)
        let (fs, fl, fb) = (encoder.encode(samples), encoder.encode(liked.images), encoder.encode(base.images))
        let toPreferred = try FrechetDistance.distance(fs, fl), toBase = try FrechetDistance.distance(fs, fb)
        let neighbours = Swift.min(3, Swift.min(liked.count, samples.shape[0]) - 1)
        guard neighbours >= 1 else { throw CLIError("precision / recall need at least 2 preferred images and 2 samples") }
        let (precision, recall) = ManifoldPrecisionRecall.measure(real: fl, generated: fs, k: neighbours)
        let diversity = SampleReport.meanPairwiseDistance(samples, labels: labels)
        if let path = args.string(png) { try ImageGrid.writePNG(samples, labels: c.classes > 0 ? labels : nil, columns: c.classes > 0 ? classes : 8, to: URL(fileURLWithPath: path)) }
        if args.flag(.json) {
            console.out(jsonLine(["model": args.string(model)!, "samples": labels.count, "seconds": seconds, "frechet_preferred": toPreferred, "frechet_base": toBase,
                                  "precision": precision, "recall": recall, "diversity": diversity, "feature_dimensions": encoder.dimensions,
                                  "explained_variance": encoder.explainedVariance]))
        } else {
            console.out(String(format: "%d samples in %.1f s: Fréchet distance to the preferred images %.3f (to the training images %.3f), precision %.3f, recall %.3f, diversity %.3f (PCA features: %d dimensions, %.0f %% of the variance)",
                               labels.count, seconds, toPreferred, toBase, precision, recall, Double(diversity), encoder.dimensions, 100 * encoder.explainedVariance))
        }
    }

    static func scoreTrajectories(_ args: ParsedArguments, modelPath: String, console: Console) throws {
        let (net, metadata, _) = try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: modelPath))
        net.eval()
        let environment = try SePPOInputs.pathEnvironment(args.string(env) ?? metadata["env"], for: modelPath, layout: net.layout)
        let pathScore = try SePPOInputs.pathScore(args)   // before sampling: a bad --smoothness costs nothing
        let n = try args.int(samples, range: 1...1_000_000)!, k = try args.int(steps, range: 1...10_000)!
        let started = Date()
        let windows = net.generate(labels: [Int](repeating: 0, count: n), objective: net.config.objective, steps: k, rng: RandomGenerator(seed: try args.seed()))
        let seconds = Date().timeIntervalSince(started)
        guard windows.isFinite else { throw CLIError("\(modelPath) sampled non-finite windows") }
        let parts = try pathScore.score(windows: windows, layout: net.layout, environment: environment)
        func mean(_ f: (PathScore.Parts) -> Double) -> Double { parts.map(f).reduce(0, +) / Double(parts.count) }
        let (score, reward, rough, valid, plan) = (mean(\.score), mean(\.reward), mean(\.roughness), mean { $0.valid ? 1 : 0 }, mean(\.planError))
        if args.flag(.json) {
            console.out(jsonLine(["model": modelPath, "env": environment.spec.name, "samples": n, "seconds": seconds, "mean_score": score, "mean_reward": reward,
                                  "mean_roughness": rough, "valid_fraction": valid, "plan_error": plan, "scores": parts.map(\.score)]))
        } else {
            console.out(String(format: "%d windows in %.1f s: path score %.4f (reward %.4f, roughness %.4f), valid starts %.3f, plan error %.4f",
                               n, seconds, score, reward, rough, valid, plan))
        }
    }
}
