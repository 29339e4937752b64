import Foundation
import TensorCore

/// Fixed sinusoidal embedding of a scalar (timestep or noise level), as Diffuser's
/// SinusoidalPosEmb: half = dim/2, fₖ = exp(−k·ln(10⁴)/(half − 1)), output [sin(t·f), cos(t·f)].
public final class SinusoidalEmbedding: Module, UnaryLayer, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var dimension: Int
        public init(dimension: Int) { self.dimension = dimension }
    }

    public let config: Config
    private let frequencies: Tensor

    public init(config: Config, rng: RandomGenerator) {
        precondition(config.dimension >= 4 && config.dimension % 2 == 0, "sinusoidal embedding needs an even dimension ≥ 4")
        self.config = config
        let half = config.dimension / 2
        let scale = Foundation.log(Float(10000)) / Float(half - 1)
        frequencies = Tensor((0..<half).map { Foundation.exp(-Float($0) * scale) }, shape: [1, half])
    }

    public convenience init(_ dimension: Int) { self.init(config: Config(dimension: dimension), rng: RandomGenerator(seed: 0)) }

    /// t: [B] or [B, 1] → [B, dim].
    public func callAsFunction(_ t: Tensor) -> Tensor {
        let angles = t.reshaped([-1, 1]) * frequencies
        return Tensor.concat([angles.sin(), angles.cos()], axis: 1)
    }
}

/// Learnable Fourier features (FISOR / IDQL time embedding): W ~ N(0, σ²) of shape [dim/2, 1],
/// f = 2π·t·Wᵀ, output [cos f, sin f] (docs/fisor.md §5).
public final class FourierFeatures: Module, UnaryLayer, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var dimension: Int
        public var std: Float = 0.2
        public init(dimension: Int, std: Float = 0.2) { self.dimension = dimension; self.std = std }
    }

    public let config: Config
    public let weight: Parameter

    public init(config: Config, rng: RandomGenerator) {
        precondition(config.dimension % 2 == 0, "Fourier features need an even dimension")
        self.config = config
        weight = Parameter(rng.normal([config.dimension / 2, 1], std: config.std))
    }

    /// t: [B] or [B, 1] → [B, dim].
    public func callAsFunction(_ t: Tensor) -> Tensor {
        let f = Tensor.matmul(t.reshaped([-1, 1]), weight.tensor.transposed()) * (2 * Float.pi)
        return Tensor.concat([f.cos(), f.sin()], axis: 1)
    }
}

/// FISOR / IDQL residual block: z + Dense(act(Dense₄ₓ(LayerNorm(Dropout(z))))) (docs/fisor.md §5).
public final class ResidualMLPBlock: Module, UnaryLayer, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var width: Int
        public var hidden: Int
        public var dropout: Float = 0.1
        public var layerNorm = true
        public var activation: Activation = .mish
        /// FISOR's LayerNorm uses ε = 1e-6 (Flax).
        public var eps: Float = 1e-6
        public var initializer: WeightInit = .lecunNormal
        public init(width: Int, hidden: Int, dropout: Float = 0.1, layerNorm: Bool = true, activation: Activation = .mish,
                    eps: Float = 1e-6, initializer: WeightInit = .lecunNormal) {
            self.width = width; self.hidden = hidden; self.dropout = dropout; self.layerNorm = layerNorm
            self.activation = activation; self.eps = eps; self.initializer = initializer
        }
    }

    public let config: Config
    public let dropout: Dropout?
    public let norm: LayerNorm?
    public let expand: Linear
    public let project: Linear

    public init(config: Config, rng: RandomGenerator) {
        self.config = config
        dropout = config.dropout > 0 ? Dropout(config.dropout, rng: rng) : nil
        norm = config.layerNorm ? LayerNorm(config.width, eps: config.eps) : nil
        expand = Linear(config.width, config.hidden, activation: config.activation, initializer: config.initializer, rng: rng)
        project = Linear(config.hidden, config.width, initializer: config.initializer, rng: rng)
    }

    public func callAsFunction(_ z: Tensor) -> Tensor {
        var h = z
        if let dropout { h = dropout(h) }
        if let norm { h = norm(h) }
        return z + project(expand(h))
    }
}
