import Foundation
import NN
import Testing
@testable import OfflineRL
import TensorCore

/// SAC (docs/environments.md §7): the squashed Gaussian's density, the soft Bellman target, and learning.
@Suite(.serialized) struct SACTests {
    /// log π of tanh(N(μ, σ²)) at a = 0 by hand: log N(0; 0.3, 0.5²) − log(1 − 0 + 1e-6); and the density
    /// integrates to one over (−1, 1) (the change of variables is right).
    @Test func squashedDensityIsNormalized() {
        let mean = Tensor([0.3], shape: [1, 1]), logStd = Tensor([Float(Foundation.log(0.5))], shape: [1, 1])
        let at0 = AgentNetworks.squashedLogProbability(preTanh: Tensor([0], shape: [1, 1]), action: Tensor([0], shape: [1, 1]),
                                                       mean: mean, logStd: logStd).item
        let hand = -0.5 * (0.3 / 0.5) * (0.3 / 0.5) - Foundation.log(0.5) - 0.5 * Foundation.log(2 * Double.pi) - Foundation.log(1 + 1e-6)
        #expect(abs(Double(at0) - hand) < 1e-5)
        let n = 20_000
        let a = (0..<n).map { Float(-1 + (Double($0) + 0.5) * 2 / Double(n)) }
        let x = Tensor(a, shape: [n, 1])
        let logp = AgentNetworks.squashedLogProbability(preTanh: x.atanh(), action: x, mean: Tensor(repeating: 0.3, shape: [n, 1]),
                                                        logStd: Tensor(repeating: Float(Foundation.log(0.5)), shape: [n, 1]))
        let integral = logp.scalars.reduce(0.0) { $0 + Foundation.exp(Double($1)) } * 2 / Double(n)
        #expect(abs(integral - 1) < 1e-3, "∫π = \(integral)")
    }

    /// With every row terminal, the soft target is the reward alone: the critic loss the update reports
    /// is mean (Q₁ − r)² + mean (Q₂ − r)² computed from the critics before the step.
    @Test func terminalRowsTargetTheReward() {
        var s = SACSettings()
        s.hidden = [8, 8]
        let networks = AgentNetworks(config: .init(algorithm: .sac, observationDim: 2, actionDim: 1, hidden: [8, 8]), rng: RandomGenerator(seed: 1))
        let sac = SAC(networks: networks, settings: s, rng: RandomGenerator(seed: 2))
        let rng = RandomGenerator(seed: 3)
        let obs = rng.uniform([6, 2], low: -1, high: 1), act = rng.uniform([6, 1], low: -1, high: 1), r = rng.uniform([6], low: -1, high: 1)
        let batch = TransitionBatch(observations: obs, actions: act, rewards: r, nextObservations: obs, dones: Tensor(ones: [6]), timeouts: Tensor(zeros: [6]))
        let q1 = AgentNetworks.q(networks.critic1!, obs, act).scalars, q2 = AgentNetworks.q(networks.critic2!, obs, act).scalars
        let hand = (0..<6).reduce(0.0) { acc, i in
            let e1 = Double(q1[i] - r.scalars[i]), e2 = Double(q2[i] - r.scalars[i])
            return acc + (e1 * e1 + e2 * e2) / 6
        }
        let m = sac.update(batch)
        #expect(abs(Double(m["critic_loss"]!) - hand) < 1e-5 * max(1, hand))
        // The first update is not a policy update (CleanRL: the actor moves on even global steps).
        #expect(m["actor_loss"] == nil && m["alpha"] == 1)
        let m2 = sac.update(batch)
        #expect(m2["actor_loss"] != nil && m2["alpha"]! < 1, "α moves toward the entropy target")
    }

    /// Offline on the contextual bandit of AgentTests (reward −(a − a*)², every row terminal), SAC's mean
    /// action finds a* as the other value methods do.
    @Test func learnsTheBandit() throws {
        let data = try AgentTests().banditData()
        var h = AgentHyperparameters()
        h.batchSize = 128
        let trainer = try OfflineTrainer(dataset: data, algorithm: .sac, hyperparameters: h, actionBounds: Box(repeating: 1, count: 1), seed: 1)
        for _ in 0..<800 {
            let m = trainer.trainStep()
            #expect(m.values.allSatisfy { $0.isFinite })
        }
        let err = AgentTests().actionError(trainer.policy() as! AgentPolicy)
        #expect(err < 0.25, "max action error \(err)")
    }
}
