/// Max/average pooling and nearest-neighbour resizing over the trailing spatial axes:
/// 1-D on [N, C, L], 2-D on [N, C, H, W]. 1-D is the 2-D kernel with H = 1.
extension Tensor {
    private func as4D(_ op: String, spatialRank: Int) -> (Int, Int, Int, Int) {
        precondition(rank == 2 + spatialRank, "\(op) expects [N, C, \(spatialRank == 1 ? "L" : "H, W")], got \(shape)")
        return spatialRank == 1 ? (shape[0], shape[1], 1, shape[2]) : (shape[0], shape[1], shape[2], shape[3])
    }

    private func pool(kh: Int, kw: Int, sh: Int, sw: Int, spatialRank: Int, isMax: Bool) -> Tensor {
        let (n, c, h, w) = as4D(isMax ? "maxPool" : "avgPool", spatialRank: spatialRank)
        precondition(kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1 && kh <= h && kw <= w, "pooling window \(kh)×\(kw) does not fit \(shape)")
        let oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1
        let outShape = spatialRank == 1 ? [n, c, ow] : [n, c, oh, ow]
        let out = Tensor(uninitializedShape: outShape)
        var argmax = [Int](repeating: 0, count: isMax ? out.count : 0)
        let x = pointer, y = out.pointer
        let inv = 1 / Float(kh * kw)
        for plane in 0..<(n * c) {
            let xp = x + plane * h * w
            for i in 0..<oh { for j in 0..<ow {
                let o = (plane * oh + i) * ow + j
                if isMax {
                    var best = -Float.infinity, bi = i * sh * w + j * sw
                    for a in 0..<kh { for b in 0..<kw {
                        let p = (i * sh + a) * w + j * sw + b
                        if xp[p] > best { best = xp[p]; bi = p }
                    } }
                    y[o] = best
                    argmax[o] = plane * h * w + bi
                } else {
                    var s: Float = 0
                    for a in 0..<kh { for b in 0..<kw { s += xp[(i * sh + a) * w + j * sw + b] } }
                    y[o] = s * inv
                }
            } }
        }
        let inputShape = shape
        return out.recorded([self]) { g, _ in
            let gx = Tensor(zeros: inputShape)
            let pg = g.pointer, px = gx.pointer
            if isMax {
                for o in 0..<g.count { px[argmax[o]] += pg[o] }
            } else {
                for plane in 0..<(n * c) { for i in 0..<oh { for j in 0..<ow {
                    let v = pg[(plane * oh + i) * ow + j] * inv
                    for a in 0..<kh { for b in 0..<kw { px[plane * h * w + (i * sh + a) * w + j * sw + b] += v } }
                } } }
            }
            return [gx]
        }
    }

    /// Max pooling over [N, C, L] (stride defaults to the kernel size, no padding: VALID).
    public func maxPool1d(kernel: Int, stride: Int? = nil) -> Tensor {
        pool(kh: 1, kw: kernel, sh: 1, sw: stride ?? kernel, spatialRank: 1, isMax: true)
    }

    public func avgPool1d(kernel: Int, stride: Int? = nil) -> Tensor {
        pool(kh: 1, kw: kernel, sh: 1, sw: stride ?? kernel, spatialRank: 1, isMax: false)
    }

    public func maxPool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        pool(kh: kernel, kw: kernel, sh: stride ?? kernel, sw: stride ?? kernel, spatialRank: 2, isMax: true)
    }

    public func avgPool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        pool(kh: kernel, kw: kernel, sh: stride ?? kernel, sw: stride ?? kernel, spatialRank: 2, isMax: false)
    }

    private func nearest(toH oh: Int, toW ow: Int, spatialRank: Int) -> Tensor {
        let (n, c, h, w) = as4D("resizeNearest", spatialRank: spatialRank)
        precondition(oh >= 1 && ow >= 1, "resize to an empty size")
        // PyTorch's "nearest": source index = floor(dst · in / out).
        let rows = (0..<oh).map { Swift.min($0 * h / oh, h - 1) }
        let cols = (0..<ow).map { Swift.min($0 * w / ow, w - 1) }
        let outShape = spatialRank == 1 ? [n, c, ow] : [n, c, oh, ow]
        let out = Tensor(uninitializedShape: outShape)
        let x = pointer, y = out.pointer
        for plane in 0..<(n * c) { for i in 0..<oh { for j in 0..<ow {
            y[(plane * oh + i) * ow + j] = x[plane * h * w + rows[i] * w + cols[j]]
        } } }
        let inputShape = shape
        return out.recorded([self]) { g, _ in
            let gx = Tensor(zeros: inputShape)
            for plane in 0..<(n * c) { for i in 0..<oh { for j in 0..<ow {
                gx.pointer[plane * h * w + rows[i] * w + cols[j]] += g.pointer[(plane * oh + i) * ow + j]
            } } }
            return [gx]
        }
    }

    /// Nearest-neighbour resize of [N, C, L] to length `size`.
    public func resizeNearest1d(size: Int) -> Tensor { nearest(toH: 1, toW: size, spatialRank: 1) }

    /// Nearest-neighbour resize of [N, C, H, W] to `height` × `width`.
    public func resizeNearest2d(height: Int, width: Int) -> Tensor { nearest(toH: height, toW: width, spatialRank: 2) }
}
