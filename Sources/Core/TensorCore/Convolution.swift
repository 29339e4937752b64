import CKernels

/// Which convolution algorithm runs (all through the CKernels API).
public enum ConvAlgorithm: Int32, Codable, Sendable, CaseIterable {
    /// The cheapest algorithm for this shape, from the calibrated cost model (or the tuning
    /// file named by PD_CONV_TUNING; PD_CONV_ALGO=fft|direct|winograd forces one).
    case auto = 0
    /// Blocked register tiles (oneDNN's direct scheme).
    case direct = 1
    /// FFTW r2c/c2r with channel mixing as one complex GEMM per frequency.
    case fft = 2
    /// Loop-nest reference (tests only: slow).
    case naive = 3
    /// Winograd F(4×4, 3×3), F(4, 3), F(4, 5) for stride-1 3×3, 1×3 and 1×5 kernels (Lavin & Gray 2016;
    /// docs/convolution.md); other shapes, and the weight gradient, run `direct`. `auto` picks it for inference.
    case winograd = 4
}

/// Zero padding of a convolution's spatial axes.
public enum ConvPadding: Codable, Sendable, Equatable {
    /// No padding.
    case valid
    /// Output size ⌈input / stride⌉; the extra padding goes after (right/bottom), as PyTorch's
    /// "same" at stride 1 and TensorFlow's "SAME" at larger strides.
    case same
    /// The same amount before and after on every spatial axis.
    case symmetric(Int)
    /// (before, after) per spatial axis: 1-D [left, right]; 2-D [top, bottom, left, right].
    case explicit([Int])

    /// (before, after) for one axis.
    func amounts(axis: Int, input: Int, kernel: Int, stride: Int) -> (Int, Int) {
        switch self {
        case .valid: return (0, 0)
        case let .symmetric(p): return (p, p)
        case let .explicit(p): return (p[2 * axis], p[2 * axis + 1])
        case .same:
            let out = (input + stride - 1) / stride
            let total = Swift.max((out - 1) * stride + kernel - input, 0)
            return (total / 2, total - total / 2)
        }
    }
}

/// Forward transforms kept for the backward pass of one FFT convolution.
final class ConvSaved {
    let pointer: OpaquePointer
    init() { pointer = pd_conv_saved_create() }
    deinit { pd_conv_saved_free(pointer) }
}

extension Tensor {
    /// The C kernel's shape description for a conv1d/conv2d of these shapes (validated: bad shapes
    /// trap with a clear message).
    public static func convShape(_ xs: [Int], _ ws: [Int], stride: (Int, Int), padding: ConvPadding, spatialRank: Int, op: String = "conv") -> pd_conv_shape {
        precondition(xs.count == 2 + spatialRank, "\(op) expects input [N, C, \(spatialRank == 1 ? "L" : "H, W")], got \(xs)")
        precondition(ws.count == 2 + spatialRank, "\(op) expects weight [C_out, C_in, \(spatialRank == 1 ? "k" : "kH, kW")], got \(ws)")
        precondition(ws[1] == xs[1], "\(op): weight \(ws) expects \(ws[1]) input channels, input \(xs) has \(xs[1])")
        if case let .explicit(p) = padding {
            precondition(p.count == 2 * spatialRank && p.allSatisfy { $0 >= 0 }, "\(op): explicit padding needs \(2 * spatialRank) non-negative amounts, got \(p)")
        }
        if case let .symmetric(p) = padding { precondition(p >= 0, "\(op): negative padding \(p)") }
        let (h, wd) = spatialRank == 1 ? (1, xs[2]) : (xs[2], xs[3])
        let (kh, kw) = spatialRank == 1 ? (1, ws[2]) : (ws[2], ws[3])
        let (sh, sw) = spatialRank == 1 ? (1, stride.1) : stride
        let (pt, pb) = spatialRank == 1 ? (0, 0) : padding.amounts(axis: 0, input: h, kernel: kh, stride: sh)
        let (pl, pr) = padding.amounts(axis: spatialRank - 1, input: wd, kernel: kw, stride: sw)
        var s = pd_conv_shape(batch: Int64(xs[0]), c_in: Int64(xs[1]), c_out: Int64(ws[0]),
                              in_h: Int64(h), in_w: Int64(wd), k_h: Int64(kh), k_w: Int64(kw),
                              stride_h: Int64(sh), stride_w: Int64(sw), pad_top: Int64(pt), pad_bottom: Int64(pb),
                              pad_left: Int64(pl), pad_right: Int64(pr))
        let code = pd_conv_validate(&s, nil, nil)
        precondition(code == 0, "\(op) of input \(xs) with weight \(ws), stride \(stride), padding \(padding): \(String(cString: pd_conv_error_message(code)))")
        return s
    }

