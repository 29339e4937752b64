import CKernels
import Foundation

extension Tensor {
    /// (x − mean) / √(var + eps) over the last axis (biased variance) — the shared core of
    /// LayerNorm and GroupNorm, with its closed-form backward:
    /// dx = (g − mean(g) − x̂·mean(g·x̂)) / σ.
    public func normalizedLastAxis(eps: Float) -> Tensor {
        precondition(rank >= 1, "normalization needs at least one axis")
        let n = shape[rank - 1]
        let rows = count / Swift.max(n, 1)
        let out = Tensor(uninitializedShape: shape)
        var invStd = [Float](repeating: 0, count: rows)
        let x = pointer, y = out.pointer
        let inv = 1 / Float(n)
        for r in 0..<rows {
            let xr = x + r * n, yr = y + r * n
            let mean = contiguousSum(xr, n) * inv
            var v: Float = 0
            for i in 0..<n { let d = xr[i] - mean; v += d * d }
            let s = 1 / Foundation.sqrt(v * inv + eps)
            invStd[r] = s
            for i in 0..<n { yr[i] = (xr[i] - mean) * s }
        }
        // The backward reads x̂ from `out`'s buffer: capturing `out` keeps that buffer alive until the
        // graph is released. (A captured raw pointer alone did not: once the forward's output was
        // dropped, the pooled buffer could be handed to another tensor — in a concurrent process, one
        // of another thread — and the backward read its values.)
        return out.recorded([self]) { g, _ in
            let gx = Tensor(uninitializedShape: g.shape)
            let pg = g.pointer, px = gx.pointer, y = out.pointer
            for r in 0..<rows {
                let gr = pg + r * n, yr = y + r * n, dr = px + r * n
                var sg: Float = 0, sgy: Float = 0
                for i in 0..<n { sg += gr[i]; sgy += gr[i] * yr[i] }
                let mg = sg * inv, mgy = sgy * inv, s = invStd[r]
                for i in 0..<n { dr[i] = (gr[i] - mg - yr[i] * mgy) * s }
            }
            return [gx]
        }
    }
}

extension Tensor {
    /// activation(GroupNorm(x)·weight + bias) as one fused kernel (one pass forward, one backward)
    /// for x of shape [N, C, …]: the U-Nets' GroupNorm → Mish blocks without three intermediate
    /// tensors. Statistics per (sample, group) over C/groups channels × the trailing axes, biased
    /// variance, as torch.nn.GroupNorm. tanh/sigmoid activations are composed instead of fused.
    public func groupNormalized(groups: Int, weight: Tensor, bias: Tensor, eps: Float, activation: Activation = .identity) -> Tensor {
        precondition(rank >= 2 && shape[1] % groups == 0, "groupNormalized: \(shape) with \(groups) groups")
        let c = shape[1]
        precondition(weight.shape == [c] && bias.shape == [c], "groupNormalized: weight \(weight.shape), bias \(bias.shape) for \(c) channels")
        guard [.identity, .relu, .mish, .silu].contains(activation) else {
            return activation(groupNormalized(groups: groups, weight: weight, bias: bias, eps: eps))
        }
        let n = shape[0], length = count / Swift.max(n * c, 1)
        let out = Tensor(uninitializedShape: shape), xhat = Tensor(uninitializedShape: shape)
        let invStd = Tensor(uninitializedShape: [n * groups])
        let op = activation.kernel
        pd_group_norm(op, pointer, weight.pointer, bias.pointer, out.pointer, xhat.pointer, invStd.pointer,
                      Int64(n), Int64(c), Int64(length), Int64(groups), eps)
        return out.recorded([self, weight, bias]) { g, _ in
            let gx = Tensor(uninitializedShape: xhat.shape), gw = Tensor(uninitializedShape: [c]), gb = Tensor(uninitializedShape: [c])
            pd_group_norm_backward(op, g.pointer, xhat.pointer, invStd.pointer, weight.pointer, bias.pointer,
                                   gx.pointer, gw.pointer, gb.pointer, Int64(n), Int64(c), Int64(length), Int64(groups))
            return [gx, gw, gb]
        }
    }
}
