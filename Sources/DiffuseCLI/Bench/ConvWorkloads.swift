import CKernels
import Foundation
import PolicyDiffusion

/// Convolution benchmarks: the grid of issue B (FFT vs direct vs auto, forward and
/// forward+backward), the `conv1d`/`conv2d` workloads of specs/bench.md, cost-model calibration,
/// and the memory no-growth check.
enum ConvWorkloads {
    struct Shape: CustomStringConvertible {
        var input: [Int]
        var weight: [Int]
        var padding: ConvPadding = .same
        var is1d: Bool { input.count == 3 }
        var description: String {
            is1d ? "conv1d B\(input[0]) \(input[1])→\(weight[0]) L\(input[2]) k\(weight[2])"
                 : "conv2d B\(input[0]) \(input[1])→\(weight[0]) \(input[2])×\(input[3]) k\(weight[2])"
        }

        var cShape: pd_conv_shape {
            let k = weight[2], pad = (k - 1) / 2, extra = (k - 1) - pad
            return is1d
                ? pd_conv_shape(batch: Int64(input[0]), c_in: Int64(input[1]), c_out: Int64(weight[0]), in_h: 1, in_w: Int64(input[2]),
                                k_h: 1, k_w: Int64(k), stride_h: 1, stride_w: 1, pad_top: 0, pad_bottom: 0, pad_left: Int64(pad), pad_right: Int64(extra))
                : pd_conv_shape(batch: Int64(input[0]), c_in: Int64(input[1]), c_out: Int64(weight[0]), in_h: Int64(input[2]), in_w: Int64(input[3]),
                                k_h: Int64(k), k_w: Int64(k), stride_h: 1, stride_w: 1, pad_top: Int64(pad), pad_bottom: Int64(extra),
                                pad_left: Int64(pad), pad_right: Int64(extra))
        }
    }

    /// Issue B's grid.
    static func grid(quick: Bool) -> [Shape] {
        var out: [Shape] = []
        let channels = quick ? [32, 64] : [32, 64, 128]
        let lengths = quick ? [32, 512] : [32, 128, 512, 1024]
        let kernels = quick ? [5, 65] : [3, 5, 9, 31, 65]
        for c in channels { for l in lengths { for k in kernels { out.append(Shape(input: [64, c, l], weight: [c, c, k])) } } }
        for hw in quick ? [8, 28] : [8, 28, 64] { for k in quick ? [3] : [3, 5, 9] { out.append(Shape(input: [64, 32, hw, hw], weight: [32, 32, k, k])) } }
        return out
    }

    static func run(_ s: Shape, _ a: ConvAlgorithm, x: Tensor, w: Tensor, b: Tensor) -> Tensor {
        s.is1d ? Tensor.conv1d(x, weight: w, bias: b, padding: s.padding, algorithm: a)
               : Tensor.conv2d(x, weight: w, bias: b, padding: s.padding, algorithm: a)
    }

    struct Timing {
        var shape: Shape
        var forward: [ConvAlgorithm: BenchResult] = [:]
        var forwardBackward: [ConvAlgorithm: BenchResult] = [:]
        var auto: ConvAlgorithm
    }

    static func measure(_ s: Shape, warmup: Int, repeats: Int) -> Timing {
        let g = RandomGenerator(seed: 1)
        let x = g.normal(s.input), w = g.normal(s.weight) * 0.1, b = g.normal([s.weight[0]])
        let gy = noGrad { g.normal(run(s, .direct, x: x, w: w, b: b).shape) }
        var t = Timing(shape: s, auto: Tensor.convAlgorithm(input: s.input, weight: s.weight, padding: s.padding))
        for a in [ConvAlgorithm.direct, .fft] {
            t.forward[a] = Bench.measure("\(s) fwd \(a)", warmup: warmup, repeats: repeats) { _ = noGrad { run(s, a, x: x, w: w, b: b) } }
            t.forwardBackward[a] = Bench.measure("\(s) fwd+bwd \(a)", warmup: warmup, repeats: repeats) {
                let y = run(s, a, x: x.requiringGrad(), w: w.requiringGrad(), b: b.requiringGrad())
                y.backward(seed: gy)
            }
        }
        return t
    }

    static func markdown(_ timings: [Timing], command: String, threads: Int, repeats: Int) -> String {
        var lines = [
            "Command: `\(command)` — PolicyDiffusion \(Diffuse.version), \(threads) threads, median ms of \(repeats) repeats after warm-up.",
            "`auto` runs the algorithm the committed cost model picks for the shape (shown); its time is that algorithm's.",
            "",
            "| shape | fwd direct | fwd FFT | auto | fwd auto ÷ best | fwd+bwd direct | fwd+bwd FFT | fwd+bwd auto ÷ best | FFT speed-up (fwd+bwd) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for t in timings {
            let fd = t.forward[.direct]!.medianMs, ff = t.forward[.fft]!.medianMs
            let bd = t.forwardBackward[.direct]!.medianMs, bf = t.forwardBackward[.fft]!.medianMs
            let fa = t.auto == .fft ? ff : fd, ba = t.auto == .fft ? bf : bd
            lines.append(String(format: "| %@ | %.3f | %.3f | %@ | %.2f | %.3f | %.3f | %.2f | %.2f× |", t.shape.description, fd, ff,
                                t.auto == .fft ? "FFT" : "direct", fa / min(fd, ff), bd, bf, ba / min(bd, bf), bd / bf))
        }
        return lines.joined(separator: "\n")
    }

