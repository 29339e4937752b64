import Foundation
import NN
import TensorCore

/// An online agent's replay buffer (CleanRL's stable-baselines3 ReplayBuffer): a ring of the last
/// `capacity` transitions, minibatches drawn uniformly with replacement. It stores D4RL's fields
/// (actions in environment units, terminals and timeouts apart), so the rows it holds are a D4RL
/// dataset as they stand — D4RL's medium-replay recipe (docs/environments.md §7).
public final class ReplayBuffer: Resumable {
    public let capacity: Int
    public let observationDim: Int
    public let actionDim: Int
    private var observations: [Float] = [], actions: [Float] = [], rewards: [Float] = []
    private var nextObservations: [Float] = [], terminals: [Float] = [], timeouts: [Float] = []
    /// Where the next row goes once the ring is full (the oldest row).
    private var position = 0

    public init(capacity: Int, observationDim: Int, actionDim: Int) {
        precondition(capacity >= 1, "a replay buffer needs a positive capacity")
        self.capacity = capacity; self.observationDim = observationDim; self.actionDim = actionDim
    }

    /// Rows held (≤ capacity).
    public var count: Int { rewards.count }

    /// Appends a transition, overwriting the oldest when full.
    public func add(observation: [Float], action: [Float], reward: Float, nextObservation: [Float], terminal: Bool, timeout: Bool) {
        precondition(observation.count == observationDim && nextObservation.count == observationDim && action.count == actionDim,
                     "transition sizes do not match the buffer")
        if count < capacity {
            observations += observation; actions += action; rewards.append(reward); nextObservations += nextObservation
            terminals.append(terminal ? 1 : 0); timeouts.append(timeout ? 1 : 0)
            return
        }
        let i = position, o = observationDim, a = actionDim
        observations.replaceSubrange((i * o)..<((i + 1) * o), with: observation)
        nextObservations.replaceSubrange((i * o)..<((i + 1) * o), with: nextObservation)
        actions.replaceSubrange((i * a)..<((i + 1) * a), with: action)
        rewards[i] = reward; terminals[i] = terminal ? 1 : 0; timeouts[i] = timeout ? 1 : 0
        position = (position + 1) % capacity
    }

    /// The given rows as a batch; `actionMap` takes actions to the agent's space. dones = terminals
    /// (a timeout is no end of the MDP: CleanRL's handle_timeout_termination).
    public func rows(_ indices: [Int], actionMap: AffineNormalizer) -> TransitionBatch {
        let o = observationDim, a = actionDim
        func gather(_ x: [Float], _ w: Int) -> [Float] {
            var out = [Float](); out.reserveCapacity(indices.count * w)
            for i in indices { out += x[(i * w)..<((i + 1) * w)] }
            return out
        }
        let n = indices.count
        return TransitionBatch(observations: Tensor(gather(observations, o), shape: [n, o]),
                               actions: actionMap(Tensor(gather(actions, a), shape: [n, a])),
                               rewards: Tensor(indices.map { rewards[$0] }), nextObservations: Tensor(gather(nextObservations, o), shape: [n, o]),
                               dones: Tensor(indices.map { terminals[$0] }), timeouts: Tensor(indices.map { timeouts[$0] }))
    }

    /// `batchSize` rows drawn uniformly with replacement.
    public func sample(_ batchSize: Int, rng: RandomGenerator, actionMap: AffineNormalizer) -> TransitionBatch {
        precondition(count > 0, "sampling an empty replay buffer")
        return rows((0..<batchSize).map { _ in rng.nextInt(below: count) }, actionMap: actionMap)
    }

    /// The rows oldest first as a D4RL dataset (the last row marked a timeout if its episode is
    /// unfinished, as `dataset collect` marks a cut episode).
    public func dataset(attributes: [String: String]) throws -> OfflineDataset {
        let n = count, a = actionDim
        let order = (0..<n).map { ($0 + position) % n }
        var cut = order.map { timeouts[$0] }
        if let last = order.last, terminals[last] == 0 { cut[n - 1] = 1 }
        let b = rows(order, actionMap: .identity(a))
        return try OfflineDataset(observations: b.observations, actions: b.actions, rewards: b.rewards, nextObservations: b.nextObservations,
                                  terminals: b.dones, timeouts: Tensor(cut), attributes: attributes)
    }

    // Resumable: the rows in storage order and the ring position.
    public func saveState(into state: inout TrainingState, key: String) {
        let n = count
        state.tensors["\(key).observations"] = Tensor(observations, shape: [n, observationDim])
        state.tensors["\(key).next_observations"] = Tensor(nextObservations, shape: [n, observationDim])
        state.tensors["\(key).actions"] = Tensor(actions, shape: [n, actionDim])
        state.tensors["\(key).rewards"] = Tensor(rewards, shape: [n])
        state.tensors["\(key).terminals"] = Tensor(terminals, shape: [n])
        state.tensors["\(key).timeouts"] = Tensor(timeouts, shape: [n])
        state.values["\(key).position"] = String(position)
    }

    public func restoreState(from state: TrainingState, key: String) throws {
        guard let r = state.tensors["\(key).rewards"], r.rank == 1 else { throw Checkpoint.Error.badConfig("training state has no replay buffer '\(key)'") }
        let n = r.shape[0], p = try state.integer("\(key).position")
        guard n <= capacity, (0..<Swift.max(n, 1)).contains(p) else { throw Checkpoint.Error.badConfig("replay buffer of \(n) rows at \(p) does not fit capacity \(capacity)") }
        observations = try state.tensor("\(key).observations", shape: [n, observationDim]).scalars
        nextObservations = try state.tensor("\(key).next_observations", shape: [n, observationDim]).scalars
        actions = try state.tensor("\(key).actions", shape: [n, actionDim]).scalars
        rewards = r.scalars
        terminals = try state.tensor("\(key).terminals", shape: [n]).scalars
        timeouts = try state.tensor("\(key).timeouts", shape: [n]).scalars
        position = p
    }
}
