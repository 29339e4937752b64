import Foundation
import TensorCore

/// y = activation(x·Wᵀ + b), W: [out, in] (PyTorch's layout, so safetensors files interoperate).
/// The activation is fused into the same op (docs/architecture.md: fused bias + activation).
public final class Linear: Module, UnaryLayer, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var inputs: Int
        public var outputs: Int
        public var bias = true
        public var activation: Activation = .identity
        public var initializer: WeightInit = .torchDefault
        public init(inputs: Int, outputs: Int, bias: Bool = true, activation: Activation = .identity, initializer: WeightInit = .torchDefault) {
            self.inputs = inputs; self.outputs = outputs; self.bias = bias; self.activation = activation; self.initializer = initializer
        }
    }

    public let config: Config
    public let weight: Parameter
    public let bias: Parameter?

    public init(config: Config, rng: RandomGenerator) {
        precondition(config.inputs > 0 && config.outputs > 0, "Linear needs positive sizes")
        self.config = config
        weight = Parameter(config.initializer.weight([config.outputs, config.inputs], rng: rng))
        bias = config.bias ? Parameter(config.initializer.bias(config.outputs, fanIn: config.inputs, rng: rng)) : nil
    }

    public convenience init(_ inputs: Int, _ outputs: Int, bias: Bool = true, activation: Activation = .identity,
                            initializer: WeightInit = .torchDefault, rng: RandomGenerator) {
        self.init(config: Config(inputs: inputs, outputs: outputs, bias: bias, activation: activation, initializer: initializer), rng: rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight: weight.tensor, bias: bias?.tensor, activation: config.activation)
    }
}

/// Layer normalization over the last axis (Ba et al. 2016), with learnable scale and shift.
public final class LayerNorm: Module, UnaryLayer, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var dimension: Int
        public var eps: Float = 1e-5
        public var affine = true
        public init(dimension: Int, eps: Float = 1e-5, affine: Bool = true) { self.dimension = dimension; self.eps = eps; self.affine = affine }
    }

    public let config: Config
    public let weight: Parameter?
    public let bias: Parameter?

    public init(config: Config, rng: RandomGenerator) {
        self.config = config
        weight = config.affine ? Parameter(Tensor(ones: [config.dimension])) : nil
        bias = config.affine ? Parameter(Tensor(zeros: [config.dimension])) : nil
    }

    public convenience init(_ dimension: Int, eps: Float = 1e-5, affine: Bool = true) {
        self.init(config: Config(dimension: dimension, eps: eps, affine: affine), rng: RandomGenerator(seed: 0))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == config.dimension, "LayerNorm(\(config.dimension)) got input \(x.shape)")
        let y = x.normalizedLastAxis(eps: config.eps)
        guard let weight, let bias else { return y }
        return y * weight.tensor + bias.tensor
    }
}

/// Group normalization (Wu & He 2018) over [N, C, ...]: statistics per sample and channel group.
public final class GroupNorm: Module, UnaryLayer, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var groups: Int
        public var channels: Int
        public var eps: Float = 1e-5
        public var affine = true
        public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
            self.groups = groups; self.channels = channels; self.eps = eps; self.affine = affine
        }
    }

    public let config: Config
    public let weight: Parameter?
    public let bias: Parameter?

    public init(config: Config, rng: RandomGenerator) {
        precondition(config.groups > 0 && config.channels % config.groups == 0, "GroupNorm: \(config.channels) channels do not split into \(config.groups) groups")
        self.config = config
        weight = config.affine ? Parameter(Tensor(ones: [config.channels])) : nil
        bias = config.affine ? Parameter(Tensor(zeros: [config.channels])) : nil
    }

    public convenience init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        self.init(config: Config(groups: groups, channels: channels, eps: eps, affine: affine), rng: RandomGenerator(seed: 0))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { callAsFunction(x, activation: .identity) }

    /// GroupNorm followed by `activation`, fused into one kernel when affine (Diffuser's
    /// Conv1d → GroupNorm → Mish blocks).
    public func callAsFunction(_ x: Tensor, activation: Activation) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == config.channels, "GroupNorm(\(config.channels)) got input \(x.shape)")
        if let weight, let bias {
            return x.groupNormalized(groups: config.groups, weight: weight.tensor, bias: bias.tensor, eps: config.eps, activation: activation)
        }
        return activation(unfused(x))
    }

    /// The composed reference form (normalize, then scale and shift).
    func unfused(_ x: Tensor) -> Tensor {
        let n = x.shape[0]
        let y = x.reshaped([n, config.groups, -1]).normalizedLastAxis(eps: config.eps).reshaped(x.shape)
        guard let weight, let bias else { return y }
        let perChannel = [1, config.channels] + [Int](repeating: 1, count: x.rank - 2)
        return y * weight.tensor.reshaped(perChannel) + bias.tensor.reshaped(perChannel)
    }
}

