import CKernels
import Foundation

// MARK: kernels

extension Tensor {
    /// out = f(a, b) with broadcasting. Specialised by inlining at each call site.
    @inline(__always)
    static func binaryMap(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let pa = a.pointer, pb = b.pointer
        if a.shape == b.shape {
            let out = Tensor(uninitializedShape: a.shape)
            let po = out.pointer
            for i in 0..<a.count { po[i] = f(pa[i], pb[i]) }
            return out
        }
        let shape = broadcastShape(a.shape, b.shape)
        let out = Tensor(uninitializedShape: shape)
        let po = out.pointer
        if b.count == 1 {
            let s = pb[0]
            for i in 0..<out.count { po[i] = f(pa[i], s) }
            return out
        }
        if a.count == 1 {
            let s = pa[0]
            for i in 0..<out.count { po[i] = f(s, pb[i]) }
            return out
        }
        forEachBroadcastRow(shape, [a.shape, b.shape]) { o, offs, inner, st in
            let xa = pa + offs[0], xb = pb + offs[1], y = po + o
            switch (st[0], st[1]) {
            case (1, 1): for i in 0..<inner { y[i] = f(xa[i], xb[i]) }
            case (1, 0): let s = xb[0]; for i in 0..<inner { y[i] = f(xa[i], s) }
            case (0, 1): let s = xa[0]; for i in 0..<inner { y[i] = f(s, xb[i]) }
            default: let s = f(xa[0], xb[0]); for i in 0..<inner { y[i] = s }
            }
        }
        return out
    }

    @inline(__always)
    func map(_ f: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let p = pointer, po = out.pointer
        for i in 0..<count { po[i] = f(p[i]) }
        return out
    }

    /// Vectorised C kernel (pd_unary) with its matching backward.
    func cUnary(_ op: pd_unary_op, derivativeUsesOutput: Bool = false) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        pd_unary(Int32(op.rawValue), pointer, out.pointer, Int64(count))
        let x = self
        return out.recorded([self]) { g, _ in
            let gx = Tensor(uninitializedShape: x.shape)
            pd_unary_backward(Int32(op.rawValue), x.pointer, derivativeUsesOutput ? out.pointer : nil, g.pointer, gx.pointer, Int64(x.count))
            return [gx]
        }
    }
}

// MARK: arithmetic

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binaryMap(a, b, +).recorded([a, b]) { g, _ in [g.sum(to: a.shape), g.sum(to: b.shape)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binaryMap(a, b, -).recorded([a, b]) { g, needs in [g.sum(to: a.shape), needs[1] ? (-g).sum(to: b.shape) : nil] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binaryMap(a, b, *).recorded([a, b]) { g, needs in
            [needs[0] ? (g * b).sum(to: a.shape) : nil, needs[1] ? (g * a).sum(to: b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binaryMap(a, b, /).recorded([a, b]) { g, needs in
            [needs[0] ? (g / b).sum(to: a.shape) : nil, needs[1] ? (-(g * a) / (b * b)).sum(to: b.shape) : nil]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor { a.cUnary(PD_NEG) }

    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(s) }
    public static func + (s: Float, a: Tensor) -> Tensor { Tensor(s) + a }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(s) }
    public static func - (s: Float, a: Tensor) -> Tensor { Tensor(s) - a }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Tensor(s) }
    public static func * (s: Float, a: Tensor) -> Tensor { Tensor(s) * a }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Tensor(s) }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(s) / a }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }

    /// aᵖ for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        let x = self
        if p == 2 { return map { $0 * $0 }.recorded([self]) { g, _ in [g * x * 2] } }
        return map { Foundation.pow($0, p) }.recorded([self]) { g, _ in [g * x.pow(p - 1) * p] }
    }

    /// aᵇ elementwise with broadcasting (a > 0 where b's gradient is needed).
    public func pow(_ b: Tensor) -> Tensor {
        let a = self
        let out = Tensor.binaryMap(a, b) { Foundation.pow($0, $1) }
        return out.recorded([a, b]) { g, needs in
            [needs[0] ? (g * b * a.pow(b - 1)).sum(to: a.shape) : nil,
             needs[1] ? (g * out * a.log()).sum(to: b.shape) : nil]
        }
    }

    public func squared() -> Tensor { pow(2) }

    /// Elementwise minimum; on ties the gradient is split evenly (as PyTorch does).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binaryMap(a, b, Swift.min).recorded([a, b]) { g, _ in
            let wa = binaryMap(a, b) { $0 < $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
            return [(g * wa).sum(to: a.shape), (g * (1 - wa)).sum(to: b.shape)]
        }
    }

    /// Elementwise maximum; on ties the gradient is split evenly.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binaryMap(a, b, Swift.max).recorded([a, b]) { g, _ in
            let wa = binaryMap(a, b) { $0 > $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
            return [(g * wa).sum(to: a.shape), (g * (1 - wa)).sum(to: b.shape)]
        }
    }

    /// Limits values to [low, high]; the gradient passes where low ≤ x ≤ high.
    public func clamped(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        let x = self
        return map { Swift.min(Swift.max($0, low), high) }.recorded([self]) { g, _ in
            [Tensor.binaryMap(g, x) { $1 >= low && $1 <= high ? $0 : 0 }]
        }
    }

    /// Picks `a` where `condition` ≠ 0 and `b` elsewhere (all three broadcast).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(condition.shape, broadcastShape(a.shape, b.shape))
        let c = condition.detached().broadcast(to: shape)
        let ea = a.broadcast(to: shape), eb = b.broadcast(to: shape)
        let out = Tensor(uninitializedShape: shape)
        let pc = c.pointer, pa = ea.pointer, pb = eb.pointer, po = out.pointer
        for i in 0..<out.count { po[i] = pc[i] != 0 ? pa[i] : pb[i] }
        return out.recorded([ea, eb]) { g, _ in
            [binaryMap(g, c) { $1 != 0 ? $0 : 0 }, binaryMap(g, c) { $1 != 0 ? 0 : $0 }]
        }
    }
}

