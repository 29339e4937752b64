import CKernels
import Foundation
import PolicyDiffusion

/// Convolution benchmarks: the grid of issue B (FFT vs direct vs auto, forward and
/// forward+backward), the `conv1d`/`conv2d` workloads of docs/bench-workloads.md, cost-model calibration,
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
            Tensor.convShape(input, weight, stride: (1, 1), padding: padding, spatialRank: is1d ? 1 : 2)
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
        var forward: [ConvAlgorithm: Double] = [:]          // median ms
        var forwardBackward: [ConvAlgorithm: Double] = [:]
        var auto: ConvAlgorithm = .direct                  // inference choice
        var autoTraining: ConvAlgorithm = .direct          // training-step choice

        mutating func updateChoices() {
            auto = Tensor.convAlgorithm(input: shape.input, weight: shape.weight, padding: shape.padding)
            autoTraining = Tensor.convAlgorithm(input: shape.input, weight: shape.weight, padding: shape.padding, training: true)
        }

        /// The progress line `bench conv` prints; `--refit` reads these back.
        var line: String {
            String(format: "%@: fwd direct %.3f fft %.3f | fwd+bwd direct %.3f fft %.3f ms (auto: %@ / %@)", shape.description,
                   forward[.direct]!, forward[.fft]!, forwardBackward[.direct]!, forwardBackward[.fft]!, "\(auto)", "\(autoTraining)")
        }

        /// Parses `line` (shape names as `Shape.description` prints them).
        init?(line: String) {
            let nums = line.split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
            let is1d = line.hasPrefix("conv1d")
            // conv1d: B, ci, co, L, k, 4 times; conv2d: B, ci, co, H, W, k, 4 times
            guard nums.count >= (is1d ? 10 : 11), line.hasPrefix("conv") else { return nil }
            let i = nums.map { Int($0) }
            shape = is1d ? Shape(input: [i[1], i[2], i[4]], weight: [i[3], i[2], i[5]])
                         : Shape(input: [i[1], i[2], i[4], i[5]], weight: [i[3], i[2], i[6], i[6]])
            let t = Array(nums.suffix(from: is1d ? 6 : 7).prefix(4))
            guard t.count == 4 else { return nil }
            forward = [.direct: t[0], .fft: t[1]]
            forwardBackward = [.direct: t[2], .fft: t[3]]
            updateChoices()
        }

        init(shape: Shape) { self.shape = shape; updateChoices() }
    }

    static func measure(_ s: Shape, warmup: Int, repeats: Int) -> Timing {
        let g = RandomGenerator(seed: 1)
        let x = g.normal(s.input), w = g.normal(s.weight) * 0.1, b = g.normal([s.weight[0]])
        let gy = noGrad { g.normal(run(s, .direct, x: x, w: w, b: b).shape) }
        var t = Timing(shape: s)
        for a in [ConvAlgorithm.direct, .fft] {
            t.forward[a] = Bench.measure("\(s) fwd \(a)", warmup: warmup, repeats: repeats) { _ = noGrad { run(s, a, x: x, w: w, b: b) } }.medianMs
            t.forwardBackward[a] = Bench.measure("\(s) fwd+bwd \(a)", warmup: warmup, repeats: repeats) {
                let y = run(s, a, x: x.requiringGrad(), w: w.requiringGrad(), b: b.requiringGrad())
                y.backward(seed: gy)
            }.medianMs
        }
        return t
    }

    static func markdown(_ timings: [Timing], command: String, threads: Int, repeats: Int) -> String {
        var lines = [
            "Command: `\(command)` — PolicyDiffusion \(Diffuse.version), \(threads) threads, median ms of \(repeats) repeats after warm-up.",
            "`auto` is the algorithm the committed cost models pick (inference model for the forward column, training-step model for",
            "forward+backward); its time is that algorithm's time.",
            "",
            "| shape | fwd direct | fwd FFT | auto | fwd auto ÷ best | fwd+bwd direct | fwd+bwd FFT | auto (training) | fwd+bwd auto ÷ best | FFT speed-up (fwd+bwd) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for t in timings {
            let fd = t.forward[.direct]!, ff = t.forward[.fft]!
            let bd = t.forwardBackward[.direct]!, bf = t.forwardBackward[.fft]!
            let fa = t.auto == .fft ? ff : fd, ba = t.autoTraining == .fft ? bf : bd
            lines.append(String(format: "| %@ | %.3f | %.3f | %@ | %.2f | %.3f | %.3f | %@ | %.2f | %.2f× |", t.shape.description, fd, ff,
                                t.auto == .fft ? "FFT" : "direct", fa / min(fd, ff), bd, bf, t.autoTraining == .fft ? "FFT" : "direct",
                                ba / min(bd, bf), bd / bf))
        }
        let worstF = timings.map { ($0.auto == .fft ? $0.forward[.fft]! : $0.forward[.direct]!) / min($0.forward[.fft]!, $0.forward[.direct]!) }.max() ?? 1
        let worstB = timings.map { ($0.autoTraining == .fft ? $0.forwardBackward[.fft]! : $0.forwardBackward[.direct]!) / min($0.forwardBackward[.fft]!, $0.forwardBackward[.direct]!) }.max() ?? 1
        lines += ["", String(format: "Worst auto ÷ best: forward %.2f, forward+backward %.2f.", worstF, worstB)]
        return lines.joined(separator: "\n")
    }

    /// Fits the cost-model constants to forward timings by non-negative least squares on relative
    /// error (an active-set loop: drop negative terms and refit), installs them in this process and
    /// returns the text of conv_cost_model.h.
    static func calibrate(_ timings: inout [Timing]) -> String {
        func fit(_ a: ConvAlgorithm, training: Bool) -> [Double] {
            var rows: [([Double], Double)] = []
            for t in timings {
                var s = t.shape.cShape
                var f = [Double](repeating: 0, count: Int(PD_CONV_COST_TERMS))
                _ = pd_conv_cost_features(&s, a.rawValue, &f)
                let y = (training ? t.forwardBackward[a]! : t.forward[a]!) / 1000
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
        let d = fit(.direct, training: false), f = fit(.fft, training: false)
        let dt = fit(.direct, training: true), ft = fit(.fft, training: true)
        pd_conv_set_cost_model(0, d, f)
        pd_conv_set_cost_model(1, dt, ft)
        for i in timings.indices { timings[i].updateChoices() }
        func list(_ c: [Double]) -> String { "{" + c.map { String(format: "%.4e", $0) }.joined(separator: ", ") + "}" }
        return """
        // Cost-model constants for pd_conv_choose: seconds per feature of pd_conv_cost_features
        // (direct: flop, copied/im2col entry, tile or GEMM call, weight-gradient grid flop; FFT: transform
        // n·log2 n, complex-GEMM flop, copied entry, per-frequency GEMM call). Written by `diffuse bench conv --calibrate FILE`
        // (docs/convolution.md) from medians over issue B's grid on the development machine (2 threads):
        // forward times for inference, forward+backward times for training steps.
        #define PD_COST_DIRECT \(list(d))
        #define PD_COST_FFT \(list(f))
        #define PD_COST_DIRECT_TRAINING \(list(dt))
        #define PD_COST_FFT_TRAINING \(list(ft))

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
