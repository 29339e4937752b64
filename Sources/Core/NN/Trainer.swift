import Foundation
import TensorCore

/// The one shape every trainer has (docs/adding-a-method.md): a step that returns metrics, a module
/// that checkpoints hold, the named parts a resume needs and the settings it must find unchanged.
/// `save` and `resume` are written once here, so a new trainer lists its parts and writes its step;
/// `ResumableRun` (the CLI) drives any conformer.
public protocol Trainer: AnyObject {
    /// The weights a checkpoint stores: the EMA copy where sampling uses it, else the trained module.
    var savedModule: any ConfigurableModule { get }
    /// Everything beyond `savedModule`'s weights that a bit-identical resume needs (online weights,
    /// optimizer moments, targets, samplers, random streams), each under its own key.
    var resumableParts: [(String, any Resumable)] { get }
    /// Metadata entries (settings, data fingerprints) a resume must find unchanged.
    var resumeSettings: [String: String] { get }
    /// Metadata every checkpoint of this trainer carries besides the caller's (e.g. an objective).
    var checkpointMetadata: [String: String] { get }
    /// Steps taken (what a checkpoint records and a resume restores).
    var step: Int { get set }
    /// One training step; returns its metrics (losses, learning rate, …).
    func trainStep() throws -> [String: Float]
}

extension Trainer {
    public var checkpointMetadata: [String: String] { [:] }

    /// Writes `savedModule` with the run's state, atomically (`Checkpoint.saveRun`).
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try Checkpoint.saveRun(savedModule, step: step, parts: resumableParts, settings: resumeSettings,
                               metadata: metadata.merging(checkpointMetadata) { _, own in own }, to: url)
    }

    /// Continues a run saved by `save` with the same data and settings, bit-identically.
    public func resume(from url: URL) throws {
        step = try Checkpoint.resumeRun(savedModule, parts: resumableParts, settings: resumeSettings, from: url)
    }
}

/// A `Resumable` made of named parts (optimizers, targets, counters, generators): each part's state
/// goes under "key.name". An algorithm lists its parts once and inherits save and restore.
public protocol ResumableParts: Resumable {
    var resumableParts: [(String, any Resumable)] { get }
}

extension ResumableParts {
    public func saveState(into state: inout TrainingState, key: String) {
        for (name, part) in resumableParts { part.saveState(into: &state, key: "\(key).\(name)") }
    }

    public func restoreState(from state: TrainingState, key: String) throws {
        for (name, part) in resumableParts { try part.restoreState(from: state, key: "\(key).\(name)") }
    }
}

/// A count that survives a restart (e.g. updates taken, which decides the first Polyak copy).
public final class Counter: Resumable {
    public var value: Int
    public init(_ value: Int = 0) { self.value = value }
    public func saveState(into state: inout TrainingState, key: String) { state.values[key] = String(value) }
    public func restoreState(from state: TrainingState, key: String) throws { value = try state.integer(key) }
}
