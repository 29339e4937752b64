import Foundation
import Testing
import TensorCore
import TestSupport

/// Forward values of tensor ops against hand-computed results.
@Suite("Tensor ops: forward values")
struct OpsTests {
    @Test func broadcastingArithmetic() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([10, 20, 30])
        #expect((a + b).scalars == [11, 22, 33, 14, 25, 36])
        #expect((a * Tensor([2, 3], shape: [2, 1])).scalars == [2, 4, 6, 12, 15, 18])
        #expect((Tensor([1, 2], shape: [2, 1]) - Tensor([1, 2, 3], shape: [1, 3])).scalars == [0, -1, -2, 1, 0, -1])
        #expect((a / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect(Tensor.broadcastShape([4, 1, 3], [2, 1]) == [4, 2, 3])
    }

    @Test func comparisonsAndWhere() {
        let a = Tensor([1, 5, 3]), b = Tensor([2, 2, 3])
        #expect((a .> b).scalars == [0, 1, 0])
        #expect((a .>= b).scalars == [0, 1, 1])
        #expect((a .== b).scalars == [0, 0, 1])
        #expect(Tensor.where(a .< b, a, b).scalars == [1, 2, 3])
        #expect(Tensor.minimum(a, b).scalars == [1, 2, 3])
        #expect(Tensor.maximum(a, b).scalars == [2, 5, 3])
        #expect(a.clamped(min: 2, max: 4).scalars == [2, 4, 3])
    }

    @Test func reductions() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(x.sum().item == 21)
        #expect(x.sum(axis: 0).scalars == [5, 7, 9])
        #expect(x.sum(axis: 1, keepDims: true).shape == [2, 1])
        #expect(x.mean(axis: 1).scalars == [2, 5])
        #expect(x.variance(axis: 1).scalars.map { ($0 * 1000).rounded() / 1000 } == [0.667, 0.667])
        #expect(x.variance(axis: 1, unbiased: true).scalars == [1, 1])
        let (v, i) = Tensor([3, 9, 9, 1], shape: [2, 2]).max(axis: 1)
        #expect(v.scalars == [9, 9] && i.scalars == [1, 0])
        #expect(Tensor([0, 7, 7, -1]).argmax(axis: 0).scalars == [1])
        let lse = Tensor([1000, 1000]).logSumExp(axis: 0).item
        #expect(abs(lse - (1000 + Foundation.log(2))) < 1e-3)
        let ls = Tensor([1, 2, 3]).logSoftmax(axis: 0).exp().sum().item
        #expect(abs(ls - 1) < 1e-6)
    }

    @Test func sortAndTopK() {
        let x = Tensor([3, 1, 2, 2, 0, 5], shape: [2, 3])
        let (v, i) = x.sorted(axis: 1)
        #expect(v.scalars == [1, 2, 3, 0, 2, 5] && i.scalars == [1, 2, 0, 1, 0, 2])
        let (tv, ti) = x.topK(2, axis: 1)
        #expect(tv.scalars == [3, 2, 5, 2] && ti.scalars == [0, 2, 2, 0])
        let (sv, si) = Tensor([2, 1, 2, 1]).sorted()
        #expect(sv.scalars == [1, 1, 2, 2] && si.scalars == [1, 3, 0, 2]) // stable
    }

    @Test func shapeOps() {
        let x = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        #expect(x.permuted([2, 0, 1])[3, 1, 2] == x[1, 2, 3])
        #expect(x.transposed(0, 2).shape == [4, 3, 2])
        #expect(x.transposed(0, 2)[3, 2, 1] == x[1, 2, 3])
        let m = Tensor((0..<6).map(Float.init), shape: [2, 3])
        #expect(m.transposed().scalars == [0, 3, 1, 4, 2, 5])
        #expect(Tensor.concat([m, m * 10], axis: 0).shape == [4, 3])
        #expect(Tensor.concat([m, m * 10], axis: 1).scalars == [0, 1, 2, 0, 10, 20, 3, 4, 5, 30, 40, 50])
        #expect(m.slice(axis: 1, 1..<3).scalars == [1, 2, 4, 5])
        let parts = m.split(sizes: [1, 2], axis: 1)
        #expect(parts[0].scalars == [0, 3] && parts[1].scalars == [1, 2, 4, 5])
        #expect(m.gather(axis: 1, IntTensor([2, 0, 1, 1], shape: [2, 2])).scalars == [2, 0, 4, 4])
        #expect(m.indexSelect(axis: 0, [1, 1, 0]).scalars == [3, 4, 5, 3, 4, 5, 0, 1, 2])
        #expect(Tensor.embedding(m, IntTensor([1], shape: [1, 1])).shape == [1, 1, 3])
        #expect(x.reshaped([-1, 4]).shape == [6, 4])
        #expect(x.flattened(from: 1).shape == [2, 12])
        #expect(Tensor.stack([m, m], axis: 0).shape == [2, 2, 3])
    }

    @Test func poolingAndResize() {
        let x = Tensor([1, 5, 2, 0, 3, 3], shape: [1, 1, 6])
        #expect(x.maxPool1d(kernel: 2).scalars == [5, 2, 3])
        #expect(x.avgPool1d(kernel: 2).scalars == [3, 1, 3])
        #expect(x.maxPool1d(kernel: 3, stride: 1).scalars == [5, 5, 3, 3])
        #expect(Tensor([1, 2], shape: [1, 1, 2]).resizeNearest1d(size: 4).scalars == [1, 1, 2, 2])
        let img = Tensor((0..<16).map(Float.init), shape: [1, 1, 4, 4])
        #expect(img.maxPool2d(kernel: 2).scalars == [5, 7, 13, 15])
        #expect(img.avgPool2d(kernel: 2).scalars == [2.5, 4.5, 10.5, 12.5])
        #expect(Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2]).resizeNearest2d(height: 4, width: 4).scalars
                == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    @Test func matmulMatchesNaiveIncludingSplitSizes() {
        for (m, k, n) in [(3, 4, 5), (300, 70, 130), (17, 256, 600)] {
            let a = RandomGenerator(seed: 1).normal([m, k]), b = RandomGenerator(seed: 2).normal([k, n])
            let c = Tensor.matmul(a, b)
            var worst: Float = 0
            for i in stride(from: 0, to: m, by: max(1, m / 7)) {
                for j in stride(from: 0, to: n, by: max(1, n / 7)) {
                    var s: Double = 0
                    for t in 0..<k { s += Double(a[i, t]) * Double(b[t, j]) }
                    worst = max(worst, abs(c[i, j] - Float(s)))
                }
            }
            #expect(worst < 1e-3, "\(m)×\(k)×\(n): \(worst)")
        }
        let ba = RandomGenerator(seed: 3).normal([4, 2, 3]), bb = RandomGenerator(seed: 4).normal([4, 3, 2])
        let bc = Tensor.matmul(ba, bb)
        for b in 0..<4 {
            let single = Tensor.matmul(ba.slice(axis: 0, b..<(b + 1)).reshaped([2, 3]), bb.slice(axis: 0, b..<(b + 1)).reshaped([3, 2]))
            #expect(maxAbsDifference(bc.slice(axis: 0, b..<(b + 1)).reshaped([2, 2]), single) < 1e-6)
        }
    }

    @Test func linearFusedEqualsUnfused() {
        let g = RandomGenerator(seed: 5)
        let x = g.normal([300, 40]), w = g.normal([70, 40]), b = g.normal([70])
        for act in Activation.allCases {
            let fused = Tensor.linear(x, weight: w, bias: b, activation: act)
            let plain = act(Tensor.matmul(x, w.transposed()) + b)
            #expect(maxAbsDifference(fused, plain) < 1e-4, "\(act)")
        }
    }

    @Test func normalizedLastAxisHasZeroMeanUnitVariance() {
        let y = RandomGenerator(seed: 6).normal([5, 64], mean: 3, std: 2).normalizedLastAxis(eps: 0)
        for m in y.mean(axis: 1).scalars { #expect(abs(m) < 1e-5) }
        for v in y.variance(axis: 1).scalars { #expect(abs(v - 1) < 1e-4) }
    }

    @Test func copyOnWrite() {
        let a = Tensor([1, 2, 3])
        var b = a
        b.withUnsafeMutableBufferPointer { $0[0] = 9 }
        #expect(a.scalars == [1, 2, 3] && b.scalars == [9, 2, 3])
        var c = a.reshaped([3, 1])
        c.withUnsafeMutableBufferPointer { $0[1] = 7 }
        #expect(a.scalars == [1, 2, 3])
    }

    @Test func elementCountsAndFinite() {
        #expect(Tensor(zeros: [2, 0, 3]).count == 0)
        #expect(Tensor([1, .nan]).isFinite == false)
        #expect(Tensor.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
    }
}
