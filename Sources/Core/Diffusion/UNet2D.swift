import Foundation
import NN
import TensorCore

/// GroupNorm → SiLU → Conv2d 3×3, twice, with the embedding added after the first conv and a 1×1
/// skip when channels change (the DDPM/ADM residual block, without dropout).
public final class ResBlock2D: Module {
    public let norm1: GroupNorm
    public let conv1: Conv2d
    public let emb: Linear
    public let norm2: GroupNorm
    public let conv2: Conv2d
    public let skip: Conv2d?

    public init(_ inChannels: Int, _ outChannels: Int, embedding: Int, groups: Int, rng: RandomGenerator) {
        norm1 = GroupNorm(groups: groups, channels: inChannels)
        conv1 = Conv2d(inChannels, outChannels, kernel: 3, padding: .same, rng: rng)
        emb = Linear(embedding, outChannels, rng: rng)
        norm2 = GroupNorm(groups: groups, channels: outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernel: 3, padding: .same, rng: rng)
        skip = inChannels != outChannels ? Conv2d(inChannels, outChannels, kernel: 1, rng: rng) : nil
    }

    public func callAsFunction(_ x: Tensor, _ e: Tensor) -> Tensor {
        var h = conv1(norm1(x, activation: .silu))
        h = h + emb(e.silu()).reshaped([x.shape[0], -1, 1, 1])
        h = conv2(norm2(h, activation: .silu))
        return h + (skip.map { $0(x) } ?? x)
    }
}

/// The library's small class-conditional U-Net for 8×8 … 32×32 images (docs/unet2d.md; the
/// PyTorch benchmark mirrors it exactly):
///   embedding e = MLP(sinusoidal(t)) + class embedding (index `classes` = unconditional, for CFG)
///   stem Conv3×3 C→c; ResBlock(c, c); Conv3×3 stride 2 (H → H/2); ResBlock(c, 2c);
///   mid ResBlock(2c, 2c); nearest ×2 + Conv3×3 2c→c; concat skip → ResBlock(2c, c);
///   GroupNorm → SiLU → Conv3×3 c→C.
public final class UNet2D: Module, Denoiser, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var channels = 1
        public var size = 8
        public var width = 32
        public var classes = 10
        public var embedding = 64
        public var groups = 8
        public init(channels: Int = 1, size: Int = 8, width: Int = 32, classes: Int = 10, embedding: Int = 64, groups: Int = 8) {
            self.channels = channels; self.size = size; self.width = width; self.classes = classes; self.embedding = embedding; self.groups = groups
        }
    }

    public let config: Config
    public let time: SinusoidalEmbedding
    public let timeIn: Linear
    public let timeOut: Linear
    public let classEmbedding: Parameter
    public let stem: Conv2d
    public let block1: ResBlock2D
    public let down: Conv2d
    public let block2: ResBlock2D
    public let mid: ResBlock2D
    public let upConv: Conv2d
    public let block3: ResBlock2D
    public let outNorm: GroupNorm
    public let outConv: Conv2d

    public init(config c: Config, rng: RandomGenerator) {
        precondition(c.size % 2 == 0 && c.size >= 4, "UNet2D needs an even image size ≥ 4")
        config = c
        let w = c.width, e = c.embedding
        time = SinusoidalEmbedding(e)
        timeIn = Linear(e, 4 * e, activation: .silu, rng: rng)
        timeOut = Linear(4 * e, e, rng: rng)
        classEmbedding = Parameter(rng.normal([c.classes + 1, e], std: 0.02))
        stem = Conv2d(c.channels, w, kernel: 3, padding: .same, rng: rng)
        block1 = ResBlock2D(w, w, embedding: e, groups: c.groups, rng: rng)
        down = Conv2d(w, w, kernel: 3, stride: 2, padding: .symmetric(1), rng: rng)
        block2 = ResBlock2D(w, 2 * w, embedding: e, groups: c.groups, rng: rng)
        mid = ResBlock2D(2 * w, 2 * w, embedding: e, groups: c.groups, rng: rng)
        upConv = Conv2d(2 * w, w, kernel: 3, padding: .same, rng: rng)
        block3 = ResBlock2D(2 * w, w, embedding: e, groups: c.groups, rng: rng)
        outNorm = GroupNorm(groups: c.groups, channels: w)
        outConv = Conv2d(w, c.channels, kernel: 3, padding: .same, rng: rng)
    }

    /// x: [B, C, S, S]; t: [B]; cond: class indices as floats [B] (`classes` = unconditional) or nil.
    public func callAsFunction(_ x: Tensor, t: Tensor, cond: Tensor?) -> Tensor {
        let c = config
        precondition(x.shape.count == 4 && Array(x.shape[1...]) == [c.channels, c.size, c.size], "UNet2D expects [B, \(c.channels), \(c.size), \(c.size)], got \(x.shape)")
        let labels = (cond?.scalars ?? [Float](repeating: Float(c.classes), count: x.shape[0])).map { Int($0) }
        precondition(labels.allSatisfy { (0...c.classes).contains($0) }, "class labels must be in 0...\(c.classes)")
        let e = timeOut(timeIn(time(t))) + Tensor.embedding(classEmbedding.tensor, IntTensor(labels))
        let h0 = block1(stem(x), e)
        var h = mid(block2(down(h0), e), e)
        h = upConv(h.resizeNearest2d(height: c.size, width: c.size))
        h = block3(Tensor.concat([h, h0], axis: 1), e)
        return outConv(outNorm(h, activation: .silu))
    }
}
