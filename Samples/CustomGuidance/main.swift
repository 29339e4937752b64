// CustomGuidance: steer a trained diffusion model with your own differentiable objective.
//   swift run -c release CustomGuidance
// Loads the shipped two-moons EDM model (Checkpoints/two-moons-edm.safetensors), then samples it
// plainly and with classifier-style guidance toward the upper half plane: the objective is any
// function of the denoised estimate x̂₀ that the library can differentiate (docs/guidance.md).
import Foundation
import PolicyDiffusion

let url = URL(fileURLWithPath: "Checkpoints/two-moons-edm.safetensors")
let (model, metadata, _) = try Checkpoint.load(MLPDenoiser.self, from: url)
model.eval()
let training = try JSONDecoder().decode(ToyTrainingSettings.self, from: Data(metadata["training"]!.utf8))
guard case let .edm(edm) = training.objective else { fatalError("the shipped two-moons model is an EDM model") }
let sampler = EDMSampler(edm: edm, steps: 64)

// log of a soft indicator of y > 0.25, summed over rows: its gradient pushes each sample upward.
let upward = ObjectiveGuidance(on: .denoised) { x, _ in
    let y = x.slice(axis: 1, 1..<2)
    return ((y - 0.25) * 4).sigmoid().log().sum()
}
let guidance = GuidanceConfig(upward, scaling: .classifier, schedule: .constant(1))

let plain = sampler.sample(model.network(), shape: [2000, 2], rng: RandomGenerator(seed: 0))
let guided = sampler.sample(model.network(), shape: [2000, 2], guidance: guidance, inpainting: nil, rng: RandomGenerator(seed: 0))
func upper(_ x: Tensor) -> Double {
    let y = x.slice(axis: 1, 1..<2).scalars
    return Double(y.filter { $0 > 0.25 }.count) / Double(y.count)
}
print(String(format: "samples with y > 0.25: %.1f %% plain, %.1f %% guided (same noise)", 100 * upper(plain), 100 * upper(guided)))
