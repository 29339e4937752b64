import Foundation
import TensorCore

/// Anything whose training-time state must survive a restart — optimizer moments, EMA and target
/// weights, a minibatch sampler's position, random generators (Dropout's included). Each writes its
/// state into one `TrainingState` under a key and reads it back, so every trainer saves and resumes
/// through the same mechanism and a resumed run continues bit-identically (docs/conventions.md,
/// Modules and checkpoints).
public protocol Resumable {
    func saveState(into state: inout TrainingState, key: String)
    func restoreState(from state: TrainingState, key: String) throws
}

extension TrainingState {
    /// A stored value, or an error naming the key (a checkpoint from another version or run).
    public func value(_ key: String) throws -> String {
        guard let v = values[key] else { throw Checkpoint.Error.badConfig("training state has no '\(key)'") }
        return v
    }

    public func integer(_ key: String) throws -> Int {
        guard let v = Int(try value(key)) else { throw Checkpoint.Error.badConfig("training state '\(key)' is not an integer") }
        return v
    }

    public func tensor(_ key: String, shape: [Int]) throws -> Tensor {
        guard let t = tensors[key] else { throw SafeTensorsError.missingTensor(key) }
        guard t.shape == shape else { throw SafeTensorsError.shapeMismatch(name: key, expected: shape, found: t.shape) }
        return t
    }

    /// Saves several parts, each under its own key.
    public mutating func save(_ parts: [(String, any Resumable)]) {
        for (key, part) in parts { part.saveState(into: &self, key: key) }
    }

    /// Restores parts saved by `save(_:)`.
    public func restore(_ parts: [(String, any Resumable)]) throws {
        for (key, part) in parts { try part.restoreState(from: self, key: key) }
    }
}

extension RandomGenerator: Resumable {
    public func saveState(into state: inout TrainingState, key: String) {
        state.values[key] = "\(seed) \(counter)"
    }

    public func restoreState(from state: TrainingState, key: String) throws {
        let parts = try state.value(key).split(separator: " ").compactMap { UInt64($0) }
        guard parts.count == 2 else { throw Checkpoint.Error.badConfig("training state '\(key)' is not a generator state") }
        restore(RandomState(seed: parts[0], counter: parts[1]))
    }
}

extension MinibatchSampler: Resumable {
    public func saveState(into state: inout TrainingState, key: String) {
        state.values["\(key).epoch"] = String(epoch)
        state.values["\(key).offset"] = String(offset)
    }

    public func restoreState(from state: TrainingState, key: String) throws {
        let e = try state.integer("\(key).epoch"), o = try state.integer("\(key).offset")
        guard e >= 0, o >= 0, o <= count else { throw Checkpoint.Error.badConfig("sampler position \(e):\(o) is out of range for \(count) rows") }
        restore(epoch: e, offset: o)
    }
}

extension Module: Resumable {
    /// Random generators owned by this module and its descendants (Dropout's), by dotted path.
    public func namedGenerators() -> [(String, RandomGenerator)] {
        var out: [(String, RandomGenerator)] = []
        for (name, value) in reflectedChildren() {
            if let g = value as? RandomGenerator { out.append((name, g)) }
            else if let m = value as? Module { out += m.namedGenerators().map { ("\(name).\($0.0)", $0.1) } }
            else if let list = value as? [Module] {
                for (i, m) in list.enumerated() { out += m.namedGenerators().map { ("\(name).\(i).\($0.0)", $0.1) } }
            }
        }
        return out
    }

    /// Saves the generators only (a checkpoint stores the weights themselves).
    public func saveGenerators(into state: inout TrainingState, key: String) {
        for (name, g) in namedGenerators() { g.saveState(into: &state, key: "\(key).\(name)") }
    }

    public func restoreGenerators(from state: TrainingState, key: String) throws {
        for (name, g) in namedGenerators() { try g.restoreState(from: state, key: "\(key).\(name)") }
    }

    /// Weights and generators (target networks, EMA copies, reference models).
    public func saveState(into state: inout TrainingState, key: String) {
        for (name, p) in namedParameters() { state.tensors["\(key).\(name)"] = p.value }
        saveGenerators(into: &state, key: key)
    }

    public func restoreState(from state: TrainingState, key: String) throws {
        var weights: [String: Tensor] = [:]
        for (name, p) in namedParameters() { weights[name] = try state.tensor("\(key).\(name)", shape: p.shape) }
        try load(stateDict: weights)
        try restoreGenerators(from: state, key: key)
    }
}

extension EMA: Resumable {
    public func saveState(into state: inout TrainingState, key: String) { average.saveState(into: &state, key: key) }
    public func restoreState(from state: TrainingState, key: String) throws { try average.restoreState(from: state, key: key) }
}
