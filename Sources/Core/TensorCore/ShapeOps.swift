/// Reshaping, permuting, joining and indexing. Results are contiguous; reshape shares storage.
extension Tensor {
    /// Same values, new shape; one dimension may be −1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(Tensor.elementCount(s) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        if s == shape { return self }
        let original = shape
        return Tensor(shape: s, storage: storage).recorded([self]) { g, _ in [g.reshaped(original)] }
    }

    /// Collapses axes from `start` on into one.
    public func flattened(from start: Int = 0) -> Tensor {
        let a = axis(start)
        return reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)])
    }

    public func unsqueezed(axis a: Int) -> Tensor {
        let ax = a < 0 ? a + rank + 1 : a
        precondition(ax >= 0 && ax <= rank, "axis \(a) out of range")
        var s = shape
        s.insert(1, at: ax)
        return reshaped(s)
    }

    public func squeezed(axis a: Int) -> Tensor {
        let ax = axis(a)
        precondition(shape[ax] == 1, "cannot squeeze axis \(a) of size \(shape[ax])")
        var s = shape
        s.remove(at: ax)
        return reshaped(s)
    }

    /// Reorders axes: result axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        let order = order.map { axis($0) }
        precondition(order.sorted() == Array(0..<rank), "\(order) is not a permutation of the axes of \(shape)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let srcStrides = order.map { inStrides[$0] }
        let out = Tensor(uninitializedShape: outShape)
        let x = pointer, y = out.pointer
        if rank == 2 {
            let (r, c) = (outShape[0], outShape[1])
            // 2-D transpose in 32×32 tiles for cache locality.
            for i0 in stride(from: 0, to: r, by: 32) {
                for j0 in stride(from: 0, to: c, by: 32) {
                    for i in i0..<Swift.min(i0 + 32, r) {
                        for j in j0..<Swift.min(j0 + 32, c) { y[i * c + j] = x[i * srcStrides[0] + j * srcStrides[1]] }
                    }
                }
            }
        } else {
            let inner = outShape.last ?? 1
            let innerStride = srcStrides.last ?? 1
            Tensor.forEachIndex(Array(outShape.dropLast())) { row, idx in
                var off = 0
                for (k, i) in idx.enumerated() { off += i * srcStrides[k] }
                let yr = y + row * inner
                for j in 0..<inner { yr[j] = x[off + j * innerStride] }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return out.recorded([self]) { g, _ in [g.permuted(inverse)] }
    }

    /// Swaps two axes (the last two by default).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(axis(a), axis(b))
        return permuted(order)
    }

    /// Visits every multi-index of `shape` in row-major order.
    @inline(__always)
    static func forEachIndex(_ shape: [Int], _ body: (Int, [Int]) -> Void) {
        let n = elementCount(shape)
        if n == 0 { return }
        var idx = [Int](repeating: 0, count: shape.count)
        for flat in 0..<n {
            body(flat, idx)
            var a = shape.count - 1
            while a >= 0 {
                idx[a] += 1
                if idx[a] < shape[a] { break }
                idx[a] = 0
                a -= 1
            }
        }
    }

    /// Joins tensors along an axis; all other dimensions must match.
    public static func concat(_ parts: [Tensor], axis a: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat of no tensors")
        let ax = parts[0].axis(a)
        for p in parts {
            precondition(p.rank == parts[0].rank, "concat of ranks \(parts.map { $0.rank })")
            for d in 0..<p.rank where d != ax { precondition(p.shape[d] == parts[0].shape[d], "concat shapes \(parts.map { $0.shape }) differ off axis \(ax)") }
        }
        var outShape = parts[0].shape
        outShape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        let out = Tensor(uninitializedShape: outShape)
        let outer = outShape[..<ax].reduce(1, *)
        let inner = outShape[(ax + 1)...].reduce(1, *)
        let total = outShape[ax] * inner
        var offset = 0
        for p in parts {
            let chunk = p.shape[ax] * inner
            for o in 0..<outer { (out.pointer + o * total + offset).update(from: p.pointer + o * chunk, count: chunk) }
            offset += chunk
        }
        let sizes = parts.map { $0.shape[ax] }
        return out.recorded(parts) { g, needs in
            var start = 0
            return zip(sizes, needs).map { size, need in
                defer { start += size }
                return need ? g.slice(axis: ax, start..<(start + size)) : nil
            }
        }
    }

    /// Splits along an axis into pieces of the given sizes.
    public func split(sizes: [Int], axis a: Int) -> [Tensor] {
        let ax = axis(a)
        precondition(sizes.reduce(0, +) == shape[ax], "split sizes \(sizes) do not add up to \(shape[ax])")
        var start = 0
        return sizes.map { n in defer { start += n }; return slice(axis: ax, start..<(start + n)) }
    }

    /// Entries `range` along an axis.
    public func slice(axis a: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis(a)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax], "slice \(range) out of bounds for axis \(ax) of \(shape)")
        let (outer, n, inner) = split(around: ax)
        var outShape = shape
        outShape[ax] = range.count
        let out = Tensor(uninitializedShape: outShape)
        let chunk = range.count * inner
        for o in 0..<outer { (out.pointer + o * chunk).update(from: pointer + (o * n + range.lowerBound) * inner, count: chunk) }
        let inputShape = shape
        return out.recorded([self]) { g, _ in
            let gx = Tensor(zeros: inputShape)
            for o in 0..<outer { (gx.pointer + (o * n + range.lowerBound) * inner).update(from: g.pointer + o * chunk, count: chunk) }
            return [gx]
        }
    }

    /// Rows `indices` along an axis (torch.index_select); the gradient is scatter-added.
    public func indexSelect(axis a: Int, _ indices: [Int]) -> Tensor {
        let ax = axis(a)
        let (outer, n, inner) = split(around: ax)
        for i in indices { precondition(i >= 0 && i < n, "index \(i) out of range 0..<\(n) on axis \(ax)") }
        var outShape = shape
        outShape[ax] = indices.count
        let out = Tensor(uninitializedShape: outShape)
        let m = indices.count
        for o in 0..<outer {
            for (j, i) in indices.enumerated() { (out.pointer + (o * m + j) * inner).update(from: pointer + (o * n + i) * inner, count: inner) }
        }
        let inputShape = shape
        return out.recorded([self]) { g, _ in
            let gx = Tensor(zeros: inputShape)
            for o in 0..<outer {
                for (j, i) in indices.enumerated() {
                    let dst = gx.pointer + (o * n + i) * inner, src = g.pointer + (o * m + j) * inner
                    for k in 0..<inner { dst[k] += src[k] }
                }
            }
            return [gx]
        }
    }

    /// torch.gather: out[…, j, …] = self[…, index[…, j, …], …] along `axis`; `index` has this
    /// tensor's shape except along the axis.
    public func gather(axis a: Int, _ index: IntTensor) -> Tensor {
        let ax = axis(a)
        precondition(index.rank == rank, "gather index rank \(index.rank) ≠ \(rank)")
        for d in 0..<rank where d != ax { precondition(index.shape[d] == shape[d], "gather index shape \(index.shape) does not match \(shape) off axis \(ax)") }
        let (outer, n, inner) = split(around: ax)
        let m = index.shape[ax]
        let out = Tensor(uninitializedShape: index.shape)
        let idx = index.scalars
        for i in idx { precondition(i >= 0 && i < n, "gather index \(i) out of range 0..<\(n)") }
        for o in 0..<outer { for j in 0..<m { for k in 0..<inner {
            out.pointer[(o * m + j) * inner + k] = pointer[(o * n + idx[(o * m + j) * inner + k]) * inner + k]
        } } }
        let inputShape = shape
        return out.recorded([self]) { g, _ in
            let gx = Tensor(zeros: inputShape)
            for o in 0..<outer { for j in 0..<m { for k in 0..<inner {
                gx.pointer[(o * n + idx[(o * m + j) * inner + k]) * inner + k] += g.pointer[(o * m + j) * inner + k]
            } } }
            return [gx]
        }
    }

    /// Embedding lookup: rows of a [vocabulary, dim] table for integer ids of any shape.
    public static func embedding(_ table: Tensor, _ ids: IntTensor) -> Tensor {
        precondition(table.rank == 2, "embedding table must be [vocabulary, dim], got \(table.shape)")
        return table.indexSelect(axis: 0, ids.scalars).reshaped(ids.shape + [table.shape[1]])
    }

    /// Stacks equal-shaped tensors along a new axis.
    public static func stack(_ parts: [Tensor], axis a: Int = 0) -> Tensor {
        concat(parts.map { $0.unsqueezed(axis: a) }, axis: a)
    }
}
