import Foundation
import NN
import TensorCore

/// A score network: x (noisy sample), t (timestep or c_noise, one per row), optional condition.
public protocol Denoiser: Module {
    func callAsFunction(_ x: Tensor, t: Tensor, cond: Tensor?) -> Tensor
}

extension Denoiser {
    /// The network as samplers call it (unconditional, or with a fixed condition). In evaluation
    /// mode without gradient recording, rows are evaluated in blocks, one per thread (`rowParallel`):
    /// every denoiser here treats rows independently (GroupNorm and LayerNorm are per row).
    public func network(condition: Tensor? = nil) -> DenoisingNetwork {
        { x, t in
            guard !self.isTraining else { return self(x, t: t, cond: condition) }
            return rowParallel([x, t, condition]) { self($0[0]!, t: $0[1]!, cond: $0[2]) }
        }
    }
}

/// The plain MLP denoiser of docs/bench-workloads.md: [x ‖ γ(x) ‖ sinusoidal(t) ‖ cond] → hidden layers
/// (fused activation) → x's size. Works on vectors (actions, 2-D toy points, flattened transitions).
/// γ(x) is the optional positional encoding of x (`inputFrequencies`), off by default.
public final class MLPDenoiser: Module, Denoiser, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var dataDim: Int
        public var condDim = 0
        public var timeEmbedding = 16
        public var hidden = [256, 256, 256]
        public var activation: Activation = .mish
        /// L: adds sin(2ᵏπx), cos(2ᵏπx) for k < L to the input (NeRF's positional encoding,
        /// Mildenhall et al. 2020, Eq. 4). A plain MLP is biased towards smooth functions of its
        /// input and learns sharp edges slowly (Tancik et al. 2020, "Fourier features let networks
        /// learn high frequency functions"); the encoding gives it those frequencies directly.
        public var inputFrequencies = 0

        public init(dataDim: Int, condDim: Int = 0, timeEmbedding: Int = 16, hidden: [Int] = [256, 256, 256], activation: Activation = .mish,
                    inputFrequencies: Int = 0) {
            self.dataDim = dataDim; self.condDim = condDim; self.timeEmbedding = timeEmbedding; self.hidden = hidden; self.activation = activation
            self.inputFrequencies = inputFrequencies
        }

        /// Configs saved before `inputFrequencies` existed decode with 0, the network they hold.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            dataDim = try c.decode(Int.self, forKey: .dataDim)
            condDim = try c.decode(Int.self, forKey: .condDim)
            timeEmbedding = try c.decode(Int.self, forKey: .timeEmbedding)
            hidden = try c.decode([Int].self, forKey: .hidden)
            activation = try c.decode(Activation.self, forKey: .activation)
            inputFrequencies = try c.decodeIfPresent(Int.self, forKey: .inputFrequencies) ?? 0
        }

        /// Width of the MLP's input.
        public var inputWidth: Int { dataDim * (1 + 2 * inputFrequencies) + timeEmbedding + condDim }
    }

    public let config: Config
    public let embedding: SinusoidalEmbedding
    public let mlp: MLP

    public init(config: Config, rng: RandomGenerator) {
        precondition(config.inputFrequencies >= 0, "inputFrequencies must be non-negative")
        self.config = config
        embedding = SinusoidalEmbedding(config.timeEmbedding)
        mlp = MLP([config.inputWidth] + config.hidden + [config.dataDim], activation: config.activation, rng: rng)
    }

    public func callAsFunction(_ x: Tensor, t: Tensor, cond: Tensor? = nil) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == config.dataDim, "MLPDenoiser expects x [B, \(config.dataDim)], got \(x.shape)")
        var parts = [x]
        for k in 0..<config.inputFrequencies {
            let angle = x * (Float.pi * Float(1 << k))
            parts += [angle.sin(), angle.cos()]
        }
        parts.append(embedding(t))
        if config.condDim > 0 {
            guard let cond else { preconditionFailure("MLPDenoiser with condDim \(config.condDim) needs a condition") }
            parts.append(cond)
        }
        return mlp(Tensor.concat(parts, axis: 1))
    }
}

/// FISOR / IDQL residual-MLP ε-network (docs/fisor.md §5): learnable Fourier time features (64)
/// → Dense 128 → Mish → Dense 128; [x ‖ s ‖ t-emb] → Dense 256 → 3 residual blocks (Dropout,
/// LayerNorm, Dense 1024, Mish, Dense 256) → Mish → Dense(act). Xavier outside the blocks, LeCun inside.
public final class ResidualMLPDenoiser: Module, Denoiser, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var dataDim: Int
        public var condDim: Int
        public var fourierDim = 64
        public var timeHidden = 128
        public var width = 256
        public var hidden = 1024
        public var blocks = 3
        public var dropout: Float = 0.1
        /// Std of the Fourier frequencies (nil: 0.2, FISOR's for t ∈ [0, 1]). EDM's c_noise = ln σ / 4 spans
        /// about [−1.6, 1.1], where 0.2 resolves little: window models use 1 (lucidrains' learned sinusoids, as SynthER).
        public var fourierStd: Float?
        public init(dataDim: Int, condDim: Int, fourierDim: Int = 64, timeHidden: Int = 128, width: Int = 256, hidden: Int = 1024,
                    blocks: Int = 3, dropout: Float = 0.1, fourierStd: Float? = nil) {
            self.dataDim = dataDim; self.condDim = condDim; self.fourierDim = fourierDim; self.timeHidden = timeHidden
            self.width = width; self.hidden = hidden; self.blocks = blocks; self.dropout = dropout; self.fourierStd = fourierStd
        }
    }

    public let config: Config
    public let time: FourierFeatures
    public let timeIn: Linear
    public let timeOut: Linear
    public let input: Linear
    public let blocks: [ResidualMLPBlock]
    public let output: Linear

    public init(config c: Config, rng: RandomGenerator) {
        config = c
        time = FourierFeatures(config: .init(dimension: c.fourierDim, std: c.fourierStd ?? 0.2), rng: rng)
        timeIn = Linear(c.fourierDim, c.timeHidden, activation: .mish, initializer: .xavierUniform, rng: rng)
        timeOut = Linear(c.timeHidden, c.timeHidden, initializer: .xavierUniform, rng: rng)
        input = Linear(c.dataDim + c.condDim + c.timeHidden, c.width, initializer: .xavierUniform, rng: rng)
        blocks = (0..<c.blocks).map { _ in ResidualMLPBlock(config: .init(width: c.width, hidden: c.hidden, dropout: c.dropout), rng: rng) }
        output = Linear(c.width, c.dataDim, initializer: .xavierUniform, rng: rng)
    }

    public func callAsFunction(_ x: Tensor, t: Tensor, cond: Tensor?) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == config.dataDim, "ResidualMLPDenoiser expects x [B, \(config.dataDim)], got \(x.shape)")
        var parts = [x]
        if config.condDim > 0 {
            guard let cond, cond.shape == [x.shape[0], config.condDim] else { preconditionFailure("ResidualMLPDenoiser needs a condition [B, \(config.condDim)]") }
            parts.append(cond)
        }
        parts.append(timeOut(timeIn(time(t))))
        var h = input(Tensor.concat(parts, axis: 1))
        for b in blocks { h = b(h) }
        return output(h.mish())
    }
}
