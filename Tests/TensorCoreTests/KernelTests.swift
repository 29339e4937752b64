import CKernels
import Foundation
import Testing
import TensorCore
import TestSupport

/// The vectorised C math against Double-precision references: forward values, and the backward
/// kernels against the exact analytic derivatives.
@Suite("Vectorised math kernels")
struct KernelTests {
    struct Case: Sendable, CustomStringConvertible {
        let op: pd_unary_op
        let name: String
        let low: Double, high: Double
        let f: @Sendable (Double) -> Double
        let df: @Sendable (Double) -> Double
        var description: String { name }
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
    static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }

    static let cases: [Case] = [
        Case(op: PD_EXP, name: "exp", low: -80, high: 80, f: { exp($0) }, df: { exp($0) }),
        Case(op: PD_LOG, name: "log", low: 1e-6, high: 1e6, f: { log($0) }, df: { 1 / $0 }),
        Case(op: PD_TANH, name: "tanh", low: -12, high: 12, f: { tanh($0) }, df: { 1 - tanh($0) * tanh($0) }),
        Case(op: PD_SIGMOID, name: "sigmoid", low: -30, high: 30, f: { sigmoid($0) }, df: { sigmoid($0) * (1 - sigmoid($0)) }),
        Case(op: PD_SOFTPLUS, name: "softplus", low: -30, high: 30, f: { softplus($0) }, df: { sigmoid($0) }),
        Case(op: PD_LOGSIGMOID, name: "logsigmoid", low: -30, high: 30, f: { -softplus(-$0) }, df: { sigmoid(-$0) }),
        Case(op: PD_MISH, name: "mish", low: -30, high: 30, f: { $0 * tanh(softplus($0)) },
             df: { x in let t = tanh(softplus(x)); return t + x * (1 - t * t) * sigmoid(x) }),
        Case(op: PD_SILU, name: "silu", low: -30, high: 30, f: { $0 * sigmoid($0) },
             df: { x in sigmoid(x) * (1 + x * (1 - sigmoid(x))) }),
    ]

    /// Forward: relative error ≤ 2e-6 (a few float ulps), with an absolute floor of 1e-7·(1 + |f|)
    /// where the function passes through 0. Derivatives: |error| ≤ 2e-5·|f'| + 1e-6 — derivatives
    /// computed from a Float32 output (1 − y², y(1 − y)) carry an absolute error of a few ulps of 1,
    /// and near a zero crossing (mish', silu') only an absolute bound is meaningful.
    @Test(arguments: cases)
    func forwardAndBackwardMatchDouble(_ c: Case) {
        let n = 20001
        var xs = (0..<n).map { i in Float(c.low + (c.high - c.low) * Double(i) / Double(n - 1)) }
        if c.op == PD_LOG { xs = (0..<n).map { i in Float(pow(10, -6 + 12 * Double(i) / Double(n - 1))) } }
        var y = [Float](repeating: 0, count: n)
        var gx = [Float](repeating: 0, count: n)
        let ones = [Float](repeating: 1, count: n)
        pd_unary(Int32(c.op.rawValue), xs, &y, Int64(n))
        pd_unary_backward(Int32(c.op.rawValue), xs, y, ones, &gx, Int64(n))
        var worstF = 0.0, worstD = 0.0
        for i in 0..<n {
            let x = Double(xs[i])
            let f = c.f(x), d = c.df(x)
            worstF = max(worstF, abs(Double(y[i]) - f) / (abs(f) + 1e-7 * (1 + abs(f))))
            worstD = max(worstD, abs(Double(gx[i]) - d) / (2e-5 * abs(d) + 1e-6))
        }
        #expect(worstF < 2e-6, "\(c.name) forward relative error \(worstF)")
        #expect(worstD <= 1, "\(c.name) derivative error is \(worstD)× the bound")
    }

    @Test func inPlaceEqualsOutOfPlace() {
        let x = (0..<1000).map { Float($0) * 0.01 - 5 }
        var a = [Float](repeating: 0, count: 1000)
        var b = x
        pd_unary(Int32(PD_MISH.rawValue), x, &a, 1000)
        b.withUnsafeMutableBufferPointer { pd_unary(Int32(PD_MISH.rawValue), $0.baseAddress, $0.baseAddress, 1000) }
        #expect(a == b)
    }

    @Test func specialValues() {
        let x: [Float] = [0, .infinity, -.infinity, .nan, -1]
        var y = [Float](repeating: 0, count: 5)
        pd_unary(Int32(PD_LOG.rawValue), x, &y, 5)
        #expect(y[0] == -.infinity && y[1] == .infinity && y[2].isNaN && y[3].isNaN && y[4].isNaN)
        pd_unary(Int32(PD_EXP.rawValue), [-.infinity, 0, .infinity, .nan, -100], &y, 5)
        #expect(y[0] == 0 && y[1] == 1 && y[2] == .infinity && y[3].isNaN && y[4] == 0)
        for op in [PD_EXP, PD_TANH, PD_SIGMOID, PD_SOFTPLUS, PD_MISH, PD_SILU, PD_RELU, PD_LOG] {
            var out: [Float] = [0]
            pd_unary(Int32(op.rawValue), [.nan], &out, 1)
            #expect(out[0].isNaN, "op \(op.rawValue) must propagate NaN")
        }
    }
}

