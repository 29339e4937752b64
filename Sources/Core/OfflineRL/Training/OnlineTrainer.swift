import Foundation
import NN
import TensorCore

/// SAC trained online, one environment step and (after `learningStarts`) one update per step —
/// CleanRL's sac_continuous_action.py main loop. The whole run is resumable bit for bit: weights,
/// optimizers, targets, the replay buffer, every random stream, and the environment mid-episode
/// (re-created by replaying the episode's actions from its seeded reset; the simulators are
/// deterministic, docs/environments.md).
public final class OnlineTrainer: Trainer {
    public let settings: SACSettings
    public let environment: any Environment
    public let agent: SAC
    public let buffer: ReplayBuffer
    /// Identity on observations (CleanRL does not normalize them); the action box onto [−1, 1].
    public let preprocessing: TransitionPreprocessing
    /// Exploration before `learningStarts` and minibatch draws.
    let rng: RandomGenerator
    let episode: EpisodeCursor
    public var step = 0

    public init(environment: any Environment, settings: SACSettings) throws {
        if let error = settings.validationError() { throw DataFileError.unsupported("sac: \(error)") }
        let spec = environment.spec
        self.settings = settings
        self.environment = environment
        preprocessing = TransitionPreprocessing(observationNormalizer: .identity(spec.observationSpace.dimension),
                                                actionMap: .box(low: spec.actionSpace.low, high: spec.actionSpace.high))
        // One stream: networks, then SAC's noise, then the episodes' reset seeds, then exploration and batches.
        let master = RandomGenerator(seed: settings.seed)
        let networks = AgentNetworks(config: .init(algorithm: .sac, observationDim: spec.observationSpace.dimension,
                                                   actionDim: spec.actionSpace.dimension, hidden: settings.hidden), rng: master.fork())
        agent = SAC(networks: networks, settings: settings, rng: master.fork())
        episode = EpisodeCursor(environment: environment, seed: master.nextUInt64())
        rng = master.fork()
        buffer = ReplayBuffer(capacity: settings.bufferSize, observationDim: spec.observationSpace.dimension, actionDim: spec.actionSpace.dimension)
    }

    public func trainStep() throws -> [String: Float] {
        // Act: uniform random actions before learning starts, then ã ~ π(· | s) (CleanRL).
        let s = episode.observation
        let action: [Double]
        if step < settings.learningStarts {
            action = randomAction(environment.spec.actionSpace, rng: rng).map { Double(Float($0)) }
        } else {
            let a = noGrad { agent.sample(Tensor(s.map(Float.init), shape: [1, s.count])).action }
            action = preprocessing.actionMap.inverse(a.scalars).map(Double.init)
        }
        let r = try episode.step(action)
        buffer.add(observation: s.map(Float.init), action: action.map(Float.init), reward: Float(r.reward),
                   nextObservation: r.observation.map(Float.init), terminal: r.terminated, timeout: r.truncated)

        // Learn once the buffer holds learningStarts transitions (CleanRL: global_step > learning_starts).
        var metrics: [String: Float] = [:]
        if step > settings.learningStarts {
            metrics = agent.update(buffer.sample(settings.batchSize, rng: rng, actionMap: preprocessing.actionMap))
        }
        step += 1
        if let last = episode.lastReturn { metrics["episode_return"] = Float(last) }
        return metrics
    }

    /// The current actor as a policy (its mean action, tanh μ(s)) in environment units.
    public func policy(metadata: [String: String] = [:]) -> any Policy {
        agent.policy(preprocessing: preprocessing, metadata: metadata)
    }

    // Trainer: the networks, SAC's state, the buffer, the streams and the episode under way.
    public var savedModule: any ConfigurableModule { agent.networks }
    public var resumableParts: [(String, any Resumable)] { [("algorithm", agent), ("buffer", buffer), ("exploration", rng), ("episode", episode)] }
    /// What `AgentPolicy.load` reads, and what a resume must find unchanged.
    public var resumeSettings: [String: String] {
        ["observation_normalizer": canonicalJSON(preprocessing.observationNormalizer), "action_map": canonicalJSON(preprocessing.actionMap),
         "hyperparameters": agent.settingsJSON, "env": environment.spec.name]
    }
}

/// The episode an online run is in: its index (episode k resets with seed + k), the actions taken
/// since the reset, and the running return. Saved as the actions; restored by replaying them.
final class EpisodeCursor: Resumable {
    let environment: any Environment
    let seed: UInt64
    private(set) var index = 0
    private(set) var actions: [[Double]] = []
    private(set) var observation: [Double]
    private(set) var episodeReturn = 0.0
    /// The return of the last finished episode.
    private(set) var lastReturn: Double?

    init(environment: any Environment, seed: UInt64) {
        self.environment = environment
        self.seed = seed
        observation = environment.reset(seed: seed)
    }

    /// One environment step; a finished episode starts the next one.
    func step(_ action: [Double]) throws -> StepResult {
        let r = environment.step(action)
        if let failure = environment.failure { throw EnvironmentError.simulationFailed("episode \(index): \(failure)") }
        actions.append(action)
        episodeReturn += r.reward
        observation = r.observation
        if r.terminated || r.truncated { start(index + 1, lastReturn: episodeReturn) }
        return r
    }

    private func start(_ k: Int, lastReturn: Double?) {
        index = k
        self.lastReturn = lastReturn
        actions = []
        episodeReturn = 0
        observation = environment.reset(seed: seed &+ UInt64(k))
    }

    // Doubles as text round-trip exactly (Swift prints the shortest representation that reads back).
    func saveState(into state: inout TrainingState, key: String) {
        state.values["\(key).index"] = String(index)
        state.values["\(key).actions"] = actions.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: ";")
        state.values["\(key).last_return"] = lastReturn.map { "\($0)" } ?? ""
    }

    func restoreState(from state: TrainingState, key: String) throws {
        let k = try state.integer("\(key).index"), text = try state.value("\(key).actions")
        let width = environment.spec.actionSpace.dimension
        let steps = try text.isEmpty ? [] : text.split(separator: ";").map { row -> [Double] in
            let a = row.split(separator: ",").compactMap { Double($0) }
            guard a.count == width else { throw Checkpoint.Error.badConfig("training state '\(key).actions' is malformed") }
            return a
        }
        let last = try state.value("\(key).last_return")
        start(k, lastReturn: last.isEmpty ? nil : Double(last))
        for a in steps { _ = try step(a) }
    }
}