    static func checked(_ code: Int32, _ op: String) {
        precondition(code == 0, "\(op): \(String(cString: pd_conv_error_message(code)))")
    }

    /// Cross-correlation over [N, C, H, W] with weight [C_out, C_in, kH, kW] (PyTorch's conv2d).
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: ConvPadding = .valid,
                              algorithm: ConvAlgorithm = .auto) -> Tensor {
        conv(x, weight: weight, bias: bias, stride: (stride, stride), padding: padding, spatialRank: 2, algorithm: algorithm)
    }

    /// Cross-correlation over [N, C, L] with weight [C_out, C_in, k] (PyTorch's conv1d).
    public static func conv1d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: ConvPadding = .valid,
                              algorithm: ConvAlgorithm = .auto) -> Tensor {
        conv(x, weight: weight, bias: bias, stride: (1, stride), padding: padding, spatialRank: 1, algorithm: algorithm)
    }

    static func conv(_ x: Tensor, weight w: Tensor, bias: Tensor?, stride: (Int, Int), padding: ConvPadding, spatialRank: Int,
                     algorithm: ConvAlgorithm) -> Tensor {
        let op = spatialRank == 1 ? "conv1d" : "conv2d"
        var s = convShape(x.shape, w.shape, stride: stride, padding: padding, spatialRank: spatialRank, op: op)
        if let bias { precondition(bias.shape == [w.shape[0]], "\(op): bias must be [\(w.shape[0])], got \(bias.shape)") }
        var oh: Int64 = 0, ow: Int64 = 0
        _ = pd_conv_validate(&s, &oh, &ow)
        let outShape = spatialRank == 1 ? [x.shape[0], w.shape[0], Int(ow)] : [x.shape[0], w.shape[0], Int(oh), Int(ow)]
        let y = Tensor(uninitializedShape: outShape)
        let recording = GradMode.isEnabled && (x.node != nil || w.node != nil || bias?.node != nil)
        let saved = recording ? ConvSaved() : nil
        // A training step runs one algorithm for all three passes (the backward reuses the forward's
        // transforms), chosen by the training-step cost model; inference uses the forward model.
        let algorithm = recording && algorithm == .auto ? ConvAlgorithm(rawValue: pd_conv_choose(&s, Int32(PD_CONV_PASS_TRAINING.rawValue)))! : algorithm
        checked(pd_conv_forward(&s, algorithm.rawValue, x.pointer, w.pointer, bias?.pointer, y.pointer, saved?.pointer), op)
        let inputs = bias.map { [x, w, $0] } ?? [x, w]
        return y.recorded(inputs) { g, needs in
            var s = s
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needs[0] {
                let t = Tensor(uninitializedShape: x.shape)
                checked(pd_conv_backward_input(&s, algorithm.rawValue, g.pointer, w.pointer, t.pointer, saved?.pointer), op)
                gx = t
            }
            if needs[1] || (needs.count > 2 && needs[2]) {
                let tw = Tensor(uninitializedShape: w.shape)
                let tb = Tensor(uninitializedShape: [w.shape[0]])
                checked(pd_conv_backward_weight(&s, algorithm.rawValue, x.pointer, g.pointer, tw.pointer, tb.pointer, saved?.pointer), op)
                gw = needs[1] ? tw : nil
                gb = tb
            }
            return [gx, gw, gb]
        }
    }

    /// Transposed 1-D convolution (PyTorch's conv_transpose1d): x [N, C_in, L], weight
    /// [C_in, C_out, k]; output length (L − 1)·stride − 2·padding + k + outputPadding. It is the
    /// adjoint of conv1d, so it runs through the same kernels (Diffuser's up-sampling: k 4, s 2, p 1).
    public static func convTranspose1d(_ x: Tensor, weight w: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                       outputPadding: Int = 0, algorithm: ConvAlgorithm = .auto) -> Tensor {
        precondition(x.rank == 3 && w.rank == 3, "convTranspose1d expects input [N, C_in, L] and weight [C_in, C_out, k], got \(x.shape), \(w.shape)")
        precondition(w.shape[0] == x.shape[1], "convTranspose1d: weight \(w.shape) expects \(w.shape[0]) input channels, input has \(x.shape[1])")
        precondition(stride >= 1 && padding >= 0 && outputPadding >= 0 && outputPadding < stride,
                     "convTranspose1d: need stride ≥ 1, padding ≥ 0 and 0 ≤ outputPadding < stride")
        let (n, cIn, l) = (x.shape[0], x.shape[1], x.shape[2])
        let (cOut, k) = (w.shape[1], w.shape[2])
        let lOut = (l - 1) * stride - 2 * padding + k + outputPadding
        precondition(lOut >= 1, "convTranspose1d: output length \(lOut) is not positive")
        if let bias { precondition(bias.shape == [cOut], "convTranspose1d: bias must be [\(cOut)], got \(bias.shape)") }
        // The conv whose input-gradient this is: input [N, C_out, L_out] → output [N, C_in, L].
        var s = pd_conv_shape(batch: Int64(n), c_in: Int64(cOut), c_out: Int64(cIn), in_h: 1, in_w: Int64(lOut), k_h: 1, k_w: Int64(k),
                              stride_h: 1, stride_w: Int64(stride), pad_top: 0, pad_bottom: 0, pad_left: Int64(padding), pad_right: Int64(padding))
        var oh: Int64 = 0, ow: Int64 = 0
        let code = pd_conv_validate(&s, &oh, &ow)
        precondition(code == 0 && ow == Int64(l), "convTranspose1d of \(x.shape) with \(w.shape): \(String(cString: pd_conv_error_message(code == 0 ? 9 : code)))")
        var y = Tensor(uninitializedShape: [n, cOut, lOut])
        checked(pd_conv_backward_input(&s, algorithm.rawValue, x.pointer, w.pointer, y.pointer, nil), "convTranspose1d")
        if let bias {
            let pb = bias.pointer
            y.withUnsafeMutableBufferPointer { b in
                for r in 0..<(n * cOut) { let v = pb[r % cOut]; for j in 0..<lOut { b[r * lOut + j] += v } }
            }
        }
        let inputs = bias.map { [x, w, $0] } ?? [x, w]
        return y.recorded(inputs) { g, needs in
            var s = s
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needs[0] {
                let t = Tensor(uninitializedShape: x.shape)
                checked(pd_conv_forward(&s, algorithm.rawValue, g.pointer, w.pointer, nil, t.pointer, nil), "convTranspose1d")
                gx = t
            }
            if needs[1] {
                let t = Tensor(uninitializedShape: w.shape)
                checked(pd_conv_backward_weight(&s, algorithm.rawValue, g.pointer, x.pointer, t.pointer, nil, nil), "convTranspose1d")
                gw = t
            }
            if needs.count > 2 && needs[2] { gb = g.sum(axes: [0, 2]) }
            return [gx, gw, gb]
        }
    }

    /// The algorithm `auto` picks for a conv1d/conv2d of these shapes: for inference, or for a
    /// training step (forward and both gradients).
    public static func convAlgorithm(input: [Int], weight: [Int], stride: Int = 1, padding: ConvPadding = .valid, training: Bool = false) -> ConvAlgorithm {
        let spatial = input.count - 2
        var s = convShape(input, weight, stride: (stride, stride), padding: padding, spatialRank: spatial, op: "conv")
        let pass = training ? PD_CONV_PASS_TRAINING : PD_CONV_PASS_FORWARD
        return ConvAlgorithm(rawValue: pd_conv_choose(&s, Int32(pass.rawValue))) ?? .direct
    }
}
