import Foundation
import TensorCore

/// Canonical JSON (sorted keys) for settings stored in checkpoints and compared on resume.
public func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return String(decoding: (try? e.encode(value)) ?? Data(), as: UTF8.self)
}

/// What a resumable run saves beside the weights.
public struct TrainingState {
    public var step: Int
    public var rng: RandomState
    /// Optimizer moments (names prefixed `optimizer.`) and any extra tensors such as EMA weights
    /// (prefixed `ema.`).
    public var tensors: [String: Tensor]
    /// Small values (sampler position, optimizer config…) as strings.
    public var values: [String: String]

    public init(step: Int, rng: RandomState, tensors: [String: Tensor] = [:], values: [String: String] = [:]) {
        self.step = step; self.rng = rng; self.tensors = tensors; self.values = values
    }
}

/// A model checkpoint: one safetensors file. Parameters under their module paths; the module's
/// config (JSON), its type, the format version, provenance and — for resumable training — the
/// training state live in `__metadata__` / under `optimizer.` and `ema.` names.
public enum Checkpoint {
    public static let format = "policydiffusion-checkpoint/1"

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case notACheckpoint(String)
        case wrongModel(expected: String, found: String)
        case badConfig(String)
        /// A checkpoint is never written from non-finite weights or state: the last good one stays.
        case nonFinite(String)

        public var description: String { rawDescription.oneLine() }

