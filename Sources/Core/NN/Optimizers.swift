import CKernels
import Foundation
import TensorCore

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019) with PyTorch's update order, so a
/// model trained here and one trained with torch.optim from the same start take the same steps.
public final class Adam {
    public struct Config: Codable, Sendable, Equatable {
        public var learningRate: Float = 1e-3
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        public var eps: Float = 1e-8
        public var weightDecay: Float = 0
        /// true: AdamW's decoupled decay (p ← p(1 − lr·wd)); false: L2 added to the gradient.
        public var decoupled = false
        /// Clip the gradients' global L2 norm to this before the step (torch's clip_grad_norm_); in a
        /// data-parallel run, after averaging over ranks, so R ranks clip what one process would.
        public var maxGradientNorm: Float?
        public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                    weightDecay: Float = 0, decoupled: Bool = false, maxGradientNorm: Float? = nil) {
            self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
            self.weightDecay = weightDecay; self.decoupled = decoupled; self.maxGradientNorm = maxGradientNorm
        }
    }

    public var config: Config
    public let parameters: [(String, Parameter)]
    public private(set) var step = 0
    fileprivate var m: [Tensor]
    fileprivate var v: [Tensor]

    /// In a data-parallel run (`ProcessGroup.active`), the parameters start from rank 0's values.
    public init(parameters: [(String, Parameter)], config: Config) {
        self.parameters = parameters
        self.config = config
        m = parameters.map { Tensor(zeros: $0.1.shape) }
        v = parameters.map { Tensor(zeros: $0.1.shape) }
        if let group = ProcessGroup.active { Parameter.broadcast(parameters.map(\.1), in: group) }
    }

    /// Adam over a module's trainable parameters.
    public convenience init(_ module: Module, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                            eps: Float = 1e-8, weightDecay: Float = 0) {
        self.init(parameters: module.trainableParameters(),
                  config: Config(learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay))
    }

    /// AdamW (decoupled weight decay; PyTorch's default decay 0.01).
    public static func adamW(_ module: Module, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                             eps: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters: module.trainableParameters(),
             config: Config(learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decoupled: true))
    }

    public var learningRate: Float {
        get { config.learningRate }
        set { config.learningRate = newValue }
    }

    /// One update of every parameter that has a gradient: gradients averaged over the ranks of a
    /// data-parallel run, clipped if `maxGradientNorm` is set, then the Adam step.
    public func update() {
        if let group = ProcessGroup.active { Parameter.averageGradients(parameters.map(\.1), in: group) }
        // A non-finite gradient never reaches the weights: the step is skipped and the running
        // TrainingLoop stops naming the parameter (the last checkpoint stays the last good one).
        for (name, p) in parameters {
            guard let g = p.grad, !g.isFinite else { continue }
            StepHealth.report("gradient of \(name)", value: g.scalars.first { !$0.isFinite } ?? .nan)
            return
        }
        if let maxNorm = config.maxGradientNorm { clipGradientNorm(parameters.map(\.1), maxNorm: maxNorm) }
        step += 1
        let bc1 = 1 - Foundation.pow(config.beta1, Float(step))
        let bc2 = 1 - Foundation.pow(config.beta2, Float(step))
        for (i, (_, p)) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            precondition(g.shape == p.shape, "gradient shape \(g.shape) ≠ parameter shape \(p.shape)")
            g.withUnsafeBufferPointer { gb in
                m[i].withUnsafeMutableBufferPointer { mb in
                    v[i].withUnsafeMutableBufferPointer { vb in
                        p.update { pb in
                            pd_adam_update(pb.baseAddress, gb.baseAddress, mb.baseAddress, vb.baseAddress, Int64(pb.count),
                                           config.learningRate, config.beta1, config.beta2, config.eps, bc1, bc2,
                                           config.weightDecay, config.decoupled ? 1 : 0)
                        }
                    }
                }
            }
        }
    }

    public func zeroGrad() { for (_, p) in parameters { p.zeroGrad() } }

    /// One descent step on `loss`: zero the gradients, back-propagate, update. Every trainer's
    /// step is this call (with `learningRate` set first where it follows a schedule).
    public func minimize(_ loss: Tensor) {
        zeroGrad()
        loss.backward()
        update()
    }

}

