import Foundation
import PolicyDiffusion

extension CoreWorkloads {
    /// HalfCheetah's shapes (observation 17, action 6) and a batch of 256 fixed random transitions:
    /// what the offline-agent updates are timed on.
    static func agentBatch() -> TransitionBatch {
        let g = RandomGenerator(seed: 20)
        let (o, a, n) = (17, 6, 256)
        return TransitionBatch(observations: g.normal([n, o]), actions: g.uniform([n, a], low: -1, high: 1), rewards: g.normal([n]),
                               nextObservations: g.normal([n, o]), dones: Tensor(zeros: [n]), timeouts: Tensor(zeros: [n]))
    }

    /// A diffusion policy's networks and settings at the papers' defaults (`DiffusionPolicySettings`:
    /// T = 5, residual-MLP ε-network width 256 / hidden 256 / 3 blocks, critics 256-256) on HalfCheetah's shapes.
    static func diffusionPolicy(_ algorithm: DiffusionAlgorithm) -> (DiffusionPolicyNetworks, DiffusionPolicySettings) {
        let s = DiffusionPolicySettings(algorithm: algorithm)
        return (DiffusionPolicyNetworks(config: .init(observationDim: 17, actionDim: 6, settings: s), rng: RandomGenerator(seed: 21)), s)
    }

    /// docs/bench-workloads.md `diffusion_bc_update` / `idql_update` / `dql_update`: one update as
    /// `diffuse train agent --algo diffusion-bc | idql | dql` runs it (DiffusionPolicyAlgorithms.swift),
    /// with the logged metrics.
    static func diffusionPolicyUpdate(_ algorithm: DiffusionAlgorithm, warmup: Int, repeats: Int) -> BenchResult {
        let batch = agentBatch(), (networks, s) = diffusionPolicy(algorithm)
        let update = algorithm.make(networks: networks, settings: s, rng: RandomGenerator(seed: 22))
        return Bench.measure("\(workloadName(algorithm))_update", warmup: warmup, repeats: repeats) { _ = update.update(batch) }
    }

    /// docs/bench-workloads.md `…_select_action_1`: one action for one observation as the trained
    /// policy acts (`DiffusionAgentPolicy.actions`): the settings' N candidates (diffusion BC 1, IDQL 32,
    /// DQL 50) from the EMA actor by T = 5 DDPM, then the selector (sample, expectile weights, softmax Q).
    static func diffusionPolicySelect(_ algorithm: DiffusionAlgorithm, warmup: Int, repeats: Int) -> BenchResult {
        let (networks, s) = diffusionPolicy(algorithm)
        let policy = DiffusionAgentPolicy(networks: networks, settings: s, observationNormalizer: .identity(17), actionMap: .identity(6))
        let rng = RandomGenerator(seed: 23)
        let observation = rng.normal([1, 17])
        return Bench.measure("\(workloadName(algorithm))_select_action_1", warmup: warmup, repeats: repeats) {
            _ = policy.actions(observation, rng: rng)
        }
    }

    static func workloadName(_ algorithm: DiffusionAlgorithm) -> String { algorithm.rawValue.replacingOccurrences(of: "-", with: "_") }
}
