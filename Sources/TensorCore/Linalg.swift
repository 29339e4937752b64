import CKernels

/// Activations that can be fused into `linear` (bias + activation in one pass over the output).
public enum Activation: String, Codable, Sendable, CaseIterable {
    case identity, relu, mish, silu, tanh, sigmoid

    var kernel: Int32 {
        switch self {
        case .identity: return -1
        case .relu: return Int32(PD_RELU.rawValue)
        case .mish: return Int32(PD_MISH.rawValue)
        case .silu: return Int32(PD_SILU.rawValue)
        case .tanh: return Int32(PD_TANH.rawValue)
        case .sigmoid: return Int32(PD_SIGMOID.rawValue)
        }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .identity: return x
        case .relu: return x.relu()
        case .mish: return x.mish()
        case .silu: return x.silu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        }
    }
}

extension Tensor {
    /// Matrix product. [M, K]·[K, N]; [B, M, K]·[B, K, N] (batched); [..., K]·[K, N] (leading axes
    /// folded into rows). Through cblas_sgemm, split across the library's threads.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        if a.rank == 3 && b.rank == 3 { return batchedMatmul(a, b) }
        precondition(b.rank == 2 && a.rank >= 1, "matmul of shapes \(a.shape) and \(b.shape) is not supported")
        if a.rank != 2 {
            let lead = Array(a.shape.dropLast())
            return matmul(a.reshaped([-1, a.shape.last!]), b).reshaped(lead + [b.shape[1]])
        }
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        precondition(b.shape[0] == k, "matmul inner dimensions differ: \(a.shape) · \(b.shape)")
        let out = Tensor(uninitializedShape: [m, n])
        pd_sgemm(0, 0, Int64(m), Int64(n), Int64(k), 1, a.pointer, Int64(k), b.pointer, Int64(n), 0, out.pointer, Int64(n))
        return out.recorded([a, b]) { g, needs in
            var ga: Tensor?, gb: Tensor?
            if needs[0] { // G·Bᵀ
                let t = Tensor(uninitializedShape: [m, k])
                pd_sgemm(0, 1, Int64(m), Int64(k), Int64(n), 1, g.pointer, Int64(n), b.pointer, Int64(n), 0, t.pointer, Int64(k))
                ga = t
            }
            if needs[1] { // Aᵀ·G
                let t = Tensor(uninitializedShape: [k, n])
                pd_sgemm(1, 0, Int64(k), Int64(n), Int64(m), 1, a.pointer, Int64(k), g.pointer, Int64(n), 0, t.pointer, Int64(n))
                gb = t
            }
            return [ga, gb]
        }
    }

    static func batchedMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (bs, m, k, n) = (a.shape[0], a.shape[1], a.shape[2], b.shape[2])
        precondition(b.shape[0] == bs && b.shape[1] == k, "batched matmul shapes \(a.shape) · \(b.shape) do not match")
        let out = Tensor(uninitializedShape: [bs, m, n])
        pd_sgemm_batched(Int64(bs), 0, 0, Int64(m), Int64(n), Int64(k), 1, a.pointer, Int64(k), Int64(m * k),
                         b.pointer, Int64(n), Int64(k * n), 0, out.pointer, Int64(n), Int64(m * n))
        return out.recorded([a, b]) { g, needs in
            var ga: Tensor?, gb: Tensor?
            if needs[0] {
                let t = Tensor(uninitializedShape: [bs, m, k])
                pd_sgemm_batched(Int64(bs), 0, 1, Int64(m), Int64(k), Int64(n), 1, g.pointer, Int64(n), Int64(m * n),
                                 b.pointer, Int64(n), Int64(k * n), 0, t.pointer, Int64(k), Int64(m * k))
                ga = t
            }
            if needs[1] {
                let t = Tensor(uninitializedShape: [bs, k, n])
                pd_sgemm_batched(Int64(bs), 1, 0, Int64(k), Int64(n), Int64(m), 1, a.pointer, Int64(k), Int64(m * k),
                                 g.pointer, Int64(n), Int64(m * n), 0, t.pointer, Int64(n), Int64(k * n))
                gb = t
            }
            return [ga, gb]
        }
    }

    /// activation(x·Wᵀ + b) in one op: one GEMM, then bias and activation fused in one pass; the
    /// backward is one activation-derivative pass and at most two GEMMs. x: [..., in], W: [out, in].
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, activation: Activation = .identity) -> Tensor {
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        precondition(x.rank >= 1 && x.shape.last == weight.shape[1], "linear expects input [..., \(weight.shape[1])], got \(x.shape)")
        return linearLayers(x, perMember: false, weights: [weight], biases: [bias], activation: activation,
                            outputShape: Array(x.shape.dropLast()) + [weight.shape[0]])
    }

    /// G Linear layers of one shape at once, stacked: y[g] = activation(x_g·W_gᵀ + b_g), [G, rows…, out].
    /// x is one input shared by all ([rows…, in], `perMember` false) or one per layer ([G, rows…, in]).
    /// With at least as many layers as threads, each layer's GEMMs run whole on one thread
    /// (`pd_sgemm_grouped`): twin critics and ensembles (docs/bench-methods.md).
    public static func groupedLinear(_ x: Tensor, perMember: Bool, weights: [Tensor], biases: [Tensor?],
                                     activation: Activation = .identity) -> Tensor {
        let g = weights.count
        precondition(g >= 1 && biases.count == g, "groupedLinear needs one bias (or nil) per weight")
        precondition(weights.allSatisfy { $0.rank == 2 && $0.shape == weights[0].shape }, "grouped weights must share one [out, in] shape")
        let nIn = weights[0].shape[1]
        precondition(x.shape.last == nIn && (!perMember || (x.rank >= 2 && x.shape[0] == g)),
                     "groupedLinear expects input \(perMember ? "[\(g), ..., \(nIn)]" : "[..., \(nIn)]"), got \(x.shape)")
        let rows = Array(x.shape.dropFirst(perMember ? 1 : 0).dropLast())
        return linearLayers(x, perMember: perMember, weights: weights, biases: biases, activation: activation,
                            outputShape: [g] + rows + [weights[0].shape[0]])
    }

    /// The one implementation behind `linear` (G = 1) and `groupedLinear`.
    private static func linearLayers(_ x: Tensor, perMember: Bool, weights: [Tensor], biases: [Tensor?], activation: Activation,
                                     outputShape: [Int]) -> Tensor {
        let g = weights.count, (nOut, nIn) = (weights[0].shape[0], weights[0].shape[1])
        for b in biases { if let b { precondition(b.shape == [nOut], "linear bias must be [\(nOut)], got \(b.shape)") } }
        precondition(biases.allSatisfy { $0 == nil } || biases.allSatisfy { $0 != nil }, "grouped biases must be all present or all absent")
        let rows = x.count / Swift.max(nIn, 1) / (perMember ? g : 1)
        let (xStride, outStride) = (perMember ? rows * nIn : 0, rows * nOut)
        // C = alpha·op(A_i)·op(B_i) for every member i, grouped when there are several.
        func gemm(_ ta: Int32, _ tb: Int32, _ m: Int, _ n: Int, _ k: Int, _ a: [UnsafePointer<Float>?], _ lda: Int,
                  _ b: [UnsafePointer<Float>?], _ ldb: Int, _ c: [UnsafeMutablePointer<Float>?], _ ldc: Int) {
            if a.count == 1 {
                pd_sgemm(ta, tb, Int64(m), Int64(n), Int64(k), 1, a[0], Int64(lda), b[0], Int64(ldb), 0, c[0], Int64(ldc))
            } else {
                pd_sgemm_grouped(Int64(a.count), ta, tb, Int64(m), Int64(n), Int64(k), 1, a, Int64(lda), b, Int64(ldb), 0, c, Int64(ldc))
            }
        }
        let members = Array(0..<g)
        let xs = members.map { UnsafePointer(x.pointer + $0 * xStride) }, ws = weights.map { UnsafePointer($0.pointer) }
        let z = Tensor(uninitializedShape: outputShape)
        let zs = members.map { z.pointer + $0 * outStride }
        gemm(0, 1, rows, nOut, nIn, xs, nIn, ws, nIn, zs, nOut)
        let y: Tensor
        if activation == .identity {
            for i in members { if let b = biases[i] { pd_bias_act(-1, zs[i], b.pointer, zs[i], nil, Int64(rows), Int64(nOut)) } }
            y = z
        } else {
            y = Tensor(uninitializedShape: outputShape)
            if biases[0] != nil {
                for i in members { pd_bias_act(activation.kernel, zs[i], biases[i]!.pointer, y.pointer + i * outStride, zs[i], Int64(rows), Int64(nOut)) }
            } else {
                pd_unary(activation.kernel, z.pointer, y.pointer, Int64(z.count))
            }
        }
        let inputs = [x] + weights + biases.compactMap { $0 }
        return y.recorded(inputs) { grad, needs in
            var gz = grad
            if activation != .identity {
                gz = Tensor(uninitializedShape: outputShape)
                pd_unary_backward(activation.kernel, z.pointer, y.pointer, grad.pointer, gz.pointer, Int64(grad.count))
            }
            let gzs = members.map { UnsafePointer(gz.pointer + $0 * outStride) }
            var grads = [Tensor?](repeating: nil, count: inputs.count)
            if needs[0] {
                // ∂x_i = ∂z_i·W_i; a shared x sums the members' parts.
                let t = Tensor(uninitializedShape: perMember || g == 1 ? x.shape : [g] + x.shape)
                gemm(0, 0, rows, nIn, nOut, gzs, nOut, ws, nIn, members.map { t.pointer + $0 * rows * nIn }, nIn)
                grads[0] = perMember || g == 1 ? t : t.sum(axis: 0)
            }
            // ∂W_i = ∂z_iᵀ·x_i for the members that need it, grouped when all do.
            let wanted = members.filter { needs[1 + $0] }
            if !wanted.isEmpty {
                let t = wanted.map { _ in Tensor(uninitializedShape: [nOut, nIn]) }
                let batches = wanted.count == g ? [Array(0..<wanted.count)] : (0..<wanted.count).map({ [$0] })
                for part in batches {
                    gemm(1, 0, nOut, nIn, rows, part.map { gzs[wanted[$0]] }, nOut, part.map { xs[wanted[$0]] }, nIn,
                         part.map { t[$0].pointer }, nIn)
                }
                for (j, i) in wanted.enumerated() { grads[1 + i] = t[j] }
            }
            if biases[0] != nil {
                for i in members where needs[1 + g + i] {
                    let t = Tensor(uninitializedShape: [nOut])
                    pd_column_sums(gzs[i], t.pointer, Int64(rows), Int64(nOut))
                    grads[1 + g + i] = t
                }
            }
            return grads
        }
    }
}