extension Adam: Resumable {
    /// Moments under `key.m.<parameter>` / `key.v.<parameter>` and the step count.
    public func saveState(into state: inout TrainingState, key: String) {
        for (i, (name, _)) in parameters.enumerated() {
            state.tensors["\(key).m.\(name)"] = m[i]
            state.tensors["\(key).v.\(name)"] = v[i]
        }
        state.values["\(key).step"] = String(step)
    }

    public func restoreState(from state: TrainingState, key: String) throws {
        var newM = m, newV = v
        for (i, (name, p)) in parameters.enumerated() {
            newM[i] = try state.tensor("\(key).m.\(name)", shape: p.shape)
            newV[i] = try state.tensor("\(key).v.\(name)", shape: p.shape)
        }
        m = newM
        v = newV
        step = try state.integer("\(key).step")
    }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm` (torch's clip_grad_norm_).
/// Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters {
        guard let g = p.grad else { continue }
        g.withUnsafeBufferPointer { for v in $0 { total += Double(v) * Double(v) } }
    }
    let norm = Float(total.squareRoot())
    let scale = maxNorm / (norm + 1e-6)
    if scale < 1 {
        for p in parameters { if let g = p.grad { p.grad = noGrad { g * scale } } }
    }
    return norm
}

/// target ← (1 − τ)·target + τ·source for every parameter: EMA weights (τ = 1 − decay) and Polyak
/// target networks share this one update.
public func interpolateParameters(into target: Module, from source: Module, weight tau: Float) {
    let t = target.namedParameters(), s = source.namedParameters()
    precondition(t.count == s.count, "modules differ in structure")
    for ((_, p), (_, q)) in zip(t, s) {
        precondition(p.shape == q.shape, "parameter shapes differ: \(p.shape) vs \(q.shape)")
        q.value.withUnsafeBufferPointer { src in
            p.update { dst in pd_lerp(dst.baseAddress!, src.baseAddress!, tau, Int64(dst.count)) }
        }
    }
}

/// An exponential moving average of a model's parameters (e.g. decay 0.995 as in Diffuser).
public final class EMA<M: ConfigurableModule> {
    public let decay: Float
    public let average: M

    public init(_ model: M, decay: Float) {
        precondition(decay >= 0 && decay <= 1, "EMA decay must be in [0, 1]")
        self.decay = decay
        average = model.clone()
        average.freeze()
        average.eval()
    }

    public func update(from model: M) { interpolateParameters(into: average, from: model, weight: 1 - decay) }
}

/// Learning-rate schedules (Codable so they are stored with a run's config).
public indirect enum LRSchedule: Codable, Sendable, Equatable {
    case constant(Float)
    /// Cosine from `base` to `final` over `steps`, then `final` (SGDR without restarts).
    case cosine(base: Float, final: Float, steps: Int)
    /// Linear from `start` to the next schedule's first value over `steps`, then that schedule.
    case warmup(start: Float, steps: Int, then: LRSchedule)

    public func callAsFunction(_ step: Int) -> Float {
        switch self {
        case let .constant(lr): return lr
        case let .cosine(base, final, steps):
            let p = Swift.min(Float(step) / Float(Swift.max(steps, 1)), 1)
            return final + (base - final) * 0.5 * (1 + Foundation.cos(Float.pi * p))
        case let .warmup(start, steps, then):
            if step >= steps { return then(step - steps) }
            let target = then(0)
            return start + (target - start) * Float(step) / Float(Swift.max(steps, 1))
        }
    }
}
