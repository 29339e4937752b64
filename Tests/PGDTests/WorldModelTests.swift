import Foundation
import NN
import OfflineRL
@testable import PGD
import Testing
import TensorCore

@Suite("World model (the autoregressive baseline of PGD)")
struct WorldModelTests {
    nonisolated(unsafe) static let data: OfflineDataset = try! DataCollection.collect(environment: "pendulum", quality: .mixed, steps: 5000, seed: 1)
    static var pendulum: Pendulum { Pendulum() }
    static let small = WorldModel.Architecture(ensemble: 3, hidden: [32, 32])

    static func policy() -> AgentPolicy {
        let networks = AgentNetworks(config: .init(algorithm: .td3bc, observationDim: 3, actionDim: 1, hidden: [16, 16]), rng: RandomGenerator(seed: 4))
        return AgentPolicy(networks: networks, observationNormalizer: .zScore(data.observations), actionMap: .box(low: [-2], high: [2]))
    }

    static func trainer(_ architecture: WorldModel.Architecture = small, steps: Int = 12, data: OfflineDataset = data) throws -> WorldModelTrainer {
        try WorldModelTrainer(dataset: data, actionBounds: pendulum.spec.actionSpace, architecture: architecture,
                              settings: WorldModelTrainingSettings(steps: steps, batchSize: 64, seed: 3))
    }

    /// `data` with its next observations replaced.
    static func withNext(_ data: OfflineDataset, _ next: Tensor) -> OfflineDataset {
        var d = data
        d.nextObservations = next
        return d
    }

