import Foundation

extension Tensor {
    /// (x − mean) / √(var + eps) over the last axis (biased variance) — the shared core of
    /// LayerNorm and GroupNorm, with its closed-form backward:
    /// dx = (g − mean(g) − x̂·mean(g·x̂)) / σ.
    public func normalizedLastAxis(eps: Float) -> Tensor {
        precondition(rank >= 1, "normalisation needs at least one axis")
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
        return out.recorded([self]) { g, _ in
            let gx = Tensor(uninitializedShape: g.shape)
            let pg = g.pointer, px = gx.pointer
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
