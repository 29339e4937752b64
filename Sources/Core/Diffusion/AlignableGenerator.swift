import Foundation
import NN
import TensorCore

/// A diffusion generator the preference trainers can align (docs/seppo.md, "Implementation in this
/// repo"): the digits U-Net (class labels) and the trajectory model (unconditional; labels ignored).
/// Rows carry an integer label each, so one trainer serves both.
public protocol AlignableGenerator: ConfigurableModule {
    /// The shape of one sample (digits: [1, 8, 8]; trajectory windows: [H, D]).
    var sampleShape: [Int] { get }
    /// The denoiser as the objective calls it, for rows labelled `labels`.
    func denoiser(labels: [Int]) -> DenoisingNetwork
    /// One sample per label, without gradient, with `steps` sampler steps: [labels.count] + sampleShape.
    func generate(labels: [Int], objective: DiffusionObjective, steps: Int, rng: RandomGenerator) -> Tensor
    /// Metadata a checkpoint of this generator needs to be loaded for sampling (e.g. its objective).
    func checkpointMetadata(objective: DiffusionObjective) -> [String: String]
}

extension UNet2D: AlignableGenerator {
    public var sampleShape: [Int] { [config.channels, config.size, config.size] }
    public func denoiser(labels: [Int]) -> DenoisingNetwork { network(condition: Tensor(labels.map(Float.init))) }
    public func generate(labels: [Int], objective: DiffusionObjective, steps: Int, rng: RandomGenerator) -> Tensor {
        ImageModel.sample(self, labels: labels, objective: objective, steps: steps, rng: rng)
    }
    public func checkpointMetadata(objective: DiffusionObjective) -> [String: String] { ImageModel.metadata(objective: objective) }
}
