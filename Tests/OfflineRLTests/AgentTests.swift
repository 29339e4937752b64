import Foundation
import NN
import Testing
@testable import OfflineRL
import TensorCore

@Suite(.serialized) struct AgentTests {
    /// A contextual-bandit-like dataset: a* = clip(0.8 s₀ − 0.5 s₁), random actions elsewhere get
    /// reward −(a − a*)², so BC on the expert half and any value method should recover a*.
    func banditData(_ n: Int = 2048, seed: UInt64 = 0) throws -> OfflineDataset {
        let rng = RandomGenerator(seed: seed)
        let s = rng.uniform([n, 2], low: -1, high: 1).scalars
        var a = [Float](), r = [Float]()
        for i in 0..<n {
            let best = max(-1, min(1, 0.8 * s[2 * i] - 0.5 * s[2 * i + 1]))
            let act = i % 2 == 0 ? best : Float(rng.nextDouble() * 2 - 1)
            a.append(act)
            r.append(-(act - best) * (act - best))
        }
        let obs = Tensor(s, shape: [n, 2])
        return try OfflineDataset(observations: obs, actions: Tensor(a, shape: [n, 1]), rewards: Tensor(r), nextObservations: obs,
                                  terminals: Tensor(repeating: 1, shape: [n]), timeouts: Tensor(zeros: [n]))
    }

    func actionError(_ policy: AgentPolicy) -> Double {
        let probe = [[0.5, -0.5], [-0.3, 0.2], [0.9, 0.9], [-0.8, -0.1]]
        let acts = policy.actions(for: probe, environments: [], rng: RandomGenerator(seed: 0))
        return zip(probe, acts).map { abs($1[0] - max(-1, min(1, 0.8 * $0[0] - 0.5 * $0[1]))) }.max()!
    }

    @Test(arguments: AgentAlgorithm.allCases) func learnsTheBandit(_ algorithm: AgentAlgorithm) throws {
        var h = AgentHyperparameters.defaults(for: algorithm)
        h.learningRate = 1e-3
        let data = try banditData()
        // BC sees only the expert half; the value methods see everything and must prefer it.
        let train = algorithm == .bc || algorithm == .bcGaussian ? data.subset(Array(stride(from: 0, to: data.count, by: 2))) : data
        let trainer = try AgentTrainer(dataset: train, algorithm: algorithm, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 1)
        for _ in 0..<600 {
            let m = trainer.trainStep()
            #expect(m.values.allSatisfy { $0.isFinite })
        }
        let err = actionError(trainer.policy())
        #expect(err < 0.25, "\(algorithm): max action error \(err)")
    }

    @Test func checkpointRoundTripAndResumeAreExact() throws {
        let data = try banditData(512)
        var h = AgentHyperparameters.defaults(for: .td3bc)
        h.batchSize = 64
        let bounds = Box(low: [-2], high: [2])
        let straight = try AgentTrainer(dataset: data, algorithm: .td3bc, hyperparameters: h, actionBounds: bounds, seed: 7)
        for _ in 0..<20 { _ = straight.trainStep() }

        let url = temporaryURL("agent.safetensors")
        let first = try AgentTrainer(dataset: data, algorithm: .td3bc, hyperparameters: h, actionBounds: bounds, seed: 7)
        for _ in 0..<10 { _ = first.trainStep() }
        try first.save(to: url, metadata: ["env": "none"])
        let resumed = try AgentTrainer(dataset: data, algorithm: .td3bc, hyperparameters: h, actionBounds: bounds, seed: 7)
        try resumed.resume(from: url)
        #expect(resumed.step == 10)
        for _ in 0..<10 { _ = resumed.trainStep() }
        for ((name, p), (_, q)) in zip(straight.networks.namedParameters(), resumed.networks.namedParameters()) {
            #expect(p.value.scalars == q.value.scalars, "\(name) differs after resume")
        }

        // A loaded policy acts exactly like the trainer's.
        try straight.save(to: url)
        let loaded = try AgentPolicy.load(url)
        let probe = [[0.1, 0.2], [-0.7, 0.4]]
        #expect(loaded.actions(for: probe, environments: [], rng: RandomGenerator(seed: 0))
                == straight.policy().actions(for: probe, environments: [], rng: RandomGenerator(seed: 0)))
        #expect(loaded.actionMap.scale == [2])
    }

    @Test func resumeRejectsDifferentSettings() throws {
        let data = try banditData(512)
        let url = temporaryURL("agent2.safetensors")
        var h = AgentHyperparameters.defaults(for: .iql)
        h.batchSize = 64
        let t = try AgentTrainer(dataset: data, algorithm: .iql, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 0)
        _ = t.trainStep()
        try t.save(to: url)
        h.expectile = 0.9
        let other = try AgentTrainer(dataset: data, algorithm: .iql, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 0)
        #expect(throws: (any Error).self) { try other.resume(from: url) }
    }

    @Test func iqlWithUpdatedValueRuns() throws {
        var h = AgentHyperparameters.defaults(for: .iql)
        h.iqlUpdatedValueForQ = true
        h.batchSize = 64
        let t = try AgentTrainer(dataset: try banditData(256), algorithm: .iql, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 0)
        let v0 = t.networks.value!.namedParameters()[0].1.value.scalars
        for _ in 0..<5 { #expect(t.trainStep().values.allSatisfy { $0.isFinite }) }
        #expect(t.networks.value!.namedParameters()[0].1.value.scalars != v0)
    }
}
