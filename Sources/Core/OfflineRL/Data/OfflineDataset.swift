import Foundation
import TensorCore

/// An offline RL dataset in the D4RL / DSRL layout: one row per transition (s, a, r, s′) with
/// `terminals` (the MDP ended) and `timeouts` (the episode was cut), DSRL's `costs`, and hidden
/// environment state under `infos/` (a moving goal, hazard positions) so that dynamics error can be
/// computed from the file alone. Actions are raw environment actions (D4RL convention).
public struct OfflineDataset {
    public var observations: Tensor       // [N, obs]
    public var actions: Tensor            // [N, act]
    public var rewards: Tensor            // [N]
    public var nextObservations: Tensor   // [N, obs]
    public var terminals: Tensor          // [N], 0 or 1
    public var timeouts: Tensor           // [N], 0 or 1
    public var costs: Tensor?             // [N]
    public var infos: [String: Tensor]    // name (without "infos/") → [N, …]
    /// Provenance: env, quality, seed, command.
    public var attributes: [String: String]

    public var count: Int { observations.shape[0] }
    public var observationDim: Int { observations.shape[1] }
    public var actionDim: Int { actions.shape[1] }

    /// Builds a dataset, checking every shape and value (the same checks a loaded file gets).
    public init(observations: Tensor, actions: Tensor, rewards: Tensor, nextObservations: Tensor,
                terminals: Tensor, timeouts: Tensor, costs: Tensor? = nil, infos: [String: Tensor] = [:],
                attributes: [String: String] = [:]) throws {
        self.observations = observations; self.actions = actions; self.rewards = rewards
        self.nextObservations = nextObservations; self.terminals = terminals; self.timeouts = timeouts
        self.costs = costs; self.infos = infos; self.attributes = attributes
        try validate()
    }

    private func validate() throws {
        guard observations.rank == 2 else { throw DataFileError.wrongRank("observations", expected: "[N, obs]", found: observations.shape) }
        guard actions.rank == 2 else { throw DataFileError.wrongRank("actions", expected: "[N, act]", found: actions.shape) }
        let n = count
        guard nextObservations.shape == observations.shape else {
            throw DataFileError.wrongRank("next_observations", expected: "\(observations.shape) (as observations)", found: nextObservations.shape)
        }
        var fields: [(String, Tensor)] = [("observations", observations), ("actions", actions), ("rewards", rewards),
                                          ("next_observations", nextObservations), ("terminals", terminals), ("timeouts", timeouts)]
        if let costs { fields.append(("costs", costs)) }
        for (k, v) in infos { fields.append(("infos/" + k, v)) }
        for (name, t) in fields {
            guard t.rank >= 1, t.shape[0] == n else { throw DataFileError.lengthMismatch(name, expected: n, found: t.shape.first ?? 0) }
            if ["rewards", "terminals", "timeouts", "costs"].contains(name), t.rank != 1 {
                throw DataFileError.wrongRank(name, expected: "[N]", found: t.shape)
            }
            let width = t.count / Swift.max(n, 1)
            let bad: Int? = t.withUnsafeBufferPointer { p in
                if let i = p.firstIndex(where: { !$0.isFinite }) { return i / Swift.max(width, 1) }
                return nil
            }
            if let row = bad { throw DataFileError.nonFinite(name, row: row) }
        }
        for (name, t) in [("terminals", terminals), ("timeouts", timeouts)] {
            let row: Int? = t.withUnsafeBufferPointer { p in p.firstIndex { $0 != 0 && $0 != 1 } }
            if let row { throw DataFileError.wrongType(name, found: "the value \(t.scalars[row]) at row \(row) (flags must be 0 or 1)") }
        }
    }

    // MARK: Episodes

    /// Episodes as row ranges: each ends at a terminal or timeout (or the last row).
    public var episodes: [Range<Int>] {
        let t = terminals.scalars, o = timeouts.scalars
        var out: [Range<Int>] = []
        var start = 0
        for i in 0..<count where t[i] != 0 || o[i] != 0 || i == count - 1 {
            out.append(start..<(i + 1))
            start = i + 1
        }
        return out
    }

    /// Return, cost and length of every episode.
    public func episodeSummaries() -> [(return: Double, cost: Double, length: Int)] {
        let r = rewards.scalars, c = costs?.scalars
        return episodes.map { e in
            (e.reduce(0.0) { $0 + Double(r[$1]) }, c.map { c in e.reduce(0.0) { $0 + Double(c[$1]) } } ?? 0, e.count)
        }
    }

    /// Every transition as one batch (tensors are shared, not copied).
    public var transitions: TransitionBatch {
        TransitionBatch(observations: observations, actions: actions, rewards: rewards, nextObservations: nextObservations,
                        dones: terminals, timeouts: timeouts, costs: costs)
    }

