import Foundation
import TensorCore

/// Chooses how to load a checkpoint from what it is: the `model` its metadata names. A command
/// that accepts several kinds of model (`diffuse sample`, `diffuse eval`) keeps one registry; a
/// new model kind plugs in with one `register` call instead of a new code path.
public struct CheckpointRegistry<Value> {
    /// What the loaded value is for, in error messages (e.g. "sampling", "evaluation").
    public let purpose: String
    private var loaders: [(model: String, load: (URL, [String: String]) throws -> Value)] = []

    public init(purpose: String) { self.purpose = purpose }

    /// Registers a loader for checkpoints of module type `M` (it receives the file's metadata).
    public mutating func register<M: ConfigurableModule>(_ type: M.Type, _ load: @escaping (URL, [String: String]) throws -> Value) {
        let name = String(describing: M.self)
        precondition(!models.contains(name), "\(name) is registered twice for \(purpose)")
        loaders.append((name, load))
    }

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case noLoader(file: String, model: String, purpose: String, known: [String])
        public var description: String {
            switch self {
            case let .noLoader(file, model, purpose, known):
                return "\(file) is a checkpoint of model \(model); \(purpose) cannot use it (it loads \(known.joined(separator: ", ")))"
            }
        }
    }

    /// The module types this registry can load.
    public var models: [String] { loaders.map(\.model) }

    /// Loads `url` with the loader of its model type; a file that is not a checkpoint, or holds a
    /// model no loader knows, is a one-line error.
    public func load(_ url: URL) throws -> Value {
        let metadata = try Checkpoint.metadata(of: url)
        let model = metadata["model"] ?? "?"
        guard let entry = loaders.first(where: { $0.model == model }) else {
            throw Error.noLoader(file: url.lastPathComponent, model: model, purpose: purpose, known: models)
        }
        return try entry.load(url, metadata)
    }
}

extension Checkpoint {
    /// A checkpoint's metadata (format checked), without building its model.
    public static func metadata(of url: URL) throws -> [String: String] {
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == format, file.metadata["config"] != nil else { throw Error.notACheckpoint(url.path) }
        return file.metadata
    }
}
