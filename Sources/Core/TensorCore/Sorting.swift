extension Tensor {
    /// Sorts along an axis (stable); returns values and their original positions. Gradients flow
    /// back to the original positions.
    public func sorted(axis a: Int = -1, descending: Bool = false) -> (values: Tensor, indices: IntTensor) {
        let ax = axis(a)
        let (outer, n, inner) = split(around: ax)
        var idx = [Int](repeating: 0, count: count)
        let x = pointer
        var order = [Int](repeating: 0, count: n)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                for k in 0..<n { order[k] = k }
                // NaN sorts last ascending, first descending (as torch.sort).
                order.sort { p, q in
                    let u = x[base + p * inner], v = x[base + q * inner]
                    if u.isNaN || v.isNaN { return descending ? (u.isNaN && !v.isNaN) : (!u.isNaN && v.isNaN) }
                    return descending ? u > v : u < v
                }
                // Array.sort is not guaranteed stable: break ties by index.
                var k = 0
                while k < n {
                    var e = k + 1
                    while e < n && x[base + order[e] * inner] == x[base + order[k] * inner] { e += 1 }
                    if e - k > 1 { order[k..<e].sort() }
                    k = e
                }
                for k in 0..<n { idx[base + k * inner] = order[k] }
            }
        }
        let indices = IntTensor(idx, shape: shape)
        return (gather(axis: ax, indices), indices)
    }

    /// The k largest (or smallest) entries along an axis, in order.
    public func topK(_ k: Int, axis a: Int = -1, largest: Bool = true) -> (values: Tensor, indices: IntTensor) {
        let ax = axis(a)
        precondition(k >= 0 && k <= shape[ax], "top-k with k = \(k) on an axis of \(shape[ax])")
        let (_, idx) = noGrad { sorted(axis: ax, descending: largest) }
        let (outer, n, inner) = split(around: ax)
        var kept = [Int]()
        kept.reserveCapacity(outer * k * inner)
        for o in 0..<outer { for j in 0..<k { for i in 0..<inner { kept.append(idx.scalars[(o * n + j) * inner + i]) } } }
        var s = shape
        s[ax] = k
        let indices = IntTensor(kept, shape: s)
        return (gather(axis: ax, indices), indices)
    }
}
