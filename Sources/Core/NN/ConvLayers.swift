import TensorCore

/// Shared config of the convolution layers.
public struct ConvConfig: Codable, Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: Int
    public var stride = 1
    public var padding: ConvPadding = .valid
    public var bias = true
    public var algorithm: ConvAlgorithm = .auto
    public var initializer: WeightInit = .torchDefault

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: ConvPadding = .valid,
                bias: Bool = true, algorithm: ConvAlgorithm = .auto, initializer: WeightInit = .torchDefault) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0, "convolution sizes must be positive")
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel; self.stride = stride
        self.padding = padding; self.bias = bias; self.algorithm = algorithm; self.initializer = initializer
    }

    func weight(_ shape: [Int], fanIn: Int, rng: RandomGenerator) -> (Parameter, Parameter?) {
        (Parameter(initializer.weight(shape, rng: rng)), bias ? Parameter(initializer.bias(outChannels, fanIn: fanIn, rng: rng)) : nil)
    }
}

/// 1-D convolution over [N, C, L] (weight [C_out, C_in, k]), through the CKernels FFT/direct kernel.
public final class Conv1d: Module, UnaryLayer, ConfigurableModule {
    public let config: ConvConfig
    public let weight: Parameter
    public let bias: Parameter?

    public init(config: ConvConfig, rng: RandomGenerator) {
        self.config = config
        (weight, bias) = config.weight([config.outChannels, config.inChannels, config.kernel], fanIn: config.inChannels * config.kernel, rng: rng)
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: ConvPadding = .valid,
                            bias: Bool = true, rng: RandomGenerator) {
        self.init(config: ConvConfig(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias), rng: rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv1d(x, weight: weight.tensor, bias: bias?.tensor, stride: config.stride, padding: config.padding, algorithm: config.algorithm)
    }
}

/// 2-D convolution over [N, C, H, W] with a square kernel (weight [C_out, C_in, k, k]).
public final class Conv2d: Module, UnaryLayer, ConfigurableModule {
    public let config: ConvConfig
    public let weight: Parameter
    public let bias: Parameter?

    public init(config: ConvConfig, rng: RandomGenerator) {
        self.config = config
        let k = config.kernel
        (weight, bias) = config.weight([config.outChannels, config.inChannels, k, k], fanIn: config.inChannels * k * k, rng: rng)
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: ConvPadding = .valid,
                            bias: Bool = true, rng: RandomGenerator) {
        self.init(config: ConvConfig(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias), rng: rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight: weight.tensor, bias: bias?.tensor, stride: config.stride, padding: config.padding, algorithm: config.algorithm)
    }
}

/// Transposed 1-D convolution (weight [C_in, C_out, k], PyTorch's layout); Diffuser up-samples
/// with kernel 4, stride 2, padding 1, which doubles the length. `padding` must be `.symmetric`.
public final class ConvTranspose1d: Module, UnaryLayer, ConfigurableModule {
    public let config: ConvConfig
    public let weight: Parameter
    public let bias: Parameter?

    public init(config: ConvConfig, rng: RandomGenerator) {
        if case .symmetric = config.padding {} else if config.padding != .valid {
            preconditionFailure("ConvTranspose1d supports .valid or .symmetric padding, got \(config.padding)")
        }
        self.config = config
        // PyTorch computes the fan-in of a transposed conv's weight [C_in, C_out, k] as C_out·k.
        (weight, bias) = config.weight([config.inChannels, config.outChannels, config.kernel], fanIn: config.outChannels * config.kernel, rng: rng)
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                            bias: Bool = true, rng: RandomGenerator) {
        self.init(config: ConvConfig(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
                                     padding: .symmetric(padding), bias: bias), rng: rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var p = 0
        if case let .symmetric(v) = config.padding { p = v }
        return Tensor.convTranspose1d(x, weight: weight.tensor, bias: bias?.tensor, stride: config.stride, padding: p, algorithm: config.algorithm)
    }
}
