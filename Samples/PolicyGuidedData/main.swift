// PolicyGuidedData: synthesize offline data that looks like your policy's own (Policy-Guided
// Diffusion, Jackson et al. 2024; docs/pgd.md).
//   swift run -c release PolicyGuidedData
// Loads the shipped pointmaze trajectory model and TD3+BC agent, draws 2,000 transitions without
// and with guidance toward the agent, and measures both against the environment's exact equations.
import Foundation
import PolicyDiffusion

let (model, _, _) = try Checkpoint.load(TrajectoryModel.self, from: URL(fileURLWithPath: "Checkpoints/pointmaze-trajectory.safetensors"))
let agent = try AgentPolicy.load(URL(fileURLWithPath: "Checkpoints/pointmaze-td3bc.safetensors"))
let env = try Environments.make("pointmaze-umaze")
let scale = [Double](repeating: 1, count: env.spec.observationSpace.dimension)

for lambda: Float in [0, 0.1] {
    // PGD's sampler settings (docs/pgd.md §3) with fewer EDM steps for a quick run.
    let settings = SynthesisSettings(lambda: lambda, sampling: TrajectorySampling(steps: 32))
    let data = try model.synthesize(transitions: 2000, policy: lambda == 0 ? nil : agent, settings: settings, seed: 0)
    let m = try SyntheticDataMetrics(data, environment: env, stateScale: scale, policy: agent)
    print(String(format: "λ = %.1f: mean log π(a|s) %.3f, dynamics error %.4f (median %.2e)",
                 Double(lambda), m.meanLogLikelihood ?? .nan, m.dynamicsError, m.dynamicsErrorMedian))
}
// Save with data.save(to: URL(fileURLWithPath: "synthetic.hdf5")): D4RL keys, readable by h5py.
