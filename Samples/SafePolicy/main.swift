// SafePolicy: train a FISOR policy (Zheng et al., ICLR 2024; docs/fisor.md) on safe-circle data and
// act with it one observation at a time, as a controller would.
//   swift run -c release SafePolicy [iterations]
// A short run for illustration (default 50 iterations; the shipped Checkpoints/safe-circle-fisor
// used 2,000): the same code at the reference budget is `diffuse fisor train --preset paper`.
import Foundation
import PolicyDiffusion

let iterations = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 50
let data = try DataCollection.collect(environment: "safe-circle", quality: .expert, steps: 20_000, seed: 0)
let env = try Environments.make("safe-circle")
var settings = FISORSettings()   // reduced CPU budget; FISORSettings.paper holds the reference values
settings.iterations = iterations
settings.criticSteps = iterations   // critic-first: the critics alone, then the actor (docs/fisor.md, "Critic-first schedule")
settings.episodeLength = env.spec.episodeLength   // the HJ/cost-limit conversions use it (docs/fisor.md §3)
let trainer = try FISOR.trainer(dataset: data, settings: settings, actionBounds: env.spec.actionSpace, seed: 0)
try TrainingLoop(steps: settings.totalSteps, logEvery: max(iterations / 2, 1)).run { _ in trainer.trainStep() }
let policy = trainer.policy()

// Batch 1: one observation in, one action out (16 candidates from the diffusion actor, the one with
// the lowest feasibility value Q_h kept).
var observation = env.reset(seed: 7)
var cost = 0.0, reward = 0.0
let rng = RandomGenerator(seed: 1)
for _ in 0..<50 {
    let action = policy.actions(for: [observation], environments: [env], rng: rng)[0]
    let step = env.step(action)
    observation = step.observation
    cost += step.cost
    reward += step.reward
}
print(String(format: "50 steps at batch 1 after %d iterations: return %.2f, cost %.0f", iterations, reward, cost))
