import Foundation
import NN
import TensorCore

/// The trajectory U-Net of Policy-Guided Diffusion (Jackson et al. 2024, arXiv 2404.06356; reference
/// code models/diffusion.py; docs/pgd.md §2) over x [B, L, D], channels last like `TemporalUNet`.
///
/// - Time: `frequencies` sinusoids of c_noise, [sin, cos] → Dense F → swish → Dense F; every block adds
///   Dense_C(swish(emb)), broadcast over time.
/// - Encoder level i (C = F·2^i): Conv k3 → + temb → GN → ReLU → Conv k3 → GN → ReLU → skip z_i →
///   MaxPool 2 (the last level's pooled output is unused, so it is not computed).
/// - Decoder i = levels−2 … 0 from x = z_last: nearest resize to len(z_i) → Conv k2 (SAME: pad 0 left,
///   1 right) → + temb → GN → ReLU → concat z_i → (Conv k3 → GN → ReLU) × 2; output Conv k1 to D.
///
/// GroupNorm has 8 groups and ε = 1e-6 (Flax's default). Statistics are per sample over
/// (L, C/groups) by default; `perTimestepNorm` gives the reference code's per-timestep statistics
/// (docs/pgd.md §2 "GroupNorm quirk" and "Quirks of the reference code"). Weights are LeCun normal
/// with zero biases, Flax's defaults, as the reference code trains from them.
public final class PGDUNet: Module, Denoiser, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        /// D = obs + act + 2 (docs/pgd.md §1).
        public var transition: Int
        /// F, the width of level 0 and of the time embedding.
        public var features = 1024
        /// Level i has F·2^i channels; L must be a multiple of 2^(levels − 1).
        public var levels = 3
        public var groups = 8
        /// Number of time-embedding frequencies; the embedding has 2× as many features.
        public var frequencies = 128
        /// GroupNorm statistics per (sample, timestep) over C/groups channels, as the reference code
        /// computes them under vmap (docs/pgd.md §2); false: per sample over (L, C/groups).
        public var perTimestepNorm = false

        public init(transition: Int, features: Int = 1024, levels: Int = 3, groups: Int = 8, frequencies: Int = 128,
                    perTimestepNorm: Bool = false) {
            self.transition = transition; self.features = features; self.levels = levels; self.groups = groups
            self.frequencies = frequencies; self.perTimestepNorm = perTimestepNorm
        }

        /// Channels of level i.
        public func channels(_ level: Int) -> Int { features << level }
    }

    /// The network of the paper's reference code (docs/pgd.md §2): F = 1024, 3 levels, 8 groups,
    /// 128 frequencies, about 177.6M parameters, GroupNorm statistics per timestep as the reference
    /// computes them (a vmap side effect; the issue that asked for this preset names it part of the
    /// paper's network). `perTimestepNorm: false` gives ordinary GroupNorm over (L, C/groups).
    public static func paperPreset(transition: Int, perTimestepNorm: Bool = true) -> Config {
        Config(transition: transition, features: 1024, levels: 3, groups: 8, frequencies: 128, perTimestepNorm: perTimestepNorm)
    }

    /// The parameter count of a config, by formula (nothing is allocated; the 177.6M preset can be
    /// sized without building it).
    public static func parameterCount(_ c: Config) -> Int {
        let f = c.features, d = c.transition
        // Dense 2q → F and Dense F → F.
        var n = (2 * c.frequencies * f + f) + (f * f + f)
        for i in 0..<c.levels {
            let ch = c.channels(i), input = i == 0 ? d : c.channels(i - 1)
            // Conv k3 in → C, Dense F → C, Conv k3 C → C (all with bias), two GroupNorms (scale, shift).
            n += (3 * input * ch + ch) + (f * ch + ch) + (3 * ch * ch + ch) + 2 * (2 * ch)
        }
        for i in stride(from: c.levels - 2, through: 0, by: -1) {
            let ch = c.channels(i)
            // Conv k2 C_{i+1} → C, Dense F → C, Conv k3 2C → C, Conv k3 C → C, three GroupNorms.
            n += (2 * c.channels(i + 1) * ch + ch) + (f * ch + ch) + (3 * 2 * ch * ch + ch) + (3 * ch * ch + ch) + 3 * (2 * ch)
        }
        return n + (c.channels(0) * d + d)
    }

    /// GroupNorm then `activation` over [B, C, L]. Per timestep, each (b, t) position becomes a row
    /// [B·L, C] so the same GroupNorm kernel takes statistics over that position's channel groups
    /// only: the reference code's vmapped Flax GroupNorm (docs/pgd.md §2).
    public static func groupNorm(_ h: Tensor, _ norm: GroupNorm, perTimestep: Bool, activation: Activation = .relu) -> Tensor {
        guard perTimestep else { return norm(h, activation: activation) }
        let (b, c, l) = (h.shape[0], h.shape[1], h.shape[2])
        let rows = h.transposed(1, 2).reshaped([b * l, c])
        return norm(rows, activation: activation).reshaped([b, l, c]).transposed(1, 2)
    }

    /// One encoder level: Conv k3 → + temb → GN → ReLU → Conv k3 → GN → ReLU (docs/pgd.md §2).
    public final class EncoderLevel: Module {
        public let conv1: Conv1d
        public let time: Linear
        public let norm1: GroupNorm
        public let conv2: Conv1d
        public let norm2: GroupNorm
        let perTimestep: Bool

        init(_ input: Int, _ channels: Int, config c: Config, rng: RandomGenerator) {
            conv1 = PGDUNet.conv(input, channels, kernel: 3, padding: .symmetric(1), rng: rng)
            time = Linear(c.features, channels, initializer: .lecunNormal, rng: rng)
            norm1 = GroupNorm(groups: c.groups, channels: channels, eps: 1e-6)
            conv2 = PGDUNet.conv(channels, channels, kernel: 3, padding: .symmetric(1), rng: rng)
            norm2 = GroupNorm(groups: c.groups, channels: channels, eps: 1e-6)
            perTimestep = c.perTimestepNorm
        }

        /// Conv → + Dense(swish(emb)) → GN → ReLU on [B, C_in, L] (public so tests can see the first
        /// GroupNorm's statistics). `temb` is swish(emb) [B, F].
        public func first(_ x: Tensor, _ temb: Tensor) -> Tensor {
            PGDUNet.groupNorm(conv1(x) + time(temb).unsqueezed(axis: 2), norm1, perTimestep: perTimestep)
        }

        /// The skip z_i [B, C, L].
        public func callAsFunction(_ x: Tensor, _ temb: Tensor) -> Tensor {
            PGDUNet.groupNorm(conv2(first(x, temb)), norm2, perTimestep: perTimestep)
        }
    }

    /// One decoder level: resize → Conv k2 → + temb → GN → ReLU → concat skip → (Conv k3 → GN →
    /// ReLU) × 2 (docs/pgd.md §2).
    public final class DecoderLevel: Module {
        public let upConv: Conv1d
        public let time: Linear
        public let upNorm: GroupNorm
        public let conv1: Conv1d
        public let norm1: GroupNorm
        public let conv2: Conv1d
        public let norm2: GroupNorm
        let perTimestep: Bool

        init(_ input: Int, _ channels: Int, config c: Config, rng: RandomGenerator) {
            // Flax's SAME for k 2 pads 0 before and 1 after (docs/pgd.md §2).
            upConv = PGDUNet.conv(input, channels, kernel: 2, padding: .explicit([0, 1]), rng: rng)
            time = Linear(c.features, channels, initializer: .lecunNormal, rng: rng)
            upNorm = GroupNorm(groups: c.groups, channels: channels, eps: 1e-6)
            conv1 = PGDUNet.conv(2 * channels, channels, kernel: 3, padding: .symmetric(1), rng: rng)
            norm1 = GroupNorm(groups: c.groups, channels: channels, eps: 1e-6)
            conv2 = PGDUNet.conv(channels, channels, kernel: 3, padding: .symmetric(1), rng: rng)
            norm2 = GroupNorm(groups: c.groups, channels: channels, eps: 1e-6)
            perTimestep = c.perTimestepNorm
        }

        /// x [B, C_{i+1}, L/2], skip [B, C_i, L] → [B, C_i, L].
        public func callAsFunction(_ x: Tensor, skip: Tensor, _ temb: Tensor) -> Tensor {
            let up = upConv(x.resizeNearest1d(size: skip.shape[2])) + time(temb).unsqueezed(axis: 2)
            var h = PGDUNet.groupNorm(up, upNorm, perTimestep: perTimestep)
            h = PGDUNet.groupNorm(conv1(Tensor.concat([h, skip], axis: 1)), norm1, perTimestep: perTimestep)
            return PGDUNet.groupNorm(conv2(h), norm2, perTimestep: perTimestep)
        }
    }

    static func conv(_ input: Int, _ output: Int, kernel: Int, padding: ConvPadding, rng: RandomGenerator) -> Conv1d {
        Conv1d(config: ConvConfig(inChannels: input, outChannels: output, kernel: kernel, padding: padding, initializer: .lecunNormal), rng: rng)
    }

    public let config: Config
    public let embedding: SinusoidalEmbedding
    public let timeIn: Linear
    public let timeOut: Linear
    public let encoder: [EncoderLevel]
    /// In execution order: level levels−2 first, level 0 last.
    public let decoder: [DecoderLevel]
    public let output: Conv1d

    public init(config c: Config, rng: RandomGenerator) {
        precondition(c.transition > 0 && c.features > 0 && c.levels >= 1 && c.frequencies >= 2,
                     "PGDUNet needs transition, features > 0, levels ≥ 1 and frequencies ≥ 2, got \(c)")
        precondition(c.groups > 0 && c.features % c.groups == 0, "PGDUNet: \(c.features) features do not split into \(c.groups) groups")
        config = c
        // SinusoidalEmbedding(2q) has f_j = exp(−j·ln(1e4)/(q − 1)), j < q, and gives [sin, cos].
        embedding = SinusoidalEmbedding(2 * c.frequencies)
        timeIn = Linear(2 * c.frequencies, c.features, activation: .silu, initializer: .lecunNormal, rng: rng)
        timeOut = Linear(c.features, c.features, initializer: .lecunNormal, rng: rng)
        encoder = (0..<c.levels).map { i in EncoderLevel(i == 0 ? c.transition : c.channels(i - 1), c.channels(i), config: c, rng: rng) }
        decoder = stride(from: c.levels - 2, through: 0, by: -1).map { i in DecoderLevel(c.channels(i + 1), c.channels(i), config: c, rng: rng) }
        output = PGDUNet.conv(c.channels(0), c.transition, kernel: 1, padding: .valid, rng: rng)
    }

    /// swish(emb(c_noise)) [B, F]: what every block's Dense_C reads.
    public func timeFeatures(_ t: Tensor) -> Tensor { timeOut(timeIn(embedding(t))).silu() }

    /// x: [B, L, transition] with L a multiple of 2^(levels − 1), t: c_noise [B] → [B, L, transition].
    public func callAsFunction(_ x: Tensor, t: Tensor, cond: Tensor? = nil) -> Tensor {
        let multiple = 1 << (config.levels - 1)
        precondition(x.rank == 3 && x.shape[2] == config.transition,
                     "PGDUNet expects x [B, L, \(config.transition)], got \(x.shape)")
        precondition(x.shape[1] > 0 && x.shape[1] % multiple == 0,
                     "PGDUNet with \(config.levels) levels needs L to be a multiple of \(multiple), got L = \(x.shape[1]) (docs/pgd.md §1: sample 128 rows, not 129)")
        precondition(t.count == x.shape[0], "PGDUNet expects one c_noise per sample: t has \(t.count) values for batch \(x.shape[0])")
        let temb = timeFeatures(t)
        var h = x.transposed(1, 2)
        var skips: [Tensor] = []
        for (i, level) in encoder.enumerated() {
            if i > 0 { h = h.maxPool1d(kernel: 2) }
            h = level(h, temb)
            skips.append(h)
        }
        for (k, level) in decoder.enumerated() { h = level(h, skip: skips[config.levels - 2 - k], temb) }
        return output(h).transposed(1, 2)
    }
}