    /// The rows of `indices` as tensors (a minibatch).
    public func batch(_ indices: [Int]) -> TransitionBatch { transitions.rows(indices) }

    /// A dataset of the rows in `indices` (e.g. the episodes of a train/validation split).
    public func subset(_ indices: [Int]) -> OfflineDataset {
        var d = self
        let b = batch(indices)
        d.observations = b.observations; d.actions = b.actions; d.rewards = b.rewards
        d.nextObservations = b.nextObservations; d.terminals = b.dones; d.timeouts = b.timeouts; d.costs = b.costs
        d.infos = infos.mapValues { $0.indexSelect(axis: 0, indices) }
        return d
    }

    /// Splits whole episodes (never a window across the cut): a seeded `fraction` of them is held out.
    public func splitEpisodes(validationFraction fraction: Double, seed: UInt64) -> (train: [Range<Int>], validation: [Range<Int>]) {
        let all = episodes
        let order = RandomGenerator(seed: seed).permutation(all.count)
        let held = Int((Double(all.count) * fraction).rounded())
        let validation = Set(order.prefix(held))
        return (all.indices.filter { !validation.contains($0) }.map { all[$0] }, validation.sorted().map { all[$0] })
    }

    /// Concatenation of datasets with the same observation and action sizes.
    public static func concatenate(_ parts: [OfflineDataset]) throws -> OfflineDataset {
        precondition(!parts.isEmpty, "concatenate needs at least one dataset")
        let first = parts[0]
        for p in parts.dropFirst() where p.observationDim != first.observationDim || p.actionDim != first.actionDim
            || Set(p.infos.keys) != Set(first.infos.keys) || (p.costs == nil) != (first.costs == nil) {
            throw DataFileError.unsupported("datasets to concatenate differ in their fields or sizes")
        }
        func cat(_ f: (OfflineDataset) -> Tensor) -> Tensor { Tensor.concat(parts.map(f), axis: 0) }
        var infos: [String: Tensor] = [:]
        for k in first.infos.keys { infos[k] = cat { $0.infos[k]! } }
        return try OfflineDataset(observations: cat { $0.observations }, actions: cat { $0.actions }, rewards: cat { $0.rewards },
                                  nextObservations: cat { $0.nextObservations }, terminals: cat { $0.terminals },
                                  timeouts: cat { $0.timeouts }, costs: first.costs == nil ? nil : cat { $0.costs! },
                                  infos: infos, attributes: first.attributes)
    }
}

/// A minibatch of transitions.
public struct TransitionBatch {
    public var observations: Tensor
    public var actions: Tensor
    public var rewards: Tensor
    public var nextObservations: Tensor
    /// 1 where bootstrapping stops: a dataset's rows carry its D4RL `terminals`; after
    /// `TransitionPreprocessing` with `.terminalsOrTimeouts`, timeouts too (FISOR's reference).
    public var dones: Tensor
    public var timeouts: Tensor
    public var costs: Tensor?

    public init(observations: Tensor, actions: Tensor, rewards: Tensor, nextObservations: Tensor, dones: Tensor,
                timeouts: Tensor, costs: Tensor? = nil) {
        self.observations = observations; self.actions = actions; self.rewards = rewards
        self.nextObservations = nextObservations; self.dones = dones; self.timeouts = timeouts; self.costs = costs
    }

    public var count: Int { observations.shape[0] }

    /// Rows of several batches, in order (costs kept only if every part has them).
    public static func concatenate(_ parts: [TransitionBatch]) -> TransitionBatch {
        precondition(!parts.isEmpty, "concatenate needs at least one batch")
        func cat(_ f: (TransitionBatch) -> Tensor) -> Tensor { parts.count == 1 ? f(parts[0]) : Tensor.concat(parts.map(f), axis: 0) }
        let costs: Tensor? = parts.allSatisfy { $0.costs != nil } ? cat { $0.costs! } : nil
        return TransitionBatch(observations: cat(\.observations), actions: cat(\.actions), rewards: cat(\.rewards),
                               nextObservations: cat(\.nextObservations), dones: cat(\.dones), timeouts: cat(\.timeouts), costs: costs)
    }

    /// The rows of `indices` of every field.
    public func rows(_ indices: [Int]) -> TransitionBatch {
        TransitionBatch(observations: observations.indexSelect(axis: 0, indices), actions: actions.indexSelect(axis: 0, indices),
                        rewards: rewards.indexSelect(axis: 0, indices), nextObservations: nextObservations.indexSelect(axis: 0, indices),
                        dones: dones.indexSelect(axis: 0, indices), timeouts: timeouts.indexSelect(axis: 0, indices),
                        costs: costs?.indexSelect(axis: 0, indices))
    }
}
