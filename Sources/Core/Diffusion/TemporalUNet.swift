import Foundation
import NN
import TensorCore

/// Conv1d → GroupNorm → Mish (Diffuser's Conv1dBlock).
public final class Conv1dBlock: Module, UnaryLayer {
    public let conv: Conv1d
    public let norm: GroupNorm

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, groups: Int, rng: RandomGenerator) {
        conv = Conv1d(inChannels, outChannels, kernel: kernel, padding: .symmetric(kernel / 2), rng: rng)
        norm = GroupNorm(groups: groups, channels: outChannels)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { norm(conv(x), activation: .mish) }
}

/// Diffuser's ResidualTemporalBlock: h = B₁(x) + Linear(Mish(t)) over the horizon; h = B₂(h);
/// h + (1×1 conv of x when the channel count changes).
public final class ResidualTemporalBlock: Module {
    public let first: Conv1dBlock
    public let second: Conv1dBlock
    public let time: Linear
    public let residual: Conv1d?

    public init(_ inChannels: Int, _ outChannels: Int, embedding: Int, kernel: Int, groups: Int, rng: RandomGenerator) {
        first = Conv1dBlock(inChannels, outChannels, kernel: kernel, groups: groups, rng: rng)
        second = Conv1dBlock(outChannels, outChannels, kernel: kernel, groups: groups, rng: rng)
        time = Linear(embedding, outChannels, rng: rng)
        residual = inChannels != outChannels ? Conv1d(inChannels, outChannels, kernel: 1, rng: rng) : nil
    }

    public func callAsFunction(_ x: Tensor, _ t: Tensor) -> Tensor {
        let h = second(first(x) + time(t.mish()).unsqueezed(axis: 2))
        return h + (residual.map { $0(x) } ?? x)
    }
}

/// Janner et al.'s temporal U-Net (Diffuser, models/temporal.py) over trajectories [B, H, D]:
/// channels D → dim·mults, two residual blocks per level, Conv1d(k3, s2, p1) down, mid blocks,
/// ConvTranspose1d(k4, s2, p1) up with skip concatenation, final Conv1dBlock and 1×1 conv.
/// The horizon must be divisible by 2^(levels − 1). No attention (Diffuser's default).
public final class TemporalUNet: Module, Denoiser, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var transition: Int
        public var horizon: Int
        public var dim = 32
        public var mults = [1, 2, 4]
        public var kernel = 5
        public var groups = 8
        public init(transition: Int, horizon: Int, dim: Int = 32, mults: [Int] = [1, 2, 4], kernel: Int = 5, groups: Int = 8) {
            self.transition = transition; self.horizon = horizon; self.dim = dim; self.mults = mults; self.kernel = kernel; self.groups = groups
        }
    }

    public let config: Config
    public let embedding: SinusoidalEmbedding
    public let timeIn: Linear
    public let timeOut: Linear
    public let downBlocks: [ResidualTemporalBlock]
    public let downsamples: [Conv1d]
    public let midBlocks: [ResidualTemporalBlock]
    public let upBlocks: [ResidualTemporalBlock]
    public let upsamples: [ConvTranspose1d]
    public let finalBlock: Conv1dBlock
    public let finalConv: Conv1d

    public init(config c: Config, rng: RandomGenerator) {
        precondition(c.mults.count >= 1 && c.horizon % (1 << (c.mults.count - 1)) == 0,
                     "TemporalUNet: horizon \(c.horizon) must be divisible by 2^\(c.mults.count - 1)")
        config = c
        let dims = [c.transition] + c.mults.map { c.dim * $0 }
        let pairs = Array(zip(dims.dropLast(), dims.dropFirst()))
        let e = c.dim
        embedding = SinusoidalEmbedding(e)
        timeIn = Linear(e, 4 * e, activation: .mish, rng: rng)
        timeOut = Linear(4 * e, e, rng: rng)
        var down: [ResidualTemporalBlock] = [], ds: [Conv1d] = []
        for (i, (a, b)) in pairs.enumerated() {
            down.append(ResidualTemporalBlock(a, b, embedding: e, kernel: c.kernel, groups: c.groups, rng: rng))
            down.append(ResidualTemporalBlock(b, b, embedding: e, kernel: c.kernel, groups: c.groups, rng: rng))
            if i < pairs.count - 1 { ds.append(Conv1d(b, b, kernel: 3, stride: 2, padding: .symmetric(1), rng: rng)) }
        }
        downBlocks = down
        downsamples = ds
        let mid = dims.last!
        midBlocks = (0..<2).map { _ in ResidualTemporalBlock(mid, mid, embedding: e, kernel: c.kernel, groups: c.groups, rng: rng) }
        var up: [ResidualTemporalBlock] = [], us: [ConvTranspose1d] = []
        for (a, b) in pairs.dropFirst().reversed() {
            up.append(ResidualTemporalBlock(2 * b, a, embedding: e, kernel: c.kernel, groups: c.groups, rng: rng))
            up.append(ResidualTemporalBlock(a, a, embedding: e, kernel: c.kernel, groups: c.groups, rng: rng))
            us.append(ConvTranspose1d(a, a, kernel: 4, stride: 2, padding: 1, rng: rng))
        }
        upBlocks = up
        upsamples = us
        finalBlock = Conv1dBlock(c.dim, c.dim, kernel: c.kernel, groups: c.groups, rng: rng)
        finalConv = Conv1d(c.dim, c.transition, kernel: 1, rng: rng)
    }

    /// x: [B, H, transition], t: [B] → [B, H, transition].
    public func callAsFunction(_ x: Tensor, t: Tensor, cond: Tensor? = nil) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == config.transition && x.shape[1] % (1 << (config.mults.count - 1)) == 0,
                     "TemporalUNet expects [B, H, \(config.transition)] with H divisible by \(1 << (config.mults.count - 1)), got \(x.shape)")
        let temb = timeOut(timeIn(embedding(t)))
        var h = x.transposed(1, 2)
        var skips: [Tensor] = []
        for level in 0..<config.mults.count {
            h = downBlocks[2 * level + 1](downBlocks[2 * level](h, temb), temb)
            skips.append(h)
            if level < downsamples.count { h = downsamples[level](h) }
        }
        for b in midBlocks { h = b(h, temb) }
        for level in 0..<upsamples.count {
            h = Tensor.concat([h, skips.removeLast()], axis: 1)
            h = upBlocks[2 * level + 1](upBlocks[2 * level](h, temb), temb)
            h = upsamples[level](h)
        }
        return finalConv(finalBlock(h)).transposed(1, 2)
    }
}
