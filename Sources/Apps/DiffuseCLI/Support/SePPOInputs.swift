import Foundation
import PolicyDiffusion

extension Option {
    /// The digits CSV of the SePPO commands (data/README.md).
    static let digits = Option("--data", value: "FILE", default: "data/digits.csv", help: "digits CSV (64 pixels 0…16 and a label per line; data/README.md)")
    /// The path score's roughness weight w (docs/seppo.md §7), shared by align and score.
    static let smoothness = Option("--smoothness", value: "W", default: "0.25",
                                   help: "trajectories: the path score's weight w on the mean squared action change (S = mean reward − w · roughness)")
}

/// Loading what the `diffuse seppo …` commands share, with one-line errors.
enum SePPOInputs {
    /// The path score of --smoothness.
    static func pathScore(_ args: ParsedArguments) throws -> PathScore {
        let w = try args.float(.smoothness)!
        guard w >= 0 && w.isFinite else { throw CLIError("--smoothness must be a finite number ≥ 0, got \(w)", usage: true) }
        return PathScore(smoothnessWeight: Double(w))
    }

    static func digits(_ path: String) throws -> DigitsData {
        do { return try DigitsData.load(URL(fileURLWithPath: path)) } catch let e as DigitsError { throw CLIError(e.description) }
    }

    static func generator(_ path: String) throws -> (model: UNet2D, objective: DiffusionObjective) {
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path) does not exist") }
        do { return try ImageModel.load(URL(fileURLWithPath: path)) } catch let e as ImageModel.LoadError { throw CLIError(e.description) }
    }

    /// The user's images (and labels) as `ImageSet.load` reads them, with its one-line errors.
    static func images(_ path: String, labels: String? = nil) throws -> ImageSet {
        do { return try ImageSet.load(URL(fileURLWithPath: path), labels: labels.map { URL(fileURLWithPath: $0) }) } catch let e as ImageSetError {
            throw CLIError(e.description)
        }
    }

    /// The user's images at `path`, which must have the channels and side that `model` makes.
    static func images(_ path: String, for model: UNet2D) throws -> ImageSet {
        let set = try images(path), c = model.config
        guard set.channels == c.channels, set.side == (c.size, c.size) else {
            throw CLIError("\(path): images of \(set.side.height)×\(set.side.width)×\(set.channels); the model makes \(c.size)×\(c.size)×\(c.channels)")
        }
        return set
    }

    /// The user's preferred images as the preferred set of `model`: same channels and side; labelled for a
    /// class-conditional model (classes in range), the null class for an unconditional one.
    static func preferredImages(_ path: String, for model: UNet2D) throws -> PreferenceSet {
        let set = try images(path, for: model), c = model.config
        if c.classes > 0 {
            guard let labels = set.labels else { throw CLIError("\(path): the base model is class-conditional, so the preferred images need labels (an npz 'labels' array or class folders)") }
            guard labels.allSatisfy({ $0 < c.classes }) else { throw CLIError("\(path): labels go up to \(labels.max()!), the base model has \(c.classes) classes") }
            return PreferenceSet(samples: set.images, labels: labels)
        }
        return PreferenceSet(samples: set.images)
    }

    static func scorer(_ path: String) throws -> DigitScorer {
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path) does not exist (write it with `diffuse seppo train-scorer`)") }
        let (scorer, _, _) = try Checkpoint.load(DigitScorer.self, from: URL(fileURLWithPath: path))
        scorer.eval()
        return scorer
    }

    /// `perClass` samples of every class, interleaved (row i has class i mod 10), drawn with DDIM
    /// from a fixed seed, so two models' rows are paired sample by sample.
    static func sampleAllClasses(_ model: UNet2D, objective: DiffusionObjective, perClass: Int, steps: Int, seed: UInt64) -> (images: Tensor, labels: [Int]) {
        let labels = (0..<(perClass * DigitsData.classes)).map { $0 % DigitsData.classes }
        return (ImageModel.sample(model, labels: labels, objective: objective, steps: steps, rng: RandomGenerator(seed: seed)), labels)
    }
}

extension SePPOInputs {
    /// The maze of the trajectory setup (docs/seppo.md §7): `name` from --env or the model's metadata.
    static func pathEnvironment(_ name: String?, for path: String, layout: TrajectoryLayout) throws -> any Environment {
        guard let name else { throw CLIError("\(path) records no environment; pass --env (pointmaze-umaze, halfcheetah, …)", usage: true) }
        let environment = try Environments.make(name)
        guard PathScore.supports(environment) else {
            throw CLIError("the trajectory setup scores pointmaze and MuJoCo robot paths; \(name) is neither", usage: true)
        }
        let spec = environment.spec
        guard layout.observationDim == spec.observationSpace.low.count && layout.actionDim == spec.actionSpace.low.count else {
            throw CLIError("\(path) makes windows of \(layout.observationDim)-d observations and \(layout.actionDim)-d actions; \(name) has \(spec.observationSpace.low.count) and \(spec.actionSpace.low.count)", usage: true)
        }
        return environment
    }

    /// What a checkpoint holds, by its metadata's model type: a trajectory model or (else) a digits model.
    static func isTrajectoryModel(_ path: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path) does not exist") }
        return try Checkpoint.metadata(of: URL(fileURLWithPath: path))["model"] == String(describing: TrajectoryModel.self)
    }
}
