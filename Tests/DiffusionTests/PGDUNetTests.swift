import Diffusion
import Foundation
import NN
import Testing
import TensorCore
import TestSupport

/// PGD's trajectory U-Net (docs/pgd.md §2).
@Suite("PGDUNet")
struct PGDUNetTests {
    @Test(arguments: [8, 16, 32])
    func outputHasTheInputShape(length: Int) {
        for perTimestep in [false, true] {
            let net = PGDUNet(config: .init(transition: 8, features: 16, levels: 3, frequencies: 8, perTimestepNorm: perTimestep),
                              rng: RandomGenerator(seed: 1))
            let x = RandomGenerator(seed: 2).normal([3, length, 8])
            let y = net(x, t: Tensor([-1, 0, 0.5]), cond: nil)
            #expect(y.shape == [3, length, 8])
            #expect(y.scalars.allSatisfy { $0.isFinite })
        }
    }

    /// Layer shapes of docs/pgd.md §2 for F = 16, 3 levels, D = 8: encoder 8→16, 16→32, 32→64 (k 3),
    /// decoder 64→32 then 32→16 (k 2, SAME = pad (0, 1)), concat 2C → C, output k 1 to D.
    @Test func layoutMatchesTheReference() {
        let net = PGDUNet(config: .init(transition: 8, features: 16, levels: 3, frequencies: 8), rng: RandomGenerator(seed: 1))
        let shapes = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.0, $0.1.shape) })
        #expect(shapes["timeIn.weight"] == [16, 16])
        #expect(shapes["timeOut.weight"] == [16, 16])
        #expect(shapes["encoder.0.conv1.weight"] == [16, 8, 3])
        #expect(shapes["encoder.0.time.weight"] == [16, 16])
        #expect(shapes["encoder.1.conv1.weight"] == [32, 16, 3])
        #expect(shapes["encoder.2.conv2.weight"] == [64, 64, 3])
        #expect(shapes["encoder.2.norm2.weight"] == [64])
        #expect(shapes["decoder.0.upConv.weight"] == [32, 64, 2])
        #expect(shapes["decoder.0.time.weight"] == [32, 16])
        #expect(shapes["decoder.0.conv1.weight"] == [32, 64, 3])
        #expect(shapes["decoder.1.upConv.weight"] == [16, 32, 2])
        #expect(shapes["decoder.1.conv2.weight"] == [16, 16, 3])
        #expect(shapes["output.weight"] == [8, 16, 1])
        #expect(net.decoder[0].upConv.config.padding == .explicit([0, 1]))
        #expect(net.encoder[0].norm1.config.eps == 1e-6)
        #expect(net.encoder.count == 3 && net.decoder.count == 2)
    }

    @Test func parameterCountFormulaMatchesTheModule() {
        for features in [8, 16, 24] { for levels in [2, 3] { for transition in [5, 8] {
            let c = PGDUNet.Config(transition: transition, features: features, levels: levels, frequencies: 4 + features / 8)
            let net = PGDUNet(config: c, rng: RandomGenerator(seed: 3))
            #expect(PGDUNet.parameterCount(c) == net.parameterCount, "\(c)")
        } } }
    }

    /// docs/pgd.md §2 counts "about 177.6M" by hand without naming D. For F = 1024, q = 128 the
    /// D-free part is 177,554,432 and each channel of D adds 3·1024 (first conv) + 1024 + 1 (output
    /// conv) = 4,097: D = 8 gives 177,587,208, D = 25 (HalfCheetah/Walker: 17 + 6 + 2) 177,656,857.
    @Test func paperPresetHasAbout177Point6MillionParameters() {
        let c25 = PGDUNet.paperPreset(transition: 25)
        #expect(c25 == PGDUNet.Config(transition: 25, features: 1024, levels: 3, groups: 8, frequencies: 128, perTimestepNorm: true))
        #expect(!PGDUNet.paperPreset(transition: 25, perTimestepNorm: false).perTimestepNorm)
        #expect(PGDUNet.parameterCount(c25) == 177_656_857)
        #expect(PGDUNet.parameterCount(PGDUNet.paperPreset(transition: 8)) == 177_587_208)
        for d in [8, 25] { #expect(abs(Double(PGDUNet.parameterCount(PGDUNet.paperPreset(transition: d))) - 177.6e6) < 0.1e6) }
        // An independent tally of the D-free part (every conv and dense with bias, GroupNorm scale and shift).
        let f = 1024, ch = [1024, 2048, 4096]
        var free = 256 * f + f + f * f + f
        free += ch[0] + f * ch[0] + ch[0] + 3 * ch[0] * ch[0] + ch[0] + 4 * ch[0]
        for i in 1..<3 { free += 3 * ch[i - 1] * ch[i] + ch[i] + f * ch[i] + ch[i] + 3 * ch[i] * ch[i] + ch[i] + 4 * ch[i] }
        for i in [1, 0] { free += 2 * ch[i + 1] * ch[i] + ch[i] + f * ch[i] + ch[i] + 6 * ch[i] * ch[i] + ch[i] + 3 * ch[i] * ch[i] + ch[i] + 6 * ch[i] }
        #expect(free == 177_554_432)
        #expect(PGDUNet.parameterCount(c25) == free + 25 * (3 * 1024 + 1024 + 1))
    }

    @Test(arguments: [false, true])
    func gradientCheck(perTimestep: Bool) {
        let net = PGDUNet(config: .init(transition: 3, features: 8, levels: 2, groups: 2, frequencies: 4, perTimestepNorm: perTimestep),
                          rng: RandomGenerator(seed: 4))
        let r = TestSupport.gradientCheck([checkInput([2, 4, 3], seed: 5)]) { net($0[0], t: Tensor([-0.3, 0.4]), cond: nil) }
        #expect(r.passed, "\(r)")
        let out = net(RandomGenerator(seed: 6).normal([2, 8, 3]), t: Tensor([0.1, -0.2]), cond: nil)
        out.squared().sum().backward()
        let missing = net.namedParameters().filter { $0.1.grad == nil }.map { $0.0 }
        #expect(missing.isEmpty, "no gradient for \(missing)")
    }

    /// The normalization helper's statistics: per timestep, every (b, t, group) has mean 0 and
    /// variance 1 over its C/groups channels; otherwise every (b, group) does over (L, C/groups).
    @Test(arguments: [false, true])
    func groupNormStatistics(perTimestep: Bool) {
        let (b, c, l, groups) = (2, 8, 5, 2)
        let h = RandomGenerator(seed: 7).normal([b, c, l]) * 3 + 1
        let norm = GroupNorm(groups: groups, channels: c, eps: 1e-6)
        let y = PGDUNet.groupNorm(h, norm, perTimestep: perTimestep, activation: .identity).scalars
        let size = c / groups
        func stats(_ values: [Float]) -> (Float, Float) {
            let m = values.reduce(0, +) / Float(values.count)
            return (m, values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(values.count))
        }
        for s in 0..<b { for g in 0..<groups {
            let channels = (g * size)..<((g + 1) * size)
            if perTimestep {
                for t in 0..<l {
                    let (m, v) = stats(channels.map { y[(s * c + $0) * l + t] })
                    #expect(abs(m) < 1e-5 && abs(v - 1) < 1e-3, "sample \(s) group \(g) t \(t): mean \(m) var \(v)")
                }
            } else {
                let (m, v) = stats(channels.flatMap { ch in (0..<l).map { y[(s * c + ch) * l + $0] } })
                #expect(abs(m) < 1e-5 && abs(v - 1) < 1e-3, "sample \(s) group \(g): mean \(m) var \(v)")
                // Not per timestep: some timestep's group is off mean 0 (the option changes the statistics).
                let perT = (0..<l).map { t in stats(channels.map { y[(s * c + $0) * l + t] }).0 }
                #expect(perT.map { abs($0) }.max()! > 0.1)
            }
        } }
    }

    /// The model's first GroupNorm: changing the input at timestep 5 reaches timesteps 4…6 through
    /// the k 3 conv; with per-timestep statistics every other timestep's GN output is unchanged, with
    /// ordinary statistics they all move (the mean and variance are shared over L).
    @Test(arguments: [false, true])
    func perTimestepNormKeepsOtherTimestepsFixed(perTimestep: Bool) {
        let net = PGDUNet(config: .init(transition: 4, features: 16, levels: 2, frequencies: 4, perTimestepNorm: perTimestep),
                          rng: RandomGenerator(seed: 8))
        let x = RandomGenerator(seed: 9).normal([2, 12, 4])
        var changed = x.scalars
        for s in 0..<2 { for ch in 0..<4 { changed[(s * 12 + 5) * 4 + ch] += 4 } }
        let x2 = Tensor(changed, shape: x.shape)
        let temb = net.timeFeatures(Tensor([0.2, -0.7]))
        let a = net.encoder[0].first(x.transposed(1, 2), temb), b = net.encoder[0].first(x2.transposed(1, 2), temb)
        var far: Float = 0, near: Float = 0
        for s in 0..<2 { for ch in 0..<16 { for t in 0..<12 {
            let i = (s * 16 + ch) * 12 + t, d = abs(a.scalars[i] - b.scalars[i])
            if (4...6).contains(t) { near = max(near, d) } else { far = max(far, d) }
        } } }
        #expect(near > 0.1)
        if perTimestep { #expect(far <= 1e-5, "far timesteps moved by \(far)") } else { #expect(far > 1e-2, "far timesteps moved by only \(far)") }
    }

    /// Samplers evaluate rows in blocks, one per thread (`Denoiser.network`): rows must be
    /// independent in both GroupNorm modes.
    @Test(arguments: [false, true])
    func rowBlockedSamplingEqualsOneCall(perTimestep: Bool) {
        Threads.withCount(2) {
            let net = PGDUNet(config: .init(transition: 6, features: 16, levels: 3, frequencies: 8, perTimestepNorm: perTimestep),
                              rng: RandomGenerator(seed: 12))
            net.eval()
            let x = RandomGenerator(seed: 13).normal([5, 8, 6]), t = Tensor([-1, -0.5, 0, 0.5, 1])
            let whole = noGrad { net(x, t: t, cond: nil) }
            let blocked = noGrad { net.network()(x, t) }
            #expect(maxAbsDifference(whole, blocked) <= 1e-5 * max(whole.abs().max().item, 1))
        }
    }

    @Test func roundTripsThroughCheckpoints() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pd-pgdunet-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let net = PGDUNet(config: .init(transition: 5, features: 8, levels: 2, groups: 2, frequencies: 4, perTimestepNorm: true),
                          rng: RandomGenerator(seed: 10))
        try Checkpoint.save(net, to: url)
        let (back, metadata, _) = try Checkpoint.load(PGDUNet.self, from: url)
        #expect(metadata["model"] == "PGDUNet")
        #expect(back.config == net.config)
        let x = RandomGenerator(seed: 11).normal([2, 8, 5])
        #expect(back(x, t: Tensor([0.3, -1]), cond: nil).scalars == net(x, t: Tensor([0.3, -1]), cond: nil).scalars)
    }
}
