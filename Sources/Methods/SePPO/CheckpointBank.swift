import Foundation
import NN
import TensorCore

/// Which bank entry serves as the reference of an update (docs/seppo.md §3, step 1).
public enum ReferenceStrategy: String, CaseIterable, Codable, Sendable {
    /// Always θ₀, the base model (DITTO-like; the paper's ref = 0).
    case initial
    /// The newest snapshot (SPIN-like; the paper's ref = k − 1).
    case latest
    /// Uniform over every snapshot, θ₀ included (the paper's choice: r ~ U{0 … k − 1}).
    case random

    /// The index of the reference in a bank of `count` entries.
    public func select(count: Int, rng: RandomGenerator) -> Int {
        precondition(count > 0, "an empty checkpoint bank has no reference")
        switch self {
        case .initial: return 0
        case .latest: return count - 1
        case .random: return rng.nextInt(below: count)
        }
    }
}

/// SePPO's checkpoint bank B = [θ₀, θ₁, …]: frozen copies of the model, one appended every N updates
/// (docs/seppo.md §3). Resumable: every entry's weights are saved under `key.<i>.`.
public final class CheckpointBank<M: ConfigurableModule> {
    public private(set) var entries: [M]
    /// The module an entry is rebuilt from on restore (its config; the weights come from the state).
    private let template: M

    /// A bank holding a frozen copy of `initial` as θ₀.
    public init(initial: M) {
        template = initial.clone()
        entries = []
        append(initial)
    }

    public var count: Int { entries.count }

    /// Appends a frozen evaluation-mode copy of `model`.
    public func append(_ model: M) {
        let copy = model.clone()
        copy.freeze()
        copy.eval()
        entries.append(copy)
    }

    public subscript(i: Int) -> M { entries[i] }
}

extension CheckpointBank: Resumable {
    public func saveState(into state: inout TrainingState, key: String) {
        state.values["\(key).count"] = String(entries.count)
        for (i, m) in entries.enumerated() { m.saveState(into: &state, key: "\(key).\(i)") }
    }

    public func restoreState(from state: TrainingState, key: String) throws {
        let n = try state.integer("\(key).count")
        guard n >= 1 else { throw Checkpoint.Error.badConfig("checkpoint bank '\(key)' has \(n) entries") }
        var restored: [M] = []
        for i in 0..<n {
            let m = template.clone()
            try m.restoreState(from: state, key: "\(key).\(i)")
            m.freeze()
            m.eval()
            restored.append(m)
        }
        entries = restored
    }
}
