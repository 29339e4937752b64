import Foundation
import PolicyDiffusion

extension CoreWorkloads {
    /// One Diffusion-DPO update on the digits U-Net 2D (docs/bench-workloads.md `seppo_dpo_step`;
    /// docs/seppo.md §2): 64 pairs (128 rows) with one shared (t, ε) per pair, the model with gradient
    /// and a frozen reference without, β = 2000, clipping at norm 1, AdamW (lr 1e-4, weight decay 1e-2).
    static func seppoDPOStep(warmup: Int, repeats: Int) -> BenchResult {
        let net = UNet2D(config: .init(), rng: RandomGenerator(seed: 14)), rng = RandomGenerator(seed: 15)
        let reference = net.clone()
        reference.freeze()
        reference.eval()
        let opt = Adam.adamW(net, learningRate: 1e-4, weightDecay: 1e-2)
        let objective = ImageModel.defaultObjective
        return Bench.measure("seppo_dpo_step", warmup: warmup, repeats: repeats) {
            let labels = rng.integers([64], high: 10).scalars.map(Float.init)
            let winners = rng.normal([64, 1, 8, 8]), losers = rng.normal([64, 1, 8, 8])
            let condition = Tensor(labels + labels)
            let errors = PreferenceLoss.pairErrors(objective, model: net.network(condition: condition), reference: reference.network(condition: condition),
                                                   winners: winners, others: losers, noise: PreferenceLoss.pairNoise(objective, like: winners, rng: rng))
            let loss = PreferenceLoss.diffusionDPO(errors, beta: 2000).loss
            opt.zeroGrad()
            loss.backward()
            clipGradientNorm(net.parameters(), maxNorm: 1)
            opt.update()
        }
    }
}
