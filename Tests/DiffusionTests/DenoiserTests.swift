import Diffusion
import Foundation
import NN
import Testing
import TensorCore
import TestSupport

@Suite("Denoisers")
struct DenoiserTests {
    /// Diffuser's layout for transition 23, horizon 32, dim 32, mults (1, 2, 4): channel counts per
    /// level 23→32@32→64@16→128@8, mid 128@8, up 256→64 (8→16), 128→32 (16→32), out 23.
    @Test func temporalUNetMatchesDiffuserLayout() {
        let net = TemporalUNet(config: .init(transition: 23, horizon: 32), rng: RandomGenerator(seed: 1))
        let shapes = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.0, $0.1.shape) })
        #expect(shapes["downBlocks.0.first.conv.weight"] == [32, 23, 5])
        #expect(shapes["downBlocks.0.residual.weight"] == [32, 23, 1])
        #expect(shapes["downsamples.0.weight"] == [32, 32, 3])
        #expect(shapes["downBlocks.4.first.conv.weight"] == [128, 64, 5])
        #expect(shapes["midBlocks.1.second.conv.weight"] == [128, 128, 5])
        #expect(shapes["upBlocks.0.first.conv.weight"] == [64, 256, 5])
        #expect(shapes["upsamples.0.weight"] == [64, 64, 4])
        #expect(shapes["upBlocks.2.first.conv.weight"] == [32, 128, 5])
        #expect(shapes["finalConv.weight"] == [23, 32, 1])
        #expect(shapes["timeIn.weight"] == [128, 32])
        let x = RandomGenerator(seed: 2).normal([3, 32, 23])
        #expect(net(x, t: Tensor([0, 5, 19]), cond: nil).shape == [3, 32, 23])
        #expect(net.downsamples.count == 2 && net.upsamples.count == 2)
    }

    @Test func everyParameterGetsAGradient() {
        let g = RandomGenerator(seed: 3)
        let models: [(String, any Denoiser, Tensor, Tensor?)] = [
            ("temporal U-Net", TemporalUNet(config: .init(transition: 5, horizon: 8, dim: 16, mults: [1, 2], groups: 4), rng: g), g.normal([2, 8, 5]), nil),
            ("U-Net 2D", UNet2D(config: .init(size: 8, width: 16, embedding: 32, groups: 4), rng: g), g.normal([2, 1, 8, 8]), Tensor([3, 10])),
            ("residual MLP", ResidualMLPDenoiser(config: .init(dataDim: 2, condDim: 8, hidden: 64, dropout: 0.1), rng: g), g.normal([4, 2]), g.normal([4, 8])),
            ("MLP", MLPDenoiser(config: .init(dataDim: 3, hidden: [32, 32]), rng: g), g.normal([4, 3]), nil),
            ("window MLP", WindowMLP(config: .init(horizon: 2, transition: 5, width: 16, hidden: 32, blocks: 2), rng: g), g.normal([4, 2, 5]), nil),
        ]
        for (name, m, x, c) in models {
            let out = m(x, t: Tensor.arange(x.shape[0]), cond: c)
            #expect(out.shape == x.shape, "\(name)")
            out.squared().sum().backward()
            let missing = m.namedParameters().filter { $0.1.grad == nil }.map { $0.0 }
            #expect(missing.isEmpty, "\(name): no gradient for \(missing)")
        }
    }

    /// Sampling evaluates rows in one block per thread; every denoiser must give what one call on
    /// the whole batch gives (rows are independent), the same bits on every repeat (no races between
    /// the blocks), and fall back to one call while training.
    @Test func rowBlockedSamplingEqualsOneCall() {
        Threads.withCount(2) {
            let g = RandomGenerator(seed: 8)
            let models: [(String, any Denoiser, Tensor, Tensor?)] = [
                ("temporal U-Net", TemporalUNet(config: .init(transition: 23, horizon: 32), rng: g), g.normal([7, 32, 23]), nil),
                ("U-Net 2D", UNet2D(config: .init(), rng: g), g.normal([5, 1, 8, 8]), Tensor([3, 1, 4, 1, 5])),
                ("residual MLP", ResidualMLPDenoiser(config: .init(dataDim: 2, condDim: 8), rng: g), g.normal([33, 2]), g.normal([33, 8])),
                ("MLP", MLPDenoiser(config: .init(dataDim: 17), rng: g), g.normal([9, 17]), nil),
                ("window MLP", WindowMLP(config: .init(horizon: 2, transition: 6), rng: g), g.normal([13, 2, 6]), nil),
            ]
            for (name, m, x, c) in models {
                m.eval()
                let t = Tensor((0..<x.shape[0]).map { Float($0 * 3) })
                let whole = noGrad { m(x, t: t, cond: c) }
                let blocked = noGrad { m.network(condition: c)(x, t) }
                let scale = whole.abs().max().item
                #expect(maxAbsDifference(whole, blocked) <= 1e-5 * max(scale, 1), "\(name)")
                for _ in 0..<10 { #expect(noGrad { m.network(condition: c)(x, t) }.scalars == blocked.scalars, "\(name)") }
                m.train()
                let withGrad = m.network(condition: c)(x, t)
                #expect(withGrad.requiresGrad, "\(name): training calls must record gradients")
            }
        }
    }

    /// The window MLP is the residual MLP on the flattened window: same weights, same numbers, and its
    /// gradient with respect to the window checks against finite differences.
    @Test func windowMLPIsTheResidualMLPOnFlattenedWindows() {
        let config = WindowMLP.Config(horizon: 3, transition: 2, width: 8, hidden: 16, blocks: 2)
        let net = WindowMLP(config: config, rng: RandomGenerator(seed: 6))
        let flat = ResidualMLPDenoiser(config: config.mlp, rng: RandomGenerator(seed: 6))
        let x = RandomGenerator(seed: 7).normal([4, 3, 2]), t = Tensor([-1.5, -0.2, 0.4, 1.1])
        #expect(net(x, t: t).scalars == flat(x.reshaped([4, 6]), t: t, cond: nil).scalars)
        let r = gradientCheck([checkInput([2, 3, 2], seed: 8)]) { net($0[0], t: Tensor([0.3, -0.8]), cond: nil) }
        #expect(r.passed, "\(r)")
    }

    @Test func temporalUNetGradientCheck() {
        let net = TemporalUNet(config: .init(transition: 3, horizon: 4, dim: 8, mults: [1, 2], groups: 2), rng: RandomGenerator(seed: 4))
        let r = gradientCheck([checkInput([2, 4, 3], seed: 5)]) { net($0[0], t: Tensor([1, 7]), cond: nil) }
        #expect(r.passed, "\(r)")
    }

    /// The positional encoding of x: 2L features per coordinate beside x, differentiable in x (guidance
    /// needs ∇ₓ), and kept by checkpoints.
    @Test func mlpInputEncoding() throws {
        let net = MLPDenoiser(config: .init(dataDim: 3, hidden: [16, 16], inputFrequencies: 2), rng: RandomGenerator(seed: 9))
        let width: Int = 3 * (1 + 2 * 2) + 16
        #expect(net.mlp.config.sizes.first == width)
        let r = gradientCheck([checkInput([2, 3], seed: 10)]) { net($0[0], t: Tensor([1, 7]), cond: nil) }
        #expect(r.passed, "\(r)")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pd-mlp-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(net, to: url)
        let (back, _, _) = try Checkpoint.load(MLPDenoiser.self, from: url)
        let x = RandomGenerator(seed: 11).normal([2, 3])
        #expect(back.config == net.config && back(x, t: Tensor([3, 4])).scalars == net(x, t: Tensor([3, 4])).scalars)
    }

    @Test func denoisersRoundTripThroughCheckpoints() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pd-unet-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let net = TemporalUNet(config: .init(transition: 4, horizon: 8, dim: 8, mults: [1, 2], groups: 2), rng: RandomGenerator(seed: 6))
        try Checkpoint.save(net, to: url)
        let (back, _, _) = try Checkpoint.load(TemporalUNet.self, from: url)
        let x = RandomGenerator(seed: 7).normal([2, 8, 4])
        #expect(back(x, t: Tensor([3, 4]), cond: nil).scalars == net(x, t: Tensor([3, 4]), cond: nil).scalars)
    }

    @Test func weightedObjectivesWeightWhatTheySay() {
        let net: DenoisingNetwork = { x, _ in Tensor(zeros: x.shape) }
        let x0 = Tensor(ones: [4, 2])
        let obj = DiffusionObjective.discrete(schedule: .linear(), steps: 1000, prediction: .sample)
        // Predicting 0 for x₀ = 1: every squared error is 1, so the loss is the mean weight.
        #expect(obj.loss(net, x0: x0, rng: RandomGenerator(seed: 1)).item == 1)
        #expect(obj.loss(net, x0: x0, rng: RandomGenerator(seed: 1), sampleWeights: Tensor([0, 0, 2, 2])).item == 1)
        #expect(obj.loss(net, x0: x0, rng: RandomGenerator(seed: 1), elementWeights: Tensor([10, 0], shape: [1, 2])).item == 5)
        #expect(obj.loss(net, x0: x0, rng: RandomGenerator(seed: 1), reduction: .sum).item == 2)
    }

    /// The per-sample error with explicit noise: its batch mean is the loss drawn from the same
    /// generator (discrete and EDM, weighted or not), the sum reduction is the mean × dimension,
    /// and equal noise gives equal errors to identical networks (DPO's pairing).
    @Test(arguments: [DiffusionObjective.discrete(schedule: .squaredCosCapV2, steps: 100, prediction: .epsilon),
                      .discrete(schedule: .linear(), steps: 50, prediction: .vPrediction), .edm(EDM())])
    func perSampleErrorAveragesToTheLoss(_ objective: DiffusionObjective) {
        let model = MLPDenoiser(config: .init(dataDim: 3, hidden: [16]), rng: RandomGenerator(seed: 2))
        let x0 = RandomGenerator(seed: 3).normal([6, 3]), w = Tensor([0.5, 1, 2, 0, 1, 3])
        for weights in [nil, w] {
            let loss = objective.loss(model.network(), x0: x0, rng: RandomGenerator(seed: 4), sampleWeights: weights).item
            let noise = objective.drawNoise(like: x0, rng: RandomGenerator(seed: 4))
            let errors = objective.perSampleError(model.network(), x0: x0, noise: noise)
            #expect(errors.shape == [6])
            let mean = (weights.map { errors * $0 } ?? errors).mean().item
            #expect(abs(mean - loss) <= 1e-6 * max(1, abs(loss)), "\(mean) vs \(loss)")
            let sums = objective.perSampleError(model.network(), x0: x0, noise: noise, reduction: .sum)
            for (s, m) in zip(sums.scalars, errors.scalars) { #expect(abs(s - 3 * m) <= 1e-5 * max(1, abs(s))) }
        }
        let noise = objective.drawNoise(like: x0, rng: RandomGenerator(seed: 5))
        let copy = model.clone()
        #expect(objective.perSampleError(model.network(), x0: x0, noise: noise).scalars
                == objective.perSampleError(copy.network(), x0: x0, noise: noise).scalars)
        // Per-row noise: row i's error depends on row i's draw only.
        let firstTwo = objective.perSampleError(model.network(), x0: x0.slice(axis: 0, 0..<2), noise: noise.rows([0, 1])).scalars
        let all = objective.perSampleError(model.network(), x0: x0, noise: noise).scalars
        for i in 0..<2 { #expect(abs(firstTwo[i] - all[i]) <= 1e-5 * max(1, abs(all[i]))) }
    }
}
