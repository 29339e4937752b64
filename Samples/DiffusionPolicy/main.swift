// DiffusionPolicy: train a diffusion policy (IDQL, Hansen-Estruch et al. 2023; docs/offline-agents.md)
// on an ordinary D4RL-layout dataset and act with it, from a user's own Swift code.
//   swift run -c release DiffusionPolicy [steps]
// A short run for illustration (default 3000 updates; the papers train 1–3 M): the same code is
// `diffuse train agent --algo idql`, and `.dql` / `.diffusionBC` swap the algorithm.
import Foundation
import PolicyDiffusion

let steps = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 3000

// 1. Data: mixed-quality pendulum episodes (a third each random, medium, expert).
let data = try DataCollection.collect(environment: "pendulum", quality: .mixed, steps: 20_000, seed: 0)
let env = try Environments.make("pendulum")

// 2. IDQL: IQL critics on the dataset's tuples, a diffusion behaviour policy (T = 5 residual MLP);
//    at action time 32 candidates per state, re-sampled by the expectile critic's weights.
let settings = DiffusionPolicySettings(algorithm: .idql)   // the paper's locomotion defaults
let trainer = try OfflineTrainer(dataset: data, diffusion: settings, actionBounds: env.spec.actionSpace, seed: 0)
try TrainingLoop(steps: steps, logEvery: max(steps / 3, 1)).run { _ in trainer.trainStep() }
let policy = trainer.policy()

// 3. Evaluation on 10 seeded episodes, normalized against the environment's random/expert references.
let result = try Evaluation.run(policy, environment: "pendulum", episodes: 10, seed: 100)
print(String(format: "IDQL after %d updates: return %.1f ± %.1f (normalized %.1f)", steps, result.returnMean, result.returnStd,
             result.normalizedScoreMean))

// 4. Batch 1, as a controller would: one observation in, one action out.
var observation = env.reset(seed: 7)
var reward = 0.0
let rng = RandomGenerator(seed: 1)
for _ in 0..<50 {
    let action = policy.actions(for: [observation], environments: [env], rng: rng)[0]
    let step = env.step(action)
    observation = step.observation
    reward += step.reward
}
print(String(format: "50 steps at batch 1: return %.1f", reward))