/// Inverted dropout: in training, zeroes each entry with probability p and scales the rest by
/// 1/(1 − p); identity in evaluation mode.
public final class Dropout: Module, UnaryLayer, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var probability: Float
        public init(probability: Float) { self.probability = probability }
    }

    public let config: Config
    public let generator: RandomGenerator

    public init(config: Config, rng: RandomGenerator) {
        precondition(config.probability >= 0 && config.probability < 1, "dropout probability must be in [0, 1)")
        self.config = config
        generator = rng.fork()
    }

    public convenience init(_ probability: Float, rng: RandomGenerator) { self.init(config: Config(probability: probability), rng: rng) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let p = config.probability
        guard isTraining && p > 0 else { return x }
        let keep = (mask(x.shape) .>= Tensor(p)) * (1 / (1 - p))
        return x * keep
    }

    /// Uniform draws for the mask. On a rank's shard of a global batch (`ProcessGroup.shardedBatch`),
    /// the whole batch's draws, of which the shard's rows: the masks one process would use
    /// (docs/distributed.md).
    func mask(_ shape: [Int]) -> Tensor {
        if let group = ProcessGroup.parallel, let global = group.shardedBatch, shape.first == group.shard(global).count {
            return generator.uniform([global] + shape.dropFirst()).indexSelect(axis: 0, Array(group.shard(global)))
        }
        return generator.uniform(shape)
    }
}

/// Activation as a module (for `Sequential`).
public final class ActivationLayer: Module, UnaryLayer {
    public let activation: Activation
    public init(_ activation: Activation) { self.activation = activation }
    public func callAsFunction(_ x: Tensor) -> Tensor { activation(x) }
}

/// Layers applied in order.
public final class Sequential: Module, UnaryLayer {
    public let layers: [Module]

    public init(_ layers: [any UnaryLayer]) { self.layers = layers }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for layer in layers { h = (layer as! any UnaryLayer)(h) }
        return h
    }
}

/// A multilayer perceptron: Linear layers with a fused hidden activation.
public final class MLP: Module, UnaryLayer, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        /// Input, hidden…, output sizes.
        public var sizes: [Int]
        public var activation: Activation = .relu
        public var outputActivation: Activation = .identity
        public var initializer: WeightInit = .torchDefault
        public init(sizes: [Int], activation: Activation = .relu, outputActivation: Activation = .identity, initializer: WeightInit = .torchDefault) {
            self.sizes = sizes; self.activation = activation; self.outputActivation = outputActivation; self.initializer = initializer
        }
    }

    public let config: Config
    public let layers: [Linear]

    public init(config: Config, rng: RandomGenerator) {
        precondition(config.sizes.count >= 2, "an MLP needs at least input and output sizes")
        self.config = config
        let n = config.sizes.count - 1
        layers = (0..<n).map { i in
            Linear(config.sizes[i], config.sizes[i + 1], activation: i == n - 1 ? config.outputActivation : config.activation,
                   initializer: config.initializer, rng: rng)
        }
    }

    public convenience init(_ sizes: [Int], activation: Activation = .relu, outputActivation: Activation = .identity,
                            initializer: WeightInit = .torchDefault, rng: RandomGenerator) {
        self.init(config: Config(sizes: sizes, activation: activation, outputActivation: outputActivation, initializer: initializer), rng: rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for layer in layers { h = layer(h) }
        return h
    }
}