    /// Fits the cost-model constants to forward timings by non-negative least squares on relative
    /// error (an active-set loop: drop negative terms and refit), installs them in this process and
    /// returns the text of conv_cost_model.h.
    static func calibrate(_ timings: inout [Timing]) -> String {
        func fit(_ a: ConvAlgorithm) -> [Double] {
            var rows: [([Double], Double)] = []
            for t in timings {
                var s = t.shape.cShape
                var f = [Double](repeating: 0, count: Int(PD_CONV_COST_TERMS))
                _ = pd_conv_cost_features(&s, a.rawValue, &f)
                let y = t.forward[a]!.medianMs / 1000
                rows.append((f.map { $0 / y }, 1))
            }
            var active = (0..<Int(PD_CONV_COST_TERMS)).filter { i in rows.contains { $0.0[i] != 0 } }
            var coef = [Double](repeating: 0, count: Int(PD_CONV_COST_TERMS))
            while !active.isEmpty {
                let n = active.count
                var m = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
                for (f, y) in rows {
                    for i in 0..<n {
                        for j in 0..<n { m[i][j] += f[active[i]] * f[active[j]] }
                        m[i][n] += f[active[i]] * y
                    }
                }
                // Gaussian elimination with partial pivoting on the scaled normal equations.
                for c in 0..<n {
                    let p = (c..<n).max { abs(m[$0][c]) < abs(m[$1][c]) }!
                    m.swapAt(c, p)
                    guard m[c][c] != 0 else { continue }
                    for r in 0..<n where r != c {
                        let k = m[r][c] / m[c][c]
                        for j in c...n { m[r][j] -= k * m[c][j] }
                    }
                }
                let sol = (0..<n).map { m[$0][$0] == 0 ? 0 : m[$0][n] / m[$0][$0] }
                if let worst = sol.indices.filter({ sol[$0] < 0 }).min(by: { sol[$0] < sol[$1] }) {
                    active.remove(at: worst)
                    continue
                }
                coef = [Double](repeating: 0, count: Int(PD_CONV_COST_TERMS))
                for (i, v) in zip(active, sol) { coef[i] = v }
                break
            }
            return coef
        }
        let d = fit(.direct), f = fit(.fft)
        pd_conv_set_cost_model(d, f)
        for i in timings.indices { timings[i].auto = Tensor.convAlgorithm(input: timings[i].shape.input, weight: timings[i].shape.weight) }
        func list(_ c: [Double]) -> String { "{" + c.map { String(format: "%.4e", $0) }.joined(separator: ", ") + "}" }
        return """
        // Cost-model constants for pd_conv_choose: seconds per feature of pd_conv_cost_features
        // (direct: GEMM flop, im2col entry, GEMM call; FFT: transform n·log2 n, complex-GEMM flop, copied
        // entry, per-frequency GEMM call). Fitted by `diffuse bench conv --calibrate` (docs/convolution.md).
        #define PD_COST_DIRECT \(list(d))
        #define PD_COST_FFT \(list(f))

        """
    }

    /// Resident memory after 10² and after 10⁴ forward+backward calls (plans and buffers reused).
    static func memoryGrowth(console: Console) -> [String: Double] {
        let shapes = [Shape(input: [8, 16, 128], weight: [16, 16, 31]), Shape(input: [8, 16, 64], weight: [16, 16, 5])]
        var out: [String: Double] = [:]
        for a in [ConvAlgorithm.fft, .direct] {
            let s = a == .fft ? shapes[0] : shapes[1]
            let g = RandomGenerator(seed: 2)
            let x = g.normal(s.input), w = g.normal(s.weight), b = g.normal([s.weight[0]])
            func call() {
                let y = run(s, a, x: x.requiringGrad(), w: w.requiringGrad(), b: b.requiringGrad())
                y.backward(seed: Tensor(ones: y.shape))
            }
            for _ in 0..<100 { call() }
            let after100 = Bench.residentMiB
            for _ in 100..<10_000 { call() }
            let after10k = Bench.residentMiB
            out["\(a) RSS after 1e2 MiB"] = after100
            out["\(a) RSS after 1e4 MiB"] = after10k
            console.out(String(format: "%@ (%@): RSS %.2f MiB after 10² calls, %.2f MiB after 10⁴ (growth %.3f MiB), %lld cached FFTW plans",
                               s.description, a == .fft ? "FFT" : "direct", after100, after10k, after10k - after100, pd_conv_cached_plans()))
        }
        return out
    }
}
