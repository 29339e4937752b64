import Foundation

/// Deterministic sum of a contiguous run: eight SIMD lanes, combined in a fixed order.
@inline(__always)
func contiguousSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

extension Tensor {
    /// (outer, length, inner) of a tensor seen around `axis`.
    func split(around axis: Int) -> (outer: Int, length: Int, inner: Int) {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        return (outer, shape[axis], inner)
    }

    private func sumAxisKeep(_ axis: Int) -> Tensor {
        let (outer, n, inner) = split(around: axis)
        var outShape = shape
        outShape[axis] = 1
        let out = Tensor(zeros: outShape)
        let x = pointer, y = out.pointer
        if inner == 1 {
            for o in 0..<outer { y[o] = contiguousSum(x + o * n, n) }
        } else {
            for o in 0..<outer {
                let yo = y + o * inner
                for k in 0..<n {
                    let xk = x + (o * n + k) * inner
                    for i in 0..<inner { yo[i] += xk[i] }
                }
            }
        }
        return out
    }

    /// Sum over `axes` (all axes when empty is not what you want: use `sum()`).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let resolved = Array(Set(axes.map { axis($0) })).sorted()
        var out = self.detached()
        for a in resolved.reversed() { out = out.sumAxisKeep(a) }
        let keptShape = out.shape
        if !keepDims { out = Tensor(shape: shape.enumerated().filter { !resolved.contains($0.offset) }.map { $0.element }, storage: out.storage) }
        let inputShape = shape
        return out.recorded([self]) { g, _ in [g.reshaped(keptShape).broadcast(to: inputShape)] }
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Sum of all elements (a scalar).
    public func sum() -> Tensor {
        let out = Tensor(contiguousSum(pointer, count))
        let inputShape = shape
        return out.recorded([self]) { g, _ in [Tensor(repeating: g.item, shape: inputShape)] }
    }

    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = Set(axes.map { axis($0) }).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(n))
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Variance over `axes`; `unbiased` divides by n − 1 (torch.var's default correction).
    public func variance(axes: [Int], keepDims: Bool = false, unbiased: Bool = false) -> Tensor {
        let n = Set(axes.map { axis($0) }).reduce(1) { $0 * shape[$1] }
        let centred = self - mean(axes: axes, keepDims: true)
        let ss = centred.squared().sum(axes: axes, keepDims: keepDims)
        return ss * (1 / Float(unbiased ? Swift.max(n - 1, 1) : n))
    }

    public func variance(axis: Int, keepDims: Bool = false, unbiased: Bool = false) -> Tensor {
        variance(axes: [axis], keepDims: keepDims, unbiased: unbiased)
    }

    /// Maximum along an axis and where it is (first occurrence); the gradient flows to that entry.
    public func max(axis a: Int, keepDims: Bool = false) -> (values: Tensor, indices: IntTensor) {
        let ax = axis(a)
        let (outer, n, inner) = split(around: ax)
        precondition(n > 0, "max over an empty axis")
        var outShape = shape
        outShape[ax] = 1
        let values = Tensor(uninitializedShape: outShape)
        var idx = [Int](repeating: 0, count: outer * inner)
        let x = pointer, y = values.pointer
        for o in 0..<outer {
            for i in 0..<inner {
                var best = x[o * n * inner + i], bi = 0
                for k in 1..<n {
                    let v = x[(o * n + k) * inner + i]
                    if v > best || (v.isNaN && !best.isNaN) { best = v; bi = k }
                }
                y[o * inner + i] = best
                idx[o * inner + i] = bi
            }
        }
        let finalShape = keepDims ? outShape : outShape.enumerated().filter { $0.offset != ax }.map { $0.element }
        let indices = IntTensor(idx, shape: finalShape)
        let inputShape = shape
        let out = Tensor(shape: finalShape, storage: values.storage).recorded([self]) { g, _ in
            let gx = Tensor(zeros: inputShape)
            let pg = g.pointer, px = gx.pointer
            for o in 0..<outer { for i in 0..<inner { px[(o * n + idx[o * inner + i]) * inner + i] = pg[o * inner + i] } }
            return [gx]
        }
        return (out, indices)
    }

    /// Maximum of all elements.
    public func max() -> Tensor { reshaped([count]).max(axis: 0).values }

    public func argmax(axis a: Int) -> IntTensor { noGrad { max(axis: a).indices } }

    /// log Σ exp along an axis, stable (max subtracted); gradient = softmax.
    public func logSumExp(axis a: Int, keepDims: Bool = false) -> Tensor {
        let ax = axis(a)
        let m = noGrad { max(axis: ax, keepDims: true).values }
        let safeM = m.map { $0.isFinite ? $0 : 0 }
        let lse = noGrad { (self - safeM).exp().sum(axis: ax, keepDims: true).log() + safeM }
        let input = self
        let out = keepDims ? lse : lse.squeezed(axis: ax)
        return out.recorded([self]) { g, _ in
            let soft = (input - lse).exp()
            return [soft * (keepDims ? g : g.unsqueezed(axis: ax))]
        }
    }

    /// log softmax along an axis.
    public func logSoftmax(axis a: Int) -> Tensor { self - logSumExp(axis: a, keepDims: true) }

    public func softmax(axis a: Int) -> Tensor { logSoftmax(axis: a).exp() }
}
