import Foundation
import NN
import TensorCore

/// One algorithm's losses for a minibatch (already normalized). Losses of different networks must
/// touch disjoint parameters, so one backward pass and one Adam step per network serve them all.
protocol AgentUpdate: AnyObject {
    func losses(_ batch: TransitionBatch, rng: RandomGenerator) -> (total: Tensor, metrics: [String: Tensor])
}

/// Trains an offline agent on a dataset: normalizes once (observations z-scored, actions mapped
/// from the env's bounds to [−1, 1], rewards optionally rescaled), then runs minibatch updates.
/// Resumable: `save` writes networks, targets, optimizer moments, RNG and sampler position.
public final class AgentTrainer {
    public let algorithm: AgentAlgorithm
    public let hyperparameters: AgentHyperparameters
    public let networks: AgentNetworks
    let targets: AgentNetworks
    let optimizer: Adam
    let update: AgentUpdate
    let sampler: MinibatchSampler
    let rng: RandomGenerator
    public let observationNormalizer: AffineNormalizer
    public let actionMap: AffineNormalizer
    public let rewardMultiplier: Float
    private let data: TransitionBatch
    public private(set) var step = 0

    /// `actionBounds`: the environment's action box (raw dataset actions are mapped from it).
    public init(dataset: OfflineDataset, algorithm: AgentAlgorithm, hyperparameters h: AgentHyperparameters,
                actionBounds: Box, seed: UInt64) throws {
        guard actionBounds.dimension == dataset.actionDim else {
            throw DataFileError.unsupported("the action bounds have \(actionBounds.dimension) dimensions, the dataset's actions \(dataset.actionDim)")
        }
        guard dataset.count >= h.batchSize else {
            throw DataFileError.unsupported("the dataset has \(dataset.count) transitions, fewer than one batch of \(h.batchSize)")
        }
        self.algorithm = algorithm
        self.hyperparameters = h
        observationNormalizer = h.normalizeObservations ? .zScore(dataset.observations) : .identity(dataset.observationDim)
        actionMap = .box(low: actionBounds.low, high: actionBounds.high)
        if h.rewardScale > 0 {
            let returns = dataset.episodeSummaries().map(\.return)
            let range = (returns.max() ?? 1) - (returns.min() ?? 0)
            rewardMultiplier = range > 0 ? h.rewardScale / Float(range) : 1
        } else {
            rewardMultiplier = 1
        }
        let done = h.bootstrapping == .terminalsOnly ? dataset.terminals : Tensor.maximum(dataset.terminals, dataset.timeouts)
        data = TransitionBatch(observations: observationNormalizer(dataset.observations),
                               actions: actionMap(dataset.actions).clamped(min: -1, max: 1),
                               rewards: dataset.rewards * rewardMultiplier,
                               nextObservations: observationNormalizer(dataset.nextObservations),
                               terminals: done, timeouts: dataset.timeouts, costs: nil)  // agents ignore costs
        rng = RandomGenerator(seed: seed)
        networks = AgentNetworks(config: .init(algorithm: algorithm, observationDim: dataset.observationDim, actionDim: dataset.actionDim),
                                 rng: rng.fork())
        targets = networks.clone()
        targets.freeze()
        // IQL with the just-updated V steps V on its own first (its own Adam); otherwise one Adam over all.
        let separateValue = algorithm == .iql && h.iqlUpdatedValueForQ
        let config = Adam.Config(learningRate: h.learningRate, eps: h.adamEps)
        let valueNames = Set(networks.namedParameters().filter { $0.0.hasPrefix("value.") }.map(\.0))
        optimizer = Adam(parameters: networks.trainableParameters().filter { !separateValue || !valueNames.contains($0.0) }, config: config)
        let valueOptimizer = separateValue ? Adam(parameters: networks.trainableParameters().filter { valueNames.contains($0.0) }, config: config) : nil
        sampler = MinibatchSampler(count: dataset.count, batchSize: h.batchSize, seed: rng.nextUInt64())
        switch algorithm {
        case .bc, .bcGaussian: update = BehaviorCloning(networks: networks)
        case .td3bc: update = TD3BC(networks: networks, targets: targets, hyperparameters: h)
        case .iql: update = IQL(networks: networks, targets: targets, hyperparameters: h, valueOptimizer: valueOptimizer)
        }
    }

    /// One update; returns the step's metrics.
    public func trainStep() -> [String: Float] {
        if algorithm == .td3bc || algorithm == .iql {
            // Polyak at the start of each step (the targets start as copies: step 0 copies).
            interpolateParameters(into: targets, from: networks, weight: step == 0 ? 1 : hyperparameters.polyak)
        }
        let idx = sampler.next()
        let batch = data.rows(idx)
        let (total, metrics) = update.losses(batch, rng: rng)
        optimizer.zeroGrad()
        total.backward()
        optimizer.update()
        step += 1
        return metrics.mapValues { $0.item }
    }

    /// The current actor as a policy in environment units.
    public func policy(metadata: [String: String] = [:]) -> AgentPolicy {
        AgentPolicy(networks: networks, observationNormalizer: observationNormalizer, actionMap: actionMap, metadata: metadata)
    }

    private func json<T: Encodable>(_ v: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(v)) ?? Data(), as: UTF8.self)
    }

    /// Writes the agent (atomically) with everything needed to evaluate it and to resume training.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        var meta = metadata
        meta["observation_normalizer"] = json(observationNormalizer)
        meta["action_map"] = json(actionMap)
        meta["hyperparameters"] = json(hyperparameters)
        meta["reward_multiplier"] = String(rewardMultiplier)
        var tensors = optimizer.stateTensors()
        if let v = (update as? IQL)?.valueOptimizer { tensors.merge(v.stateTensors(prefix: "optimizer.value_only")) { a, _ in a } }
        for (name, p) in targets.namedParameters() { tensors["ema.targets.\(name)"] = p.value }
        let state = TrainingState(step: step, rng: rng.state, tensors: tensors,
                                  values: ["sampler.epoch": String(sampler.epoch), "sampler.offset": String(sampler.offset)])
        try Checkpoint.save(networks, to: url, metadata: meta, training: state)
    }

    /// Restores a run saved by `save` (same dataset and settings) so it continues bit-identically.
    public func resume(from url: URL) throws {
        let (loaded, meta, training) = try Checkpoint.load(AgentNetworks.self, from: url)
        guard let training else { throw Checkpoint.Error.badConfig("\(url.path) has no training state to resume") }
        guard loaded.config == networks.config, meta["hyperparameters"] == json(hyperparameters),
              meta["observation_normalizer"] == json(observationNormalizer) else {
            throw Checkpoint.Error.badConfig("\(url.path) was trained with different settings or data")
        }
        networks.copyParameters(from: loaded)
        var targetState: [String: Tensor] = [:]
        for (name, _) in targets.namedParameters() {
            guard let t = training.tensors["ema.targets.\(name)"] else { throw SafeTensorsError.missingTensor("ema.targets.\(name)") }
            targetState[name] = t
        }
        try targets.load(stateDict: targetState)
        try optimizer.loadState(training.tensors, step: training.step)
        try (update as? IQL)?.valueOptimizer?.loadState(training.tensors, step: training.step, prefix: "optimizer.value_only")
        sampler.restore(epoch: Int(training.values["sampler.epoch"] ?? "0") ?? 0, offset: Int(training.values["sampler.offset"] ?? "0") ?? 0)
        rng.restore(training.rng)
        step = training.step
    }
}
