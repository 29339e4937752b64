/// NumPy broadcasting: shapes are aligned at their last axes; a dimension of 1 stretches.
extension Tensor {
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            precondition(da == db || da == 1 || db == 1, "shapes \(a) and \(b) do not broadcast")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Element strides of `shape` seen through broadcast shape `out` (0 along stretched axes).
    static func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: out.count)
        var s = 1
        let offset = out.count - shape.count
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i + offset] = shape[i] == 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }

    /// Visits the output in rows of its last axis, giving the start offset of each input and the
    /// inputs' strides along that axis. Drives every broadcasting kernel.
    @inline(__always)
    static func forEachBroadcastRow(_ out: [Int], _ inputs: [[Int]], _ body: (_ outOffset: Int, _ offsets: [Int], _ inner: Int, _ innerStrides: [Int]) -> Void) {
        let r = out.count
        if r == 0 { body(0, [Int](repeating: 0, count: inputs.count), 1, [Int](repeating: 0, count: inputs.count)); return }
        let strides = inputs.map { broadcastStrides($0, to: out) }
        let inner = out[r - 1]
        let innerStrides = strides.map { $0[r - 1] }
        let rows = Tensor.elementCount(out) / Swift.max(inner, 1)
        if inner == 0 || rows == 0 { return }
        var index = [Int](repeating: 0, count: r - 1)
        var offsets = [Int](repeating: 0, count: inputs.count)
        for row in 0..<rows {
            body(row * inner, offsets, inner, innerStrides)
            // advance the multi-index over the leading axes
            var axis = r - 2
            while axis >= 0 {
                index[axis] += 1
                for k in 0..<inputs.count { offsets[k] += strides[k][axis] }
                if index[axis] < out[axis] { break }
                for k in 0..<inputs.count { offsets[k] -= strides[k][axis] * out[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Sums over broadcast axes so the result has `target` shape (the adjoint of broadcasting).
    public func sum(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "cannot reduce \(shape) to \(target)")
        var axes: [Int] = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[i + lead] != 1 { axes.append(i + lead) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    /// Materialises a broadcast to `target`.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Tensor.broadcastShape(shape, target) == target, "cannot broadcast \(shape) to \(target)")
        var out = Tensor(uninitializedShape: target)
        let src = pointer, dst = out.pointer
        Tensor.forEachBroadcastRow(target, [shape]) { o, offs, inner, st in
            if st[0] == 1 { (dst + o).update(from: src + offs[0], count: inner) } else { (dst + o).update(repeating: src[offs[0]], count: inner) }
        }
        let original = shape
        out = out.recorded([self]) { g, _ in [g.sum(to: original)] }
        return out
    }
}
