import Foundation
import NN
import TensorCore

/// A residual MLP over a whole flattened window [B, H, D] → [B, H·D] (docs/pgd.md §2.1). With H = 2 and
/// stride 1 a window is one transition (s, a, r, d, s′, a′, r′, d′), so this is SynthER's transition-level
/// generator (Lu et al. 2023: residual MLP denoiser under EDM, one transition per sample) inside PGD's
/// window pipeline: the same layout, trainer, guided sampler and decoding. Unlike the U-Nets it has no
/// notion of time along the window, so it samples exactly the length it was trained on.
public final class WindowMLP: Module, Denoiser, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        /// Rows H per window and channels D per row.
        public var horizon: Int
        public var transition: Int
        /// Residual stream width, block hidden width (4× the width) and block count (SynthER: 1024 wide,
        /// 6 layers — a GPU budget). 128 × 4 blocks trained 20k steps beat 256 × 4 at equal CPU-minutes
        /// on two cores (docs/fidelity-results.md, "Knob sweep" and "Defaults").
        public static let defaultWidth = 128
        public var width = defaultWidth
        public var hidden = 4 * defaultWidth
        public var blocks = 4

        public init(horizon: Int, transition: Int, width: Int = defaultWidth, hidden: Int = 4 * defaultWidth, blocks: Int = 4) {
            self.horizon = horizon; self.transition = transition; self.width = width; self.hidden = hidden; self.blocks = blocks
        }

        /// The residual MLP on flattened windows: no dropout (SynthER's denoiser has none), Fourier time
        /// features scaled for EDM's c_noise.
        public var mlp: ResidualMLPDenoiser.Config {
            .init(dataDim: horizon * transition, condDim: 0, width: width, hidden: hidden, blocks: blocks, dropout: 0, fourierStd: 1)
        }
    }

    public let config: Config
    public let mlp: ResidualMLPDenoiser

    public init(config: Config, rng: RandomGenerator) {
        precondition(config.horizon >= 1 && config.transition >= 1, "WindowMLP needs a positive horizon and transition width")
        self.config = config
        mlp = ResidualMLPDenoiser(config: config.mlp, rng: rng)
    }

    public func callAsFunction(_ x: Tensor, t: Tensor, cond: Tensor? = nil) -> Tensor {
        precondition(x.rank == 3 && x.shape[1] == config.horizon && x.shape[2] == config.transition,
                     "WindowMLP expects x [B, \(config.horizon), \(config.transition)], got \(x.shape)")
        let b = x.shape[0]
        return mlp(x.reshaped([b, config.horizon * config.transition]), t: t, cond: nil).reshaped([b, config.horizon, config.transition])
    }
}
