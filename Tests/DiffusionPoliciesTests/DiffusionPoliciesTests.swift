import Diffusion
import DiffusionPolicies
import Foundation
import NN
import OfflineRL
import TensorCore
import Testing

/// Tiny settings for fast tests: a 1-block residual actor and one-layer critics.
func tinySettings(_ algorithm: DiffusionAlgorithm) -> DiffusionPolicySettings {
    var s = DiffusionPolicySettings(algorithm: algorithm)
    s.actorWidth = 16; s.actorHidden = 16; s.actorBlocks = 1; s.dropout = 0
    s.criticHidden = [4]
    return s
}

@Suite("Diffusion policies")
struct DiffusionPoliciesTests {
    /// Critics built by hand so that Q(s, a) = a₀ + 2 on [−1, 1]: the argmax-Q selector must pick,
    /// for every state, the candidate with the largest first action coordinate.
    @Test func idqlArgmaxPicksTheBestCandidateOnHandBuiltCritics() {
        var s = tinySettings(.idql)
        s.candidates = 4
        s.selection = .argmaxQ
        let networks = DiffusionPolicyNetworks(config: .init(observationDim: 2, actionDim: 1, settings: s), rng: RandomGenerator(seed: 1))
        for critic in networks.criticTargets {
            let first = critic.layers[0], last = critic.layers[1]
            // Hidden unit 0 = ReLU(a₀ + 2) (input 2 is the action after the 2 observation entries).
            first.weight.value = Tensor([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], shape: [4, 3])
            first.bias!.value = Tensor([2, 0, 0, 0])
            last.weight.value = Tensor([1, 0, 0, 0], shape: [1, 4])
            last.bias!.value = Tensor([0])
        }
        let policy = DiffusionAgentPolicy(networks: networks, settings: s, observationNormalizer: .identity(2), actionMap: .identity(1))
        let observations = Tensor([0.3, -1, 2, 0.5], shape: [2, 2])
        let candidates = Tensor([-0.5, 0.9, 0.1, -1, /* state 1: */ 0.2, -0.7, 0.95, 0.94], shape: [8, 1])
        let chosen = policy.choose(observations, candidates: candidates, rng: RandomGenerator(seed: 2))
        #expect(chosen.scalars == [0.9, 0.95])
        // The same rule on plain Q values, ties to the first.
        #expect(DiffusionAgentPolicy.select(q: [1, 3, 3, 2], value: nil, rule: .argmaxQ, expectile: 0.7, uniform: 0.99) == 1)
    }

    /// IDQL's expectile weights (Eq. 5 with §4.2's weights): for Q − V = (+1, −1, +0.1) and τ = 0.7,
    /// w = (0.7, 0.3, 7), so p = (0.7, 0.3, 7) / 8: u below 0.0875 picks 0, u in [0.0875, 0.125) picks 1,
    /// the rest picks 2.
    @Test func idqlExpectileWeightsResampleByTheImplicitPolicy() {
        let q: [Float] = [1, -1, 0.1]
        func pick(_ u: Float) -> Int { DiffusionAgentPolicy.select(q: q, value: 0, rule: .expectileWeights, expectile: 0.7, uniform: u) }
        #expect(pick(0.05) == 0)
        #expect(pick(0.1) == 1)
        #expect(pick(0.2) == 2 && pick(0.99) == 2)
    }

