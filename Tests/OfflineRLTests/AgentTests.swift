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

    @Test(arguments: AgentAlgorithm.offline) func learnsTheBandit(_ algorithm: AgentAlgorithm) throws {
        var h = AgentHyperparameters.defaults(for: algorithm)
        h.learningRate = 1e-3
        let data = try banditData()
        // BC sees only the expert half; the value methods see everything and must prefer it.
        let train = algorithm == .bc || algorithm == .bcGaussian ? data.subset(Array(stride(from: 0, to: data.count, by: 2))) : data
        let trainer = try OfflineTrainer(dataset: train, algorithm: algorithm, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 1)
        for _ in 0..<600 {
            let m = trainer.trainStep()
            #expect(m.values.allSatisfy { $0.isFinite })
        }
        let err = actionError(trainer.policy() as! AgentPolicy)
        #expect(err < 0.25, "\(algorithm): max action error \(err)")
    }

    @Test func checkpointRoundTripAndResumeAreExact() throws {
        let data = try banditData(512)
        var h = AgentHyperparameters.defaults(for: .td3bc)
        h.batchSize = 64
        let bounds = Box(low: [-2], high: [2])
        let straight = try OfflineTrainer(dataset: data, algorithm: .td3bc, hyperparameters: h, actionBounds: bounds, seed: 7)
        for _ in 0..<20 { _ = straight.trainStep() }

        let url = temporaryURL("agent.safetensors")
        let first = try OfflineTrainer(dataset: data, algorithm: .td3bc, hyperparameters: h, actionBounds: bounds, seed: 7)
        for _ in 0..<10 { _ = first.trainStep() }
        try first.save(to: url, metadata: ["env": "none"])
        let resumed = try OfflineTrainer(dataset: data, algorithm: .td3bc, hyperparameters: h, actionBounds: bounds, seed: 7)
        try resumed.resume(from: url)
        #expect(resumed.step == 10)
        for _ in 0..<10 { _ = resumed.trainStep() }
        for ((name, p), (_, q)) in zip(straight.algorithm.networks.namedParameters(), resumed.algorithm.networks.namedParameters()) {
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
        let t = try OfflineTrainer(dataset: data, algorithm: .iql, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 0)
        _ = t.trainStep()
        try t.save(to: url)
        h.expectile = 0.9
        let other = try OfflineTrainer(dataset: data, algorithm: .iql, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 0)
        #expect(throws: (any Error).self) { try other.resume(from: url) }
    }

    @Test func iqlWithUpdatedValueRuns() throws {
        var h = AgentHyperparameters.defaults(for: .iql)
        h.iqlUpdatedValueForQ = true
        h.batchSize = 64
        let t = try OfflineTrainer(dataset: try banditData(256), algorithm: .iql, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 0)
        let networks = t.algorithm.networks as! AgentNetworks
        let v0 = networks.value!.namedParameters()[0].1.value.scalars
        for _ in 0..<5 { #expect(t.trainStep().values.allSatisfy { $0.isFinite }) }
        #expect(networks.value!.namedParameters()[0].1.value.scalars != v0)
    }

    /// log π(a | s) equals the closed form: a Gaussian on the normalized action a_n = (a − c)/h with
    /// the actor's mean (σ = 1 for deterministic actors, exp(clip(log σ)) otherwise), minus Σ log h.
    @Test(arguments: [AgentAlgorithm.td3bc, .iql]) func logProbabilityMatchesClosedForm(_ algorithm: AgentAlgorithm) throws {
        let rng = RandomGenerator(seed: 3)
        let networks = AgentNetworks(config: .init(algorithm: algorithm, observationDim: 3, actionDim: 2), rng: rng)
        if let logStd = networks.logStd { logStd.value = Tensor([-0.7, 0.4]) }
        let policy = AgentPolicy(networks: networks, observationNormalizer: .init(shift: [0.5, -1, 2], scale: [2, 0.5, 1]),
                                 actionMap: .box(low: [-2, 0], high: [2, 1]))
        let s = rng.normal([5, 3]), a = Tensor([-1.5, 0.2, 0.3, 0.9, 1.9, 0.5, 0, 0.05, -0.2, 0.7], shape: [5, 2])
        let logp = noGrad { policy.logProbability(observations: s, actions: a) }.scalars
        let mu = noGrad { networks.actor(policy.observationNormalizer(s)) }.scalars
        let sigma: [Double] = algorithm == .iql ? [exp(-0.7), exp(0.4)] : [1, 1]
        let (centre, half): ([Double], [Double]) = ([0, 0.5], [2, 0.5])
        for i in 0..<5 {
            var expected = 0.0
            for j in 0..<2 {
                let an = (Double(a.scalars[2 * i + j]) - centre[j]) / half[j]
                let z = (an - Double(mu[2 * i + j])) / sigma[j]
                expected += -0.5 * z * z - log(sigma[j]) - 0.5 * log(2 * Double.pi) - log(half[j])
            }
            #expect(abs(Double(logp[i]) - expected) < 1e-4 * max(1, abs(expected)), "row \(i): \(logp[i]) vs \(expected)")
        }
        // Differentiable in the actions: ∂/∂a_j = −(a_n − μ)/σ² / h_j.
        let g = Tensor.gradient(at: a) { policy.logProbability(observations: s, actions: $0).sum() }.scalars
        for i in 0..<5 {
            for j in 0..<2 {
                let an = (Double(a.scalars[2 * i + j]) - centre[j]) / half[j]
                let expected = -(an - Double(mu[2 * i + j])) / (sigma[j] * sigma[j]) / half[j]
                #expect(abs(Double(g[2 * i + j]) - expected) < 1e-4 * max(1, abs(expected)))
            }
        }
    }

    /// Batch sources: a mixture takes its fixed rows from each pool, rows within a batch are
    /// distinct, a replaced pool is drawn from at once, and positions resume exactly.
    @Test func batchSourcesMixReplaceAndResume() throws {
        func pool(_ n: Int, value: Float) -> TransitionBatch {
            let obs = Tensor((0..<n).map { Float($0) + value }, shape: [n, 1])
            return TransitionBatch(observations: obs, actions: Tensor(zeros: [n, 1]), rewards: Tensor(repeating: value, shape: [n]),
                                   nextObservations: obs, dones: Tensor(zeros: [n]), timeouts: Tensor(zeros: [n]))
        }
        let synthetic = pool(1000, value: 10_000), real = pool(100, value: 0)
        let mixed = MixedBatches(synthetic, real, fractionOfFirst: 240.0 / 256, batchSize: 256, seed: 1)
        #expect(mixed.batchSize == 256)
        for _ in 0..<20 {
            let b = mixed.next().rewards.scalars
            #expect(b.filter { $0 == 10_000 }.count == 240 && b.filter { $0 == 0 }.count == 16)
        }
        let distinct = TransitionSampler(real, batchSize: 100, mode: .distinctInBatch, seed: 2)
        #expect(Set(distinct.next().observations.scalars).count == 100)
        let independent = TransitionSampler(real, batchSize: 100, mode: .withReplacement, seed: 2)
        #expect(Set(independent.next().observations.scalars).count < 100)  // 100 draws of 100 rows repeat (p ≈ 1 − 1e-42)

        let s = TransitionSampler(synthetic, batchSize: 32, mode: .epochs, seed: 3)
        s.replace(with: pool(64, value: 5_000))
        #expect(s.next().rewards.scalars.allSatisfy { $0 == 5_000 })
        var state = TrainingState(step: 0, rng: RandomState(seed: 0, counter: 0))
        state.save([("mixed", mixed), ("s", s)])
        let expected = (mixed.next().observations.scalars, s.next().observations.scalars)
        let mixed2 = MixedBatches(synthetic, real, fractionOfFirst: 240.0 / 256, batchSize: 256, seed: 1)
        let s2 = TransitionSampler(synthetic, batchSize: 32, mode: .epochs, seed: 3)
        #expect(throws: (any Error).self) { try state.restore([("s", s2)]) }  // the pool was replaced since
        s2.replace(with: pool(64, value: 5_000))
        try state.restore([("mixed", mixed2), ("s", s2)])
        #expect(mixed2.next().observations.scalars == expected.0 && s2.next().observations.scalars == expected.1)
    }
}
