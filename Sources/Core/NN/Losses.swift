import Foundation
import TensorCore

/// Loss functions. Each returns a scalar tensor.
public enum Loss {
    /// Mean squared error; optional `weights` broadcast against the squared error (per-sample
    /// weights as [B, 1], per-element weights as [1, D]) before the mean.
    public static func mse(_ prediction: Tensor, _ target: Tensor, weights: Tensor? = nil) -> Tensor {
        precondition(prediction.shape == target.shape, "mse: prediction \(prediction.shape) vs target \(target.shape)")
        let e = (prediction - target).squared()
        if let weights { return (e * weights).mean() }
        return e.mean()
    }

    /// log N(x; μ, σ²) summed over the last axis: −½((x − μ)/σ)² − log σ − ½ log 2π per entry.
    public static func gaussianLogLikelihood(_ x: Tensor, mean: Tensor, logStd: Tensor) -> Tensor {
        let z = (x - mean) * (-logStd).exp()
        let perEntry = z.squared() * -0.5 - logStd - 0.5 * Foundation.log(2 * Float.pi)
        return perEntry.sum(axis: -1)
    }

    /// Mean cross-entropy of logits [B, C] against integer labels [B].
    public static func crossEntropy(logits: Tensor, labels: IntTensor) -> Tensor {
        precondition(logits.rank == 2 && labels.shape == [logits.shape[0]], "crossEntropy: logits \(logits.shape), labels \(labels.shape)")
        for l in labels.scalars { precondition(l >= 0 && l < logits.shape[1], "label \(l) out of range for \(logits.shape[1]) classes") }
        let logp = logits.logSoftmax(axis: 1).gather(axis: 1, labels.reshaped([labels.count, 1]))
        return -logp.mean()
    }

    /// Expectile regression (IQL, Kostrikov et al. 2022, Eq. 5): mean |τ − 1[u < 0]|·u² of u =
    /// target − prediction. τ > 0.5 pulls the prediction toward the upper expectile (V toward the best
    /// in-support Q); the weight is a constant of the graph (no gradient through the indicator).
    public static func expectile(_ prediction: Tensor, target: Tensor, tau: Float) -> Tensor {
        precondition(prediction.shape == target.shape, "expectile: prediction \(prediction.shape) vs target \(target.shape)")
        let u = target - prediction
        let weight = noGrad { (Tensor(repeating: tau, shape: u.shape) - (u .< 0)).abs() }
        return (weight * u.squared()).mean()
    }

    /// Reverse expectile regression: the same asymmetric loss with the roles of over- and
    /// under-estimation swapped, |τ − 1[u > 0]|·u² — with τ > 0.5 the prediction tracks the lower
    /// expectile (FISOR's feasibility value V_h, docs/fisor.md §2: the safest in-support action).
    public static func reverseExpectile(_ prediction: Tensor, target: Tensor, tau: Float) -> Tensor {
        precondition(prediction.shape == target.shape, "reverseExpectile: prediction \(prediction.shape) vs target \(target.shape)")
        let u = target - prediction
        let weight = noGrad { (Tensor(repeating: tau, shape: u.shape) - (u .> 0)).abs() }
        return (weight * u.squared()).mean()
    }
}