    /// Diffusion-QL's Q term: d(−mean Q₁(s, a⁰(θ)))/dθ through the whole reverse chain (T = 3) equals
    /// central differences in the actor's weights (critics built by hand), with TestSupport's tolerances
    /// (|analytic − numeric| ≤ 1e-2·|numeric| + 1e-3·max(1, max|numeric|), ε = 1e-3).
    @Test func dqlQGradientFlowsThroughTheReverseChain() {
        var s = tinySettings(.dql)
        s.diffusionSteps = 3
        s.actorWidth = 4; s.actorHidden = 4
        s.criticHidden = [8]
        let networks = DiffusionPolicyNetworks(config: .init(observationDim: 2, actionDim: 2, settings: s), rng: RandomGenerator(seed: 11))
        // Q₁(s, a) = 10·(a₀ − a₁) + const by hand (hidden units ReLU(a_k + 2)), so the Q term has a
        // gradient of order one; the chain's noise and clamps stay as they are.
        for critic in networks.critics {
            critic.layers[0].weight.value = Tensor((0..<32).map { [2, 7].contains($0) ? Float(1) : 0 }, shape: [8, 4])
            critic.layers[0].bias!.value = Tensor([2, 2, 0, 0, 0, 0, 0, 0])
            critic.layers[1].weight.value = Tensor([10, -10, 0, 0, 0, 0, 0, 0], shape: [1, 8])
        }
        let dql = DiffusionQL(networks: networks, settings: s, rng: RandomGenerator(seed: 12))
        let observations = RandomGenerator(seed: 13).normal([6, 2]), actions = RandomGenerator(seed: 14).uniform([6, 2], low: -0.5, high: 0.5)
        func qTerm() -> Tensor { -dql.actorLoss(observations, datasetActions: actions, rng: RandomGenerator(seed: 15)).q.mean() }

        let checked = [networks.actor.output.weight, networks.actor.input.weight]
        for p in networks.actor.parameters() { p.zeroGrad() }
        qTerm().backward()
        for c in networks.critics { for p in c.parameters() { #expect(p.grad == nil, "the critics must be constants in the actor's loss") } }
        let eps: Float = 1e-3
        for parameter in checked {
            let analytic = parameter.grad!.scalars
            var numeric = [Double](repeating: 0, count: parameter.value.count)
            for i in 0..<numeric.count {
                parameter.update { $0[i] += eps }
                let plus = Double(noGrad { qTerm() }.item)
                parameter.update { $0[i] -= 2 * eps }
                let minus = Double(noGrad { qTerm() }.item)
                parameter.update { $0[i] += eps }
                numeric[i] = (plus - minus) / (2 * Double(eps))
            }
            let scale = Swift.max(1, numeric.map(abs).max()!)
            #expect(numeric.contains { abs($0) > 1e-3 }, "the Q term must depend on the actor's weights")
            for i in 0..<numeric.count {
                #expect(abs(Double(analytic[i]) - numeric[i]) <= 1e-2 * abs(numeric[i]) + 1e-3 * scale,
                        "entry \(i): analytic \(analytic[i]) vs numeric \(numeric[i])")
            }
        }
    }

    /// Diffusion BC on data with one action mode, a = (0.5, −0.3) for every state: after training, the
    /// EMA actor's samples sit at the mode (thresholds fixed before the first run: mean within 0.1,
    /// standard deviation below 0.25 per dimension).
    @Test func diffusionBCRecoversASingleMode() {
        var s = tinySettings(.diffusionBC)
        s.actorWidth = 32; s.actorHidden = 32
        s.actorLearningRate = 1e-3
        s.actorEMA = 0.05
        let networks = DiffusionPolicyNetworks(config: .init(observationDim: 1, actionDim: 2, settings: s), rng: RandomGenerator(seed: 21))
        let bc = DiffusionBC(networks: networks, settings: s, rng: RandomGenerator(seed: 22))
        let data = RandomGenerator(seed: 23)
        for _ in 0..<400 {
            let obs = data.normal([64, 1])
            let act = Tensor(Array(repeating: [Float(0.5), -0.3], count: 64).flatMap { $0 }, shape: [64, 2])
            _ = bc.update(TransitionBatch(observations: obs, actions: act, rewards: Tensor(zeros: [64]), nextObservations: obs,
                                          dones: Tensor(zeros: [64]), timeouts: Tensor(zeros: [64]), costs: nil))
        }
        let samples = s.sampler.candidates(networks.actorEMA, observations: data.normal([256, 1]), count: 1,
                                                                                actionDim: 2, rng: RandomGenerator(seed: 24)).scalars
        for (d, mode) in [Float(0.5), -0.3].enumerated() {
            let x = stride(from: d, to: samples.count, by: 2).map { Double(samples[$0]) }
            let mean = x.reduce(0, +) / Double(x.count)
            let sd = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)).squareRoot()
            #expect(abs(mean - Double(mode)) < 0.1 && sd < 0.25, "dimension \(d): mean \(mean), sd \(sd)")
        }
    }
}
