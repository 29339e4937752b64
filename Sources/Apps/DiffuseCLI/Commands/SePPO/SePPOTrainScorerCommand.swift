import Foundation
import PolicyDiffusion

/// `diffuse seppo train-scorer`: the held-out judge (classifier + degradation detector) on the scorer split.
struct SePPOTrainScorerCommand: Command {
    static let path = ["seppo", "train-scorer"]
    static let abstract = "train the held-out digits scorer (classifier MLP + degradation detector) on the scorer split"
    static let discussion = """
    Trained only on the scorer split of --data (30 % of the rows, disjoint from the generator split that \
    base models and alignment see); reports its accuracy on the evaluation split (clean) and the \
    detector's accuracy on clean vs degraded evaluation digits. --split evaluation trains the validation \
    judge instead (on the 20 % the test judge never sees; accuracies then on the generator split): \
    sweeps pick their setting with it (make experiment-seppo SWEEP=1, docs/seppo.md).
    """
    static let output = Option("--output", "-o", value: "FILE", help: "scorer checkpoint to write (.safetensors)")
    static let steps = Option("--steps", value: "N", default: String(DigitScorer.Training().steps), help: "Adam steps (batch 64)")
    static let split = Option("--split", value: "S", default: DigitsData.Split.scorer.rawValue,
                              help: "scorer (the test judge) | evaluation (the validation judge of a sweep)")
    static let options = [Option.digits, output, steps, split, .seed, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let url = URL(fileURLWithPath: try args.required(output))
        let all = try SePPOInputs.digits(args.string(.digits)!)
        var training = DigitScorer.Training()
        training.steps = try args.int(steps, range: 1...10_000_000)!
        training.seed = try args.seed()
        // The judge reports its accuracy on a split it did not train on and that the other judge's
        // picks never depend on: the test judge on `evaluation`, the validation judge on `generator`.
        let trainSplit = try args.choice(split, DigitsData.Split.self, allowed: [.scorer, .evaluation])!
        let scorer = DigitScorer.train(on: all.split(trainSplit), settings: training, log: console.err)
        let evaluation = all.split(trainSplit == .scorer ? .evaluation : .generator)
        let predicted = scorer.predictedClasses(evaluation.images)
        let accuracy = Double(zip(predicted, evaluation.labels).filter { $0 == $1 }.count) / Double(evaluation.count)
        let degraded = Degradation.degrade(evaluation.images, rng: RandomGenerator(seed: 7)).images
        let clean = scorer.degradationProbability(evaluation.images).filter { $0 <= 0.5 }.count
        let caught = scorer.degradationProbability(degraded).filter { $0 > 0.5 }.count
        let detector = Double(clean + caught) / Double(2 * evaluation.count)
        try Checkpoint.save(scorer, to: url, metadata: ["data": args.string(.digits)!, "split": trainSplit.rawValue, "command": args.invocation, "scorer_training": canonicalJSON(training)])
        if args.flag(.json) {
            console.out(jsonLine(["checkpoint": url.path, "classifier_accuracy": accuracy, "detector_accuracy": detector]))
        } else {
            console.out(String(format: "held-out accuracy %.3f (classifier), %.3f (detector, clean vs degraded) → %@", accuracy, detector, url.path))
        }
    }
}
