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
        let (nOut, nIn) = (weight.shape[0], weight.shape[1])
        precondition(x.rank >= 1 && x.shape.last == nIn, "linear expects input [..., \(nIn)], got \(x.shape)")
        if let bias { precondition(bias.shape == [nOut], "linear bias must be [\(nOut)], got \(bias.shape)") }
        let rows = x.count / Swift.max(nIn, 1)
        let outShape = Array(x.shape.dropLast()) + [nOut]
        let z = Tensor(uninitializedShape: outShape)
        pd_sgemm(0, 1, Int64(rows), Int64(nOut), Int64(nIn), 1, x.pointer, Int64(nIn), weight.pointer, Int64(nIn), 0, z.pointer, Int64(nOut))
        let y: Tensor
        if activation == .identity {
            if let bias { pd_bias_act(-1, z.pointer, bias.pointer, z.pointer, nil, Int64(rows), Int64(nOut)) }
            y = z
        } else {
            y = Tensor(uninitializedShape: outShape)
            if let bias {
                pd_bias_act(activation.kernel, z.pointer, bias.pointer, y.pointer, z.pointer, Int64(rows), Int64(nOut))
            } else {
                pd_unary(activation.kernel, z.pointer, y.pointer, Int64(z.count))
            }
        }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return y.recorded(inputs) { g, needs in
            var gz = g
            if activation != .identity {
                gz = Tensor(uninitializedShape: outShape)
                pd_unary_backward(activation.kernel, z.pointer, y.pointer, g.pointer, gz.pointer, Int64(g.count))
            }
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needs[0] {
                let t = Tensor(uninitializedShape: x.shape)
                pd_sgemm(0, 0, Int64(rows), Int64(nIn), Int64(nOut), 1, gz.pointer, Int64(nOut), weight.pointer, Int64(nIn), 0, t.pointer, Int64(nIn))
                gx = t
            }
            if needs[1] {
                let t = Tensor(uninitializedShape: [nOut, nIn])
                pd_sgemm(1, 0, Int64(nOut), Int64(nIn), Int64(rows), 1, gz.pointer, Int64(nOut), x.pointer, Int64(nIn), 0, t.pointer, Int64(nIn))
                gw = t
            }
            if needs.count > 2 && needs[2] {
                let t = Tensor(uninitializedShape: [nOut])
                pd_column_sums(gz.pointer, t.pointer, Int64(rows), Int64(nOut))
                gb = t
            }
            return [gx, gw, gb]
        }
    }
}
