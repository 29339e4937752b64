import CKernels
import Foundation
import Testing
import TensorCore
import TestSupport

/// Every convolution path against the naive loop nest (and the naive one against a literal
/// formula): max |difference| ≤ 1e-4 × output scale (max |naive output|), as the issue states.
@Suite("Convolution: FFT, direct and naive agree")
struct ConvolutionTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var input: [Int]
        var weight: [Int]
        var stride = 1
        var padding: ConvPadding = .valid
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "1d same k5", input: [3, 4, 17], weight: [5, 4, 5], padding: .same),
        Case(name: "1d valid odd L", input: [2, 3, 23], weight: [4, 3, 7]),
        Case(name: "1d k1", input: [2, 6, 9], weight: [3, 6, 1]),
        Case(name: "1d k = L", input: [2, 2, 8], weight: [3, 2, 8]),
        Case(name: "1d k > L (padded)", input: [2, 2, 5], weight: [2, 2, 9], padding: .symmetric(3)),
        Case(name: "1d stride 2 pad 1", input: [2, 3, 16], weight: [4, 3, 3], stride: 2, padding: .symmetric(1)),
        Case(name: "1d stride 2 same odd", input: [1, 2, 15], weight: [3, 2, 4], stride: 2, padding: .same),
        Case(name: "1d asymmetric", input: [2, 3, 11], weight: [2, 3, 2], padding: .explicit([0, 1])),
        Case(name: "1d long kernel", input: [2, 4, 64], weight: [4, 4, 31], padding: .same),
        Case(name: "2d same 3x3", input: [2, 3, 8, 8], weight: [4, 3, 3, 3], padding: .same),
        Case(name: "2d valid rect", input: [2, 2, 7, 9], weight: [3, 2, 2, 4]),
        Case(name: "2d stride 2", input: [2, 3, 9, 8], weight: [2, 3, 3, 3], stride: 2, padding: .symmetric(1)),
        // Strided tiles: several tiles per output row; and the U-Net's down-sampling shape, whose 4×4
        // output rows are spanned two per tile, with channels past one 32-block and 8-input rounding.
        Case(name: "2d stride 2 wide", input: [1, 3, 9, 21], weight: [5, 3, 3, 3], stride: 2, padding: .symmetric(1)),
        Case(name: "2d stride 2, U-Net down-sampling", input: [2, 33, 8, 8], weight: [34, 33, 3, 3], stride: 2, padding: .symmetric(1)),
        Case(name: "2d asymmetric", input: [1, 2, 5, 6], weight: [2, 2, 3, 2], padding: .explicit([1, 0, 0, 2])),
        Case(name: "2d k1", input: [2, 5, 4, 4], weight: [3, 5, 1, 1]),
        // More output channels than one register tile holds (32), rows longer than one tile (8).
        Case(name: "1d 37 channels, tiles", input: [2, 40, 21], weight: [37, 40, 5], padding: .same),
        Case(name: "2d 33 channels, tiles", input: [1, 33, 10, 11], weight: [33, 33, 3, 3], padding: .same),
        // Maps narrower than a tile: tiles span 2, 4 or 3 whole rows (the last one partly).
        Case(name: "2d narrow 4×4", input: [2, 5, 4, 4], weight: [6, 5, 3, 3], padding: .same),
        Case(name: "2d narrow 7×2", input: [1, 3, 7, 2], weight: [4, 3, 3, 1], padding: .same),
        Case(name: "2d narrow 5×3 valid", input: [2, 2, 5, 3], weight: [3, 2, 2, 2]),
        // Padding ≥ k: the input gradient's padding k − 1 − p is negative (a crop).
        Case(name: "1d padding ≥ k", input: [2, 3, 6], weight: [2, 3, 2], padding: .symmetric(3)),
        Case(name: "1d padding ≥ k on one side", input: [1, 2, 7], weight: [3, 2, 2], padding: .explicit([2, 0])),
        Case(name: "2d k1 padding 1", input: [1, 2, 3, 4], weight: [3, 2, 1, 1], padding: .symmetric(1)),
        // Winograd's shapes: partial 4×4 tiles, channels past one 16-lane transform vector and one 32-block,
        // more tiles in a row than one register tile (8); padding 0, 2 and 3 (the input gradient's 2 − p is a crop).
        Case(name: "2d 3×3 Winograd tiles", input: [2, 20, 13, 11], weight: [35, 20, 3, 3], padding: .symmetric(1)),
        Case(name: "2d 3×3 Winograd valid", input: [1, 17, 9, 38], weight: [16, 17, 3, 3]),
        Case(name: "2d 3×3 Winograd pad 2", input: [1, 4, 6, 5], weight: [3, 4, 3, 3], padding: .symmetric(2)),
        Case(name: "2d 3×3 Winograd pad 3", input: [1, 3, 5, 6], weight: [2, 3, 3, 3], padding: .explicit([3, 0, 1, 3])),
        Case(name: "1d k3 Winograd", input: [2, 17, 70], weight: [19, 17, 3], padding: .symmetric(1)),
        Case(name: "1d k5 Winograd, U-Net", input: [3, 32, 32], weight: [64, 32, 5], padding: .symmetric(2)),
    ]

    func run(_ c: Case, _ a: ConvAlgorithm, _ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
        c.input.count == 3
            ? Tensor.conv1d(x, weight: w, bias: b, stride: c.stride, padding: c.padding, algorithm: a)
            : Tensor.conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding, algorithm: a)
    }

    static func scale(_ t: Tensor) -> Float { max(t.abs().max().item, 1e-6) }

    @Test(arguments: cases) func forwardAndGradientsAgree(_ c: Case) {
        let g = RandomGenerator(seed: 21)
        let x = g.normal(c.input), w = g.normal(c.weight), b = g.normal([c.weight[0]])
        var reference: [Tensor] = []
        for a in [ConvAlgorithm.naive, .direct, .fft, .winograd, .auto] {
            let (y, grads) = Tensor.gradients(at: [x, w, b]) { t in
                (run(c, a, t[0], t[1], t[2]) * Tensor.linspace(-1, 1, count: 1).reshaped([1])).squared().sum()
            }
            _ = y
            let out = noGrad { run(c, a, x, w, b) }
            let all = [out] + grads
            if reference.isEmpty { reference = all; continue }
            for (k, (got, want)) in zip(all, reference).enumerated() {
                #expect(got.shape == want.shape)
                let err = maxAbsDifference(got, want)
                #expect(err <= 1e-4 * Self.scale(want), "\(c.name) \(a) \(["y", "gx", "gw", "gb"][k]): error \(err), scale \(Self.scale(want))")
            }
        }
    }

    /// The blocked direct kernels' portable C versions equal their AVX-512 versions bit for bit (the
    /// same fused multiply-adds in the same order): forward, input gradient, weight gradient; and so do
    /// Winograd's transforms (no contraction into fused multiply-adds) around the same tiles.
    @Test(arguments: [ConvAlgorithm.direct, .winograd])
    func blockedKernelPortableEqualsVectorised(_ a: ConvAlgorithm) {
        let g = RandomGenerator(seed: 22)
        for c in Self.cases {
            let x = g.normal(c.input), w = g.normal(c.weight), b = g.normal([c.weight[0]])
            func pass() -> [[Float]] {
                let (_, grads) = Tensor.gradients(at: [x, w]) { t in run(c, a, t[0], t[1], b).squared().sum() }
                return [noGrad { run(c, a, x, w, b) }.scalars, grads[0].scalars, grads[1].scalars]
            }
            let vectorised = pass()
            pd_conv_use_portable_kernels(1)
            let portable = pass()
            pd_conv_use_portable_kernels(0)
            #expect(portable == vectorised, "\(c.name)")
        }
    }

    /// Winograd's constant Bᵀ and Aᵀ tables are the Toom–Cook matrices of their points (built in double by
    /// conv_winograd.c), and its error stays within the direct path's tolerance at the temporal U-Net's and the
    /// 2-D U-Net's channel counts, where every output sums 160–576 products (docs/convolution.md, "Winograd").
    @Test func winogradTablesAndErrorAtNetworkScale() {
        #expect(pd_winograd_tables_match() == 1)
        let g = RandomGenerator(seed: 23)
        for (xs, ws, pad) in [([4, 32, 64], [32, 32, 5], 2), ([4, 64, 32], [64, 64, 3], 1), ([2, 64, 12, 12], [64, 64, 3, 3], 1)] {
            let x = g.normal(xs), w = g.normal(ws) * (1 / Float(ws[1] * ws[2]).squareRoot())
            let run = { (a: ConvAlgorithm) in
                xs.count == 3 ? Tensor.conv1d(x, weight: w, padding: .symmetric(pad), algorithm: a)
                              : Tensor.conv2d(x, weight: w, padding: .symmetric(pad), algorithm: a)
            }
            let want = run(.naive), got = run(.winograd)
            let err = maxAbsDifference(got, want)
            #expect(err <= 1e-4 * Self.scale(want), "\(xs) k\(ws.last!): error \(err), scale \(Self.scale(want))")
        }
    }

    /// Winograd keeps transformed weights across calls; weights changed in place (same pointer, as an
    /// optimizer step leaves them) must be transformed again, and the input gradient (the flipped kernel)
    /// never reuses the forward's entry.
    @Test func winogradWeightCacheFollowsChangedWeights() {
        var shape = Tensor.convShape([2, 16, 12], [16, 16, 5], stride: (1, 1), padding: .symmetric(2), spatialRank: 1)
        let g = RandomGenerator(seed: 24)
        let x = g.normal([2, 16, 12]).scalars, gy = g.normal([2, 16, 12]).scalars
        var w = g.normal([16, 16, 5]).scalars
        func run(_ algo: pd_conv_algo) -> ([Float], [Float]) {
            var y = [Float](repeating: 0, count: 2 * 16 * 12), gx = y
            #expect(pd_conv_forward(&shape, Int32(algo.rawValue), x, w, nil, &y, nil) == 0)
            #expect(pd_conv_backward_input(&shape, Int32(algo.rawValue), gy, w, &gx, nil) == 0)
            return (y, gx)
        }
        for round in 0..<3 {
            let (y, gx) = run(PD_CONV_WINOGRAD), (yRef, gxRef) = run(PD_CONV_NAIVE)
            let scale = max(yRef.map(abs).max()!, gxRef.map(abs).max()!)
            #expect(zip(y, yRef).map { abs($0 - $1) }.max()! <= 1e-4 * scale, "round \(round): forward")
            #expect(zip(gx, gxRef).map { abs($0 - $1) }.max()! <= 1e-4 * scale, "round \(round): input gradient")
            w.withUnsafeMutableBufferPointer { p in for i in stride(from: round, to: p.count, by: 7) { p[i] += 0.5 } }
        }
    }

    /// The naive loop nest itself against the definition, written out here for one small case.
    @Test func naiveMatchesDefinition() {
        let g = RandomGenerator(seed: 2)
        let x = g.normal([1, 2, 6]), w = g.normal([3, 2, 3]), b = g.normal([3])
        let y = Tensor.conv1d(x, weight: w, bias: b, stride: 2, padding: .explicit([1, 0]), algorithm: .naive)
        #expect(y.shape == [1, 3, 3])
        for co in 0..<3 { for i in 0..<3 {
            var acc = b[co]
            for ci in 0..<2 { for k in 0..<3 {
                let p = i * 2 + k - 1
                if p >= 0 && p < 6 { acc += w[co, ci, k] * x[0, ci, p] }
            } }
            #expect(abs(y[0, co, i] - acc) < 1e-5)
        } }
    }

    @Test(arguments: [ConvAlgorithm.direct, .fft, .winograd])
    func gradientChecksThroughEachPath(_ a: ConvAlgorithm) {
        let r1 = gradientCheck([checkInput([2, 3, 10], seed: 1), checkInput([2, 3, 4], seed: 2), checkInput([2], seed: 3)]) {
            Tensor.conv1d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: .same, algorithm: a)
        }
        #expect(r1.passed, "conv1d \(a): \(r1)")
        let r2 = gradientCheck([checkInput([1, 2, 5, 6], seed: 4), checkInput([3, 2, 3, 3], seed: 5), checkInput([3], seed: 6)]) {
            Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: .same, algorithm: a)
        }
        #expect(r2.passed, "conv2d \(a): \(r2)")
        let r3 = gradientCheck([checkInput([2, 3, 6], seed: 7), checkInput([3, 2, 4], seed: 8), checkInput([2], seed: 9)]) {
            Tensor.convTranspose1d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, algorithm: a)
        }
        #expect(r3.passed, "convTranspose1d \(a): \(r3)")
    }

    /// ConvTranspose1d against PyTorch's definition: y[n, co, i·s − p + k] += x[n, ci, i]·w[ci, co, k].
    @Test(arguments: [ConvAlgorithm.direct, .fft, .naive])
    func convTransposeMatchesDefinition(_ a: ConvAlgorithm) {
        let g = RandomGenerator(seed: 3)
        for (l, k, s, p, op) in [(8, 4, 2, 1, 0), (5, 3, 2, 0, 1), (7, 5, 1, 2, 0), (6, 4, 3, 1, 2)] {
            let x = g.normal([2, 3, l]), w = g.normal([3, 2, k]), b = g.normal([2])
            let y = Tensor.convTranspose1d(x, weight: w, bias: b, stride: s, padding: p, outputPadding: op, algorithm: a)
            let lOut = (l - 1) * s - 2 * p + k + op
            #expect(y.shape == [2, 2, lOut])
            var want = [Float](repeating: 0, count: 2 * 2 * lOut)
            for n in 0..<2 { for co in 0..<2 {
                for j in 0..<lOut { want[(n * 2 + co) * lOut + j] = b[co] }
                for ci in 0..<3 { for i in 0..<l { for kk in 0..<k {
                    let j = i * s - p + kk
                    if j >= 0 && j < lOut { want[(n * 2 + co) * lOut + j] += x[n, ci, i] * w[ci, co, kk] }
                } } }
            } }
            let err = maxAbsDifference(y, Tensor(want, shape: y.shape))
            #expect(err <= 1e-4 * Self.scale(y), "L \(l) k \(k) s \(s) p \(p) op \(op): \(err)")
        }
    }

    @Test func diffuserUpsamplingDoublesLength() {
        let y = Tensor.convTranspose1d(Tensor(zeros: [1, 8, 16]), weight: Tensor(zeros: [8, 4, 4]), stride: 2, padding: 1)
        #expect(y.shape == [1, 4, 32])
    }

    @Test func autoIsDeterministicPerShape() {
        let a = Tensor.convAlgorithm(input: [64, 64, 1024], weight: [64, 64, 65], padding: .same)
        let b = Tensor.convAlgorithm(input: [64, 64, 1024], weight: [64, 64, 65], padding: .same)
        #expect(a == b && a == .fft)
        // Inference runs Winograd where it applies; a training step (weights change every step) stays direct,
        // and so do channel counts below one 16-lane transform vector.
        #expect(Tensor.convAlgorithm(input: [64, 32, 32], weight: [32, 32, 3], padding: .same) == .winograd)
        #expect(Tensor.convAlgorithm(input: [64, 32, 32], weight: [32, 32, 3], padding: .same, training: true) == .direct)
        #expect(Tensor.convAlgorithm(input: [64, 8, 32], weight: [32, 8, 5], padding: .same) == .direct)
    }

    /// The U-Net 1D's strided down-sampling layers (batch 32 and 64, the row blocks and the whole
    /// batch) are short GEMMs: FFT measured 15 % slower for sampling when the model picked it there.
    @Test func stridedUNetLayersGoDirect() {
        for batch in [32, 64] {
            for (c, l) in [(32, 32), (64, 16)] {
                #expect(Tensor.convAlgorithm(input: [batch, c, l], weight: [c, c, 3], stride: 2, padding: .symmetric(1)) == .direct)
                // ConvTranspose1d(k 4, stride 2) up-sampling runs as this convolution's adjoint.
                #expect(Tensor.convAlgorithm(input: [batch, c, l], weight: [c, c, 4], stride: 2, padding: .symmetric(1)) == .direct)
            }
        }
    }

    @Test func batchOneSplitsItsGemmAndStillAgrees() {
        let g = RandomGenerator(seed: 5)
        let x = g.normal([1, 64, 128]), w = g.normal([64, 64, 5])
        let d = Tensor.conv1d(x, weight: w, padding: .same, algorithm: .direct)
        let f = Tensor.conv1d(x, weight: w, padding: .same, algorithm: .fft)
        #expect(maxAbsDifference(d, f) <= 1e-4 * Self.scale(d))
    }
}