        private var rawDescription: String {
            switch self {
            case let .nonFinite(name):
                return "training diverged: \(name) holds NaN or infinite values; not overwriting the last checkpoint"
            case let .notACheckpoint(path): return "\(path) is not a PolicyDiffusion checkpoint (no format/config metadata)"
            case let .wrongModel(expected, found): return "checkpoint holds a \(found), not a \(expected)"
            case let .badConfig(detail): return "checkpoint config does not decode: \(detail)"
            }
        }
    }

    /// Writes `module` (and optionally training state) atomically.
    public static func save<M: ConfigurableModule>(_ module: M, to url: URL, metadata: [String: String] = [:],
                                                   training: TrainingState? = nil) throws {
        var file = SafeTensorsFile()
        for (name, p) in module.namedParameters() {
            guard p.value.isFinite else { throw Error.nonFinite("parameter \(name)") }
            file.tensors[name] = SafeTensor(p.value)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        file.metadata = metadata
        file.metadata["format"] = format
        file.metadata["model"] = String(describing: M.self)
        file.metadata["config"] = String(decoding: try encoder.encode(module.config), as: UTF8.self)
        if var training {
            // Dropout's generators are training state too: a resumed run draws the same masks.
            module.saveGenerators(into: &training, key: "generators")
            for (name, t) in training.tensors {
                precondition(file.tensors[name] == nil, "training tensor \(name) collides with a parameter")
                file.tensors[name] = SafeTensor(t)
            }
            // "step" and "rng" are the state's own entries; a part saved under those keys would overwrite them.
            precondition(training.values["step"] == nil && training.values["rng"] == nil, "training values may not use the reserved keys step and rng")
            if let bad = training.tensors.keys.sorted().first(where: { !training.tensors[$0]!.isFinite }) { throw Error.nonFinite("training state \(bad)") }
            file.metadata["training.step"] = String(training.step)
            file.metadata["training.rng"] = String(decoding: try encoder.encode(training.rng), as: UTF8.self)
            for (k, v) in training.values { file.metadata["training.\(k)"] = v }
        }
        try file.write(to: url)
    }

    /// Loads a module of type `M` built from the stored config, plus the metadata and training
    /// state if the file has them. Shape, dtype and name mismatches are errors.
    public static func load<M: ConfigurableModule>(_ type: M.Type, from url: URL) throws -> (model: M, metadata: [String: String], training: TrainingState?) {
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == format, let configJSON = file.metadata["config"] else { throw Error.notACheckpoint(url.path) }
        let found = file.metadata["model"] ?? "?"
        guard found == String(describing: M.self) else { throw Error.wrongModel(expected: String(describing: M.self), found: found) }
        let config: M.Config
        do { config = try JSONDecoder().decode(M.Config.self, from: Data(configJSON.utf8)) } catch {
            throw Error.badConfig(String(describing: error))
        }
        let model = M(config: config, rng: RandomGenerator(seed: 0))
        let names = Set(model.namedParameters().map { $0.0 })
        var weights: [String: Tensor] = [:]
        var extra: [String: Tensor] = [:]
        for (name, stored) in file.tensors {
            let t = try stored.tensor(name: name)
            if names.contains(name) { weights[name] = t } else { extra[name] = t }
        }
        // Tensors beyond the parameters are training state (optimizer moments, EMA and target
        // weights); a file without training state may not have any.
        if file.metadata["training.step"] == nil, let name = extra.keys.sorted().first {
            throw SafeTensorsError.badEntry(name: name, reason: "the \(found) has no parameter of that name")
        }
        try model.load(stateDict: weights, strict: true)
        var training: TrainingState?
        if let stepText = file.metadata["training.step"], let step = Int(stepText) {
            guard let rngJSON = file.metadata["training.rng"],
                  let rng = try? JSONDecoder().decode(RandomState.self, from: Data(rngJSON.utf8)) else {
                throw Error.badConfig("training.rng is missing or malformed")
            }
            var values: [String: String] = [:]
            for (k, v) in file.metadata where k.hasPrefix("training.") && k != "training.step" && k != "training.rng" {
                values[String(k.dropFirst("training.".count))] = v
            }
            let state = TrainingState(step: step, rng: rng, tensors: extra, values: values)
            try model.restoreGenerators(from: state, key: "generators")
            training = state
        }
        return (model, file.metadata, training)
    }

    /// Loads a run's weights (and Dropout generators) into an existing `module` of the same type and
    /// config, and returns the metadata and training state — for trainers that resume in place.
    public static func resume<M: ConfigurableModule>(_ module: M, from url: URL) throws -> (metadata: [String: String], training: TrainingState) {
        guard FileManager.default.fileExists(atPath: url.path) else { throw Error.badConfig("\(url.path) does not exist") }
        let (loaded, metadata, training) = try load(M.self, from: url)
        guard let training else { throw Error.badConfig("\(url.path) has no training state to resume") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard try encoder.encode(loaded.config) == encoder.encode(module.config) else {
            throw Error.badConfig("\(url.path) was trained with different settings (it holds a \(M.self) of another configuration)")
        }
        module.copyParameters(from: loaded)
        for ((_, mine), (_, theirs)) in zip(module.namedGenerators(), loaded.namedGenerators()) { mine.restore(theirs.state) }
        return (metadata, training)
    }

    /// Writes a training run: `module`'s weights, every part's `Resumable` state, the step, and
    /// `settings` — metadata entries (settings, data statistics) a resume must find unchanged.
    public static func saveRun<M: ConfigurableModule>(_ module: M, step: Int, parts: [(String, any Resumable)], settings: [String: String],
                                                      metadata: [String: String] = [:], to url: URL) throws {
        var state = TrainingState(step: step, rng: RandomState(seed: 0, counter: 0))
        state.save(parts)
        try save(module, to: url, metadata: metadata.merging(settings) { _, own in own }, training: state)
    }

    /// Restores a run written by `saveRun` into `module` and `parts` (the same settings and data, or
    /// an error naming the entry that differs) and returns its step.
    public static func resumeRun<M: ConfigurableModule>(_ module: M, parts: [(String, any Resumable)], settings: [String: String],
                                                        from url: URL) throws -> Int {
        let (meta, state) = try resume(module, from: url)
        for key in settings.keys.sorted() where meta[key] != settings[key] {
            throw Error.badConfig("\(url.path) was trained with different settings or data (\(key) differs)")
        }
        try state.restore(parts)
        return state.step
    }
}