    /// A short training of the default ensemble (MBPO's 4 × 200 SiLU, Gaussian NLL) predicts fresh
    /// pendulum transitions far better than s′ = s, measured against the exact transition function.
    /// Thresholds fixed before the first run: the dynamics error at most a tenth of the identity's,
    /// and every member's validation MSE (z-scored targets, where predicting 0 scores ≈ 1) at most 0.05.
    /// One thread: the two cases run concurrently on few cores.
    @Test(arguments: [true, false])
    func oneStepErrorFallsWellBelowTheIdentity(probabilistic: Bool) throws {
        let trainer = try WorldModelTrainer(dataset: Self.data, actionBounds: Self.pendulum.spec.actionSpace,
                                            architecture: WorldModel.Architecture(probabilistic: probabilistic),
                                            settings: WorldModelTrainingSettings(steps: 1000, seed: 3))
        #expect(trainer.validation.count == 250)
        let before = trainer.validationMSE()
        Threads.withCount(1) { for _ in 0..<1000 { #expect(trainer.trainStep()["loss"]!.isFinite) } }
        let mse = trainer.validationMSE()
        #expect(mse.count == 5 && mse.allSatisfy { $0 <= 0.05 }, "validation MSE \(mse) (before training \(before))")

        let fresh = try DataCollection.collect(environment: "pendulum", quality: .mixed, steps: 1000, seed: 2)
        let predicted = trainer.model.predict(observations: fresh.observations, actions: fresh.actions).nextObservations
        let model = try Self.pendulum.dynamicsErrors(of: Self.withNext(fresh, predicted)).reduce(0, +) / Double(fresh.count)
        let identity = try Self.pendulum.dynamicsErrors(of: Self.withNext(fresh, fresh.observations)).reduce(0, +) / Double(fresh.count)
        #expect(model <= 0.1 * identity, "one-step error \(model) vs identity \(identity)")
        // The stored next observations are the exact transitions: the same error through the data.
        let viaData = trainer.model.oneStepError(on: fresh)
        #expect(abs(viaData.model - model) <= 1e-4 * identity && abs(viaData.identity - identity) <= 1e-4 * identity)
    }

    /// Rollouts: exactly n rows, rollout-major episodes of `horizon` steps ending in timeouts (the last
    /// cut), no terminals, finite values, each row's s′ the next row's s, actions the policy's clipped
    /// mean, starts from the data; the same seed gives the same rows, another seed other rows.
    @Test func rolloutsHaveTheRequestedShape() throws {
        let trainer = try Self.trainer()
        for _ in 0..<12 { _ = trainer.trainStep() }
        let model = trainer.model, policy = Self.policy()
        let box = Self.pendulum.spec.observationSpace
        let r = try model.rollout(transitions: 300, from: Self.data, policy: policy, observationSpace: box, seed: 7)
        let d = r.dataset
        #expect(r.rollouts == 3 && d.count == 300 && d.observationDim == 3 && d.actionDim == 1)
        #expect(d.terminals.scalars.allSatisfy { $0 == 0 })
        #expect(d.timeouts.scalars.indices.filter { d.timeouts.scalars[$0] == 1 } == [126, 253, 299])
        #expect(d.episodes.map(\.count) == [127, 127, 46])
        #expect(d.observations.isFinite && d.nextObservations.isFinite && d.rewards.isFinite)
        let (s, s2) = (d.observations.scalars, d.nextObservations.scalars)
        for i in 0..<299 where d.timeouts.scalars[i] == 0 { #expect(Array(s[(3 * i + 3)..<(3 * i + 6)]) == Array(s2[(3 * i)..<(3 * i + 3)])) }
        // Step t acted on the batch of rows t, 127 + t, 254 + t (replicated exactly where all three are kept).
        let a = d.actions.scalars
        #expect(a.allSatisfy { $0 >= -2 && $0 <= 2 })
        for t in 0..<46 {
            let batch = [t, 127 + t, 254 + t]
            let expected = noGrad { policy.actionMap.inverse(policy.mean(observations: d.observations.indexSelect(axis: 0, batch))) }
            #expect(batch.map { a[$0] } == expected.clamped(min: -2, max: 2).scalars)
        }
        let rows = Set((0..<Self.data.count).map { Array(Self.data.observations.scalars[(3 * $0)..<(3 * $0 + 3)]) })
        for start in [0, 127, 254] { #expect(rows.contains(Array(s[(3 * start)..<(3 * start + 3)]))) }
        let fraction = try #require(r.outOfBoundsFraction)
        #expect(fraction >= 0 && fraction <= 1)

        let again = try model.rollout(transitions: 300, from: Self.data, policy: policy, observationSpace: box, seed: 7).dataset
        #expect(again.observations.scalars == s && again.rewards.scalars == d.rewards.scalars)
        #expect(try model.rollout(transitions: 300, from: Self.data, policy: policy, seed: 8).dataset.observations.scalars != s)
        // Fewer rows than one horizon: one cut rollout.
        let short = try model.rollout(transitions: 50, from: Self.data, policy: policy, seed: 7).dataset
        #expect(short.count == 50 && short.timeouts.scalars.indices.filter { short.timeouts.scalars[$0] == 1 } == [49])

        // Clipping keeps every s′ in the box; it needs a box.
        let clipped = try model.rollout(transitions: 300, from: Self.data, policy: policy,
                                        settings: RolloutSettings(clipObservations: true), observationSpace: box, seed: 7).dataset
        let c = clipped.nextObservations.scalars
        #expect(c.indices.allSatisfy { c[$0] >= Float(box.low[$0 % 3]) && c[$0] <= Float(box.high[$0 % 3]) })
        #expect(throws: WorldModelError.clipWithoutBox) {
            try model.rollout(transitions: 10, from: Self.data, policy: policy, settings: RolloutSettings(clipObservations: true), seed: 7)
        }
    }

    /// Without sampling, a one-member model's rollout steps are its mean predictions.
    @Test func meanRolloutsFollowThePrediction() throws {
        let trainer = try Self.trainer(WorldModel.Architecture(ensemble: 1, hidden: [32, 32]))
        for _ in 0..<5 { _ = trainer.trainStep() }
        let d = try trainer.model.rollout(transitions: 40, from: Self.data, policy: Self.policy(),
                                          settings: RolloutSettings(horizon: 10, sample: false), seed: 1).dataset
        for t in 0..<10 {
            let batch = [t, 10 + t, 20 + t, 30 + t]  // the four rollouts' step t, predicted together
            let p = trainer.model.predict(observations: d.observations.indexSelect(axis: 0, batch), actions: d.actions.indexSelect(axis: 0, batch), member: 0)
            #expect(p.nextObservations.scalars == d.nextObservations.indexSelect(axis: 0, batch).scalars
                    && p.rewards.scalars == d.rewards.indexSelect(axis: 0, batch).scalars)
        }
        // A sampled rollout from the same starts differs.
        let sampled = try trainer.model.rollout(transitions: 40, from: Self.data, policy: Self.policy(), settings: RolloutSettings(horizon: 10), seed: 1).dataset
        #expect(sampled.observations.slice(axis: 0, 0..<1).scalars == d.observations.slice(axis: 0, 0..<1).scalars)
        #expect(sampled.nextObservations.scalars != d.nextObservations.scalars)
    }

    /// Stopping, saving and resuming equals the straight run bit for bit; the checkpoint refuses other
    /// settings and other data.
    @Test func resumeIsBitIdentical() throws {
        let straight = try Self.trainer()
        for _ in 0..<12 { _ = straight.trainStep() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pd-wm-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = try Self.trainer()
        for _ in 0..<7 { _ = first.trainStep() }
        try first.save(to: url)
        let resumed = try Self.trainer()
        try resumed.resume(from: url)
        #expect(resumed.step == 7)
        for _ in 7..<12 { _ = resumed.trainStep() }
        for ((n, a), (_, b)) in zip(straight.model.namedParameters(), resumed.model.namedParameters()) {
            #expect(a.value.scalars == b.value.scalars, "\(n) differs after resume")
        }
        #expect(throws: Checkpoint.Error.self) { try Self.trainer(steps: 13).resume(from: url) }
        let other = try DataCollection.collect(environment: "pendulum", quality: .mixed, steps: 1000, seed: 9)
        #expect(throws: Checkpoint.Error.self) { try Self.trainer(data: other).resume(from: url) }
    }

    /// A saved model loads with its normalizers and predicts (and rolls out) exactly as before.
    @Test func checkpointRoundTripPredictsIdentically() throws {
        let trainer = try Self.trainer()
        for _ in 0..<6 { _ = trainer.trainStep() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pd-wm-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try trainer.save(to: url, metadata: ["env": "pendulum"])
        let (loaded, metadata, _) = try Checkpoint.load(WorldModel.self, from: url)
        #expect(loaded.config == trainer.model.config && metadata["env"] == "pendulum")
        for member in [nil, 0, 2] as [Int?] {
            let a = trainer.model.predict(observations: Self.data.observations, actions: Self.data.actions, member: member)
            let b = loaded.predict(observations: Self.data.observations, actions: Self.data.actions, member: member)
            #expect(a.nextObservations.scalars == b.nextObservations.scalars && a.rewards.scalars == b.rewards.scalars)
        }
        let a = try trainer.model.rollout(transitions: 200, from: Self.data, policy: Self.policy(), seed: 5).dataset
        let b = try loaded.rollout(transitions: 200, from: Self.data, policy: Self.policy(), seed: 5).dataset
        #expect(a.nextObservations.scalars == b.nextObservations.scalars && a.actions.scalars == b.actions.scalars)
        // A policy of other sizes is refused.
        let wrong = AgentPolicy(networks: AgentNetworks(config: .init(algorithm: .bc, observationDim: 4, actionDim: 2, hidden: [8]), rng: RandomGenerator(seed: 0)),
                                observationNormalizer: .identity(4), actionMap: .box(low: [-1, -1], high: [1, 1]))
        #expect(throws: WorldModelError.self) { try loaded.rollout(transitions: 10, from: Self.data, policy: wrong, seed: 0) }
    }
}
