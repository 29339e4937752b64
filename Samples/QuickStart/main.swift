// QuickStart: the library used the way a user's own Swift code uses it.
//   swift run -c release QuickStart
// Fits a small MLP to z = x·y on [−1, 1]², takes a gradient with respect to the *input* (what
// guidance needs), and saves and reloads a checkpoint whose config travels in its metadata.
import Foundation
import PolicyDiffusion

let rng = RandomGenerator(seed: 42)
let model = MLP([2, 64, 64, 1], activation: .silu, rng: rng)
let optimizer = Adam(model, learningRate: 1e-2)
let schedule = LRSchedule.warmup(start: 1e-3, steps: 100, then: .cosine(base: 1e-2, final: 1e-4, steps: 1400))

try TrainingLoop(steps: 1500, logEvery: 500).run { step in
    let x = rng.uniform([256, 2], low: -1, high: 1)
    let target = x.slice(axis: 1, 0..<1) * x.slice(axis: 1, 1..<2)
    optimizer.learningRate = schedule(step)
    let loss = Loss.mse(model(x), target)
    optimizer.minimize(loss)   // zero the gradients, backward (reverse-mode autodiff), Adam step
    return ["loss": loss.item]
}

// ∇ₓ of the model's output at (0.5, −0.25): should be close to ∂(xy) = (y, x) = (−0.25, 0.5).
let point = Tensor([0.5, -0.25], shape: [1, 2])
let grad = Tensor.gradient(at: point) { model($0).sum() }
print("∇ model at (0.5, −0.25) =", grad.scalars.map { String(format: "%.3f", $0) }, "(exact: [-0.250, 0.500])")

let url = FileManager.default.temporaryDirectory.appendingPathComponent("quickstart.safetensors")
try Checkpoint.save(model, to: url, metadata: ["note": "QuickStart sample"])
let (restored, metadata, _) = try Checkpoint.load(MLP.self, from: url)
print("reloaded \(metadata["model"]!) with sizes \(restored.config.sizes); same output:",
      noGrad { restored(point).item == model(point).item })
