import Foundation
import PolicyDiffusion

/// `diffuse seppo score`: what the held-out scorer says about a digits model's samples.
struct SePPOScoreCommand: Command {
    static let path = ["seppo", "score"]
    static let abstract = "score a digits model's samples with the held-out scorer (log p(c|x), degradation, diversity, feature FD)"
    static let discussion = """
    Draws --per-class samples of every class (row i has class i mod 10) with DDIM from --seed, so two \
    models scored with the same seed give paired samples (win rates: the per-sample scores in --json). \
    The Fréchet distance compares the classifier's 64-d features with the clean evaluation split of --data.
    """
    static let model = Option("--model", "-m", value: "FILE", help: "digits model checkpoint")
    static let scorer = Option("--scorer", value: "FILE", help: "scorer checkpoint (diffuse seppo train-scorer)")
    static let perClass = Option("--per-class", value: "N", default: "50", help: "samples per class")
    static let steps = Option("--steps", value: "N", default: "50", help: "DDIM steps")
    static let png = Option("--png", value: "FILE", help: "also write the first 8 samples of each class as a labelled PNG grid (one column per class)")
    static let options = [model, scorer, Option.digits, perClass, steps, png, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let (net, objective) = try SePPOInputs.generator(try args.required(model))
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
}
