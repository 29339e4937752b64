import Diffusion
import Foundation
import NN
import TensorCore

/// PGD's unconditional window model (docs/pgd.md §1–§2) as a generator that preference alignment
/// can train (SePPO's trajectory setup, docs/seppo.md §7). Labels play no part (every row has label 0).
extension TrajectoryModel: AlignableGenerator {
    public var sampleShape: [Int] { [layout.horizon, layout.width] }
    public func denoiser(labels: [Int]) -> DenoisingNetwork { denoisingNetwork() }
    /// The model's own sampler (EDM: PGD's stochastic Heun; discrete: DDIM) with `steps` steps.
    public func generate(labels: [Int], objective: DiffusionObjective, steps: Int, rng: RandomGenerator) -> Tensor {
        let sampler = TrajectorySampling(steps: steps, ddim: true).sampler(for: objective)
        return noGrad { sampler.sample(denoisingNetwork(), shape: [labels.count] + sampleShape, rng: rng) }
    }
    /// The config holds the objective and the layout already.
    public func checkpointMetadata(objective: DiffusionObjective) -> [String: String] { [:] }
}