/// pd_sgemm's packing-free path for A·Bᵀ with few rows (m ≤ 16, k ≥ 64) against a Double
/// reference, with strides, α and β, on 1 and 2 threads (bit-identical across thread counts).
@Suite("Small-m GEMM", .serialized)
struct SmallGemmTests {
    @Test func matchesReferenceAndThreadCounts() {
        let rng = RandomGenerator(seed: 3)
        for (m, n, k) in [(1, 1, 64), (3, 7, 100), (4, 64, 64), (5, 257, 300), (16, 130, 1024), (16, 4, 77)] {
            let lda = k + 3, ldb = k + 5, ldc = n + 2
            let a = rng.normal([m * lda]).scalars, b = rng.normal([n * ldb]).scalars, c0 = rng.normal([m * ldc]).scalars
            let (alpha, beta): (Float, Float) = (0.75, 0.5)
            var outputs: [[Float]] = []
            for threads in [1, 2] {
                var c = c0
                Threads.withCount(threads) {
                    pd_sgemm(0, 1, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, &c, Int64(ldc))
                }
                outputs.append(c)
            }
            #expect(outputs[0] == outputs[1], "m \(m) n \(n) k \(k): thread counts differ")
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<ldc {
                    var expected = Double(c0[i * ldc + j])
                    if j < n {
                        var s = 0.0
                        for q in 0..<k { s += Double(a[i * lda + q]) * Double(b[j * ldb + q]) }
                        expected = Double(alpha) * s + Double(beta) * expected
                    }
                    worst = max(worst, abs(Double(outputs[0][i * ldc + j]) - expected) / (1 + abs(expected)))
                }
            }
            #expect(worst < 1e-5, "m \(m) n \(n) k \(k): relative error \(worst)")
        }
    }
}

/// The explicit-vector paths (16 lanes, then a scalar tail) against scalar references, including the
/// in-place calls that made clang fall back to scalar loops.
@Suite("Vector paths of the fused kernels")
struct VectorPathTests {
    /// Every length around the 16-lane boundary, with the bad value at the first, a middle, the
    /// last position: `isFinite` is one vectorized max over exponent fields.
    @Test func finitenessCheckFindsEveryBadValue() {
        for n in [1, 7, 15, 16, 17, 33, 100] {
            let good = (0..<n).map { i -> Float in [Float.greatestFiniteMagnitude, -0.0, .leastNonzeroMagnitude, 1.5][i % 4] }
            #expect(Tensor(good, shape: [n]).isFinite)
            for position in Set([0, n / 2, n - 1]) {
                for bad in [Float.nan, .infinity, -.infinity] {
                    var values = good
                    values[position] = bad
                    #expect(!Tensor(values, shape: [n]).isFinite, "n \(n), \(bad) at \(position)")
                }
            }
        }
        #expect(Tensor(zeros: [0]).isFinite)
    }

    /// Linear + bias + ReLU (the pre-activation written over the GEMM output in place) and its
    /// backward at 40 outputs (two vectors and a tail of 8) equal the composed ops, and a NaN input
    /// row stays NaN (the NaN guards rely on it) instead of being clamped to 0.
    @Test func linearReLUVectorPathMatchesComposition() {
        let g = RandomGenerator(seed: 31)
        var xs = g.normal([6, 24]).scalars
        xs[5 * 24 + 3] = .nan
        let x = Tensor(xs, shape: [6, 24]), w = g.normal([40, 24]) * 0.3, b = g.normal([40])
        let clean = x.slice(axis: 0, 0..<5)
        let (fusedY, fusedG) = Tensor.gradients(at: [clean, w, b]) { t in
            (Tensor.linear(t[0], weight: t[1], bias: t[2], activation: .relu) * Tensor.linspace(-1, 2, count: 40)).sum()
        }
        let (plainY, plainG) = Tensor.gradients(at: [clean, w, b]) { t in
            ((Tensor.matmul(t[0], t[1].transposed()) + t[2]).relu() * Tensor.linspace(-1, 2, count: 40)).sum()
        }
        #expect(abs(fusedY.item - plainY.item) <= 1e-4 * max(1, abs(plainY.item)))
        for (a, c) in zip(fusedG, plainG) { #expect(maxAbsDifference(a, c) <= 1e-5 * max(1, c.abs().max().item)) }
        let y = noGrad { Tensor.linear(x, weight: w, bias: b, activation: .relu) }
        let nanRow = y.slice(axis: 0, 5..<6).scalars, cleanRows = y.slice(axis: 0, 0..<5).scalars
        #expect(nanRow.allSatisfy { $0.isNaN })
        #expect(cleanRows.allSatisfy { $0 >= 0 })
    }
}
