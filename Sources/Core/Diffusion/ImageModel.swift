import Foundation
import NN
import TensorCore

/// A class-conditional image generator (SePPO's digits model): the library's U-Net 2D (docs/unet2d.md)
/// with a discrete ε-objective, sampled with DDIM. Its checkpoints are plain `UNet2D` checkpoints whose
/// metadata also records the objective (`objectiveKey`), so `diffuse sample` and the SePPO commands can
/// load them without knowing about SePPO.
public enum ImageModel {
    /// Linear β, T = 1000, ε-prediction (docs/diffusion-core.md §1; the bench's unet2d workload).
    public static let defaultObjective = DiffusionObjective.discrete(schedule: .linear(), steps: 1000, prediction: .epsilon)
    public static let objectiveKey = "image_objective"

    public static func metadata(objective: DiffusionObjective) -> [String: String] { [objectiveKey: canonicalJSON(objective)] }

    /// Why a checkpoint is not an image generator.
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Loads a `UNet2D` checkpoint with its objective (an error if it records none or is not discrete).
    public static func load(_ url: URL) throws -> (model: UNet2D, objective: DiffusionObjective) {
        let (model, metadata, _) = try Checkpoint.load(UNet2D.self, from: url)
        guard let text = metadata[objectiveKey], let objective = try? JSONDecoder().decode(DiffusionObjective.self, from: Data(text.utf8)) else {
            throw LoadError(description: "\(url.path) records no \(objectiveKey) (write it with `diffuse seppo train-base`)")
        }
        guard case .discrete = objective else { throw LoadError(description: "\(url.path): the digits generator needs a discrete objective") }
        model.eval()
        return (model, objective)
    }

    /// DDIM (η = 0, x̂₀ clipped to [−1, 1]) over `steps` of the objective's schedule.
    public static func sampler(_ objective: DiffusionObjective, steps: Int) -> DDIMSampler {
        guard case let .discrete(schedule, trainSteps, prediction) = objective else { preconditionFailure("DDIM needs a discrete objective") }
        return DDIMSampler(scheduler: DDIMScheduler(trainSteps: trainSteps, schedule: schedule, prediction: prediction), inferenceSteps: steps)
    }

    /// One sample per label from `model` (no gradient), clamped to [−1, 1]: [labels.count, C, S, S].
    public static func sample(_ model: UNet2D, labels: [Int], objective: DiffusionObjective, steps: Int, rng: RandomGenerator) -> Tensor {
        let c = model.config
        let x = sampler(objective, steps: steps).sample(model.network(condition: Tensor(labels.map(Float.init))),
                                                        shape: [labels.count, c.channels, c.size, c.size], rng: rng)
        return noGrad { x.clamped(min: -1, max: 1) }
    }
}
