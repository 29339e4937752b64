// OfflineAgent: the offline-RL layer from a user's own Swift code.
//   swift run -c release OfflineAgent
// Collects a mixed-quality pendulum dataset, writes and reloads it as D4RL-layout HDF5, trains
// TD3+BC on it for a few thousand steps, and evaluates the agent against the scripted expert.
import Foundation
import PolicyDiffusion

// 1. Data: a third each of random, medium and expert episodes (DataCollection.mixture documents it).
let url = FileManager.default.temporaryDirectory.appendingPathComponent("pendulum-mixed.hdf5")
try DataCollection.collect(environment: "pendulum", quality: .mixed, steps: 50_000, seed: 0).save(to: url)
let data = try OfflineDataset.load(url)  // h5py reads the same file: observations, actions, rewards, …
let returns = data.episodeSummaries().map(\.return)
print(String(format: "%d transitions, %d episodes, returns %.0f … %.0f", data.count, returns.count, returns.min()!, returns.max()!))

// 2. Agent: PGD's TD3+BC hyperparameters; actions mapped from the env's box to [−1, 1].
let env = try Environments.make("pendulum")
let trainer = try OfflineTrainer(dataset: data, algorithm: .td3bc, hyperparameters: .defaults(for: .td3bc),
                               actionBounds: env.spec.actionSpace, seed: 0)
try TrainingLoop(steps: 5000, logEvery: 1000).run { _ in trainer.trainStep() }

// 3. Evaluation: 20 seeded episodes each, normalized against the frozen random/expert references.
let agent = try Evaluation.run(trainer.policy(), environment: "pendulum", episodes: 20, seed: 100)
let expert = try Evaluation.run(ScriptedPolicy("expert"), environment: "pendulum", episodes: 20, seed: 100)
print(String(format: "TD3+BC: return %.1f ± %.1f (normalized %.1f); scripted expert %.1f (normalized %.1f)",
             agent.returnMean, agent.returnStd, agent.normalizedScoreMean, expert.returnMean, expert.normalizedScoreMean))