// MARK: comparisons (masks of 1 and 0, never differentiable)

extension Tensor {
    public static func .> (a: Tensor, b: Tensor) -> Tensor { binaryMap(a, b) { $0 > $1 ? 1 : 0 } }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { binaryMap(a, b) { $0 < $1 ? 1 : 0 } }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { binaryMap(a, b) { $0 >= $1 ? 1 : 0 } }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { binaryMap(a, b) { $0 <= $1 ? 1 : 0 } }
    public static func .== (a: Tensor, b: Tensor) -> Tensor { binaryMap(a, b) { $0 == $1 ? 1 : 0 } }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { binaryMap(a, b) { $0 != $1 ? 1 : 0 } }
    public static func .> (a: Tensor, s: Float) -> Tensor { a .> Tensor(s) }
    public static func .< (a: Tensor, s: Float) -> Tensor { a .< Tensor(s) }
    public static func .>= (a: Tensor, s: Float) -> Tensor { a .>= Tensor(s) }
    public static func .<= (a: Tensor, s: Float) -> Tensor { a .<= Tensor(s) }
}

// MARK: unary functions

extension Tensor {
    public func exp() -> Tensor { cUnary(PD_EXP, derivativeUsesOutput: true) }
    public func log() -> Tensor { cUnary(PD_LOG) }
    public func sqrt() -> Tensor { cUnary(PD_SQRT, derivativeUsesOutput: true) }
    public func tanh() -> Tensor { cUnary(PD_TANH, derivativeUsesOutput: true) }
    public func sigmoid() -> Tensor { cUnary(PD_SIGMOID, derivativeUsesOutput: true) }
    public func softplus() -> Tensor { cUnary(PD_SOFTPLUS) }
    public func logSigmoid() -> Tensor { cUnary(PD_LOGSIGMOID) }
    /// x·tanh(softplus(x)) (Misra 2019), the Diffuser / FISOR activation.
    public func mish() -> Tensor { cUnary(PD_MISH) }
    /// x·σ(x), a.k.a. swish.
    public func silu() -> Tensor { cUnary(PD_SILU) }
    public func relu() -> Tensor { cUnary(PD_RELU) }
    public func abs() -> Tensor { cUnary(PD_ABS) }

    public func sin() -> Tensor {
        let x = self
        return map { Foundation.sin($0) }.recorded([self]) { g, _ in [g * x.cos()] }
    }

    public func cos() -> Tensor {
        let x = self
        return map { Foundation.cos($0) }.recorded([self]) { g, _ in [-(g * x.sin())] }
    }

    /// Inverse hyperbolic tangent (PGD models actions before the tanh squashing).
    public func atanh() -> Tensor {
        let x = self
        return map { Foundation.atanh($0) }.recorded([self]) { g, _ in [g / (1 - x * x)] }
    }
}
