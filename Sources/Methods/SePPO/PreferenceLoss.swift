import Diffusion
import Foundation
import NN
import TensorCore

/// The Anchor-based Adaptive Flipper (AAF) of SePPO (docs/seppo.md §3, step 4): whether the
/// reference sample enters the loss as a loser, as a second winner, or not at all.
public enum FlipMode: String, CaseIterable, Codable, Sendable {
    /// Always +1: the reference sample is always the loser (SPIN, and SePPO "w/o AAF").
    case off
    /// +1 when the model beats the reference on the anchor (a = e_ref(x^w) − e_θ(x^w) > 0), else −1
    /// (the reference sample is then treated as a winner too). [inf] direction, docs/seppo.md §3.
    case sign
    /// 1(a > 0): the reference term is dropped when the reference is better (the paper's
    /// "1(a>0)" variant; "switch DPO → SFT" in v2/SSPO).
    case indicator

    /// The per-row factor for anchor advantages `a` (docs/seppo.md §3 and §6, the step-0 tie: a = 0,
    /// where model and reference coincide, counts as "model better", factor +1, in both variants).
    public func factors(anchorAdvantage a: [Float]) -> [Float] {
        switch self {
        case .off: return a.map { _ in 1 }
        case .sign: return a.map { $0 >= 0 ? 1 : -1 }
        case .indicator: return a.map { $0 >= 0 ? 1 : 0 }
        }
    }
}

/// Per-sample denoising errors (docs/seppo.md §1) of the trained model and a frozen reference on a
/// batch of winners x^w and their companions x^o (losers for Diffusion-DPO, reference samples for
/// SPIN/SePPO), every row of a pair under the same (t, ε). Model errors are differentiable,
/// reference errors are constants. All four are [B].
public struct PairErrors {
    public var modelWinner: Tensor
    public var modelOther: Tensor
    public var referenceWinner: Tensor
    public var referenceOther: Tensor

    public init(modelWinner: Tensor, modelOther: Tensor, referenceWinner: Tensor, referenceOther: Tensor) {
        self.modelWinner = modelWinner; self.modelOther = modelOther
        self.referenceWinner = referenceWinner; self.referenceOther = referenceOther
    }

    /// The anchor advantage a = e_ref(x^w) − e_θ(x^w) per row (docs/seppo.md §3, step 4).
    public var anchorAdvantage: [Float] { zip(referenceWinner.scalars, modelWinner.scalars).map { $0 - $1 } }
}

/// The preference losses on per-sample errors with explicit noise (Diffusion-DPO, Wallace et al. 2023;
/// SePPO, Zhang et al. 2024; docs/seppo.md §2–§3).
public enum PreferenceLoss {
    /// Noise for a batch of B pairs laid out as 2B rows [winners; companions]: one t and one ε per
    /// pair, used for both of its rows (the Diffusion-DPO code's chunk + repeat, docs/seppo.md §2).
    public static func pairNoise(_ objective: DiffusionObjective, like winners: Tensor, rng: RandomGenerator) -> DiffusionNoise {
        let b = winners.shape[0]
        return objective.drawNoise(like: winners, rng: rng).rows(Array(0..<b) + Array(0..<b))
    }

    /// The errors of `model` (with gradient) and `reference` (without) on [winners; others] under
    /// `noise` (2B rows, from `pairNoise`). The networks take the 2B rows' conditions themselves.
    public static func pairErrors(_ objective: DiffusionObjective, model: DenoisingNetwork, reference: DenoisingNetwork,
                                  winners: Tensor, others: Tensor, noise: DiffusionNoise) -> PairErrors {
        precondition(winners.shape == others.shape, "winners \(winners.shape) and companions \(others.shape) differ in shape")
        let b = winners.shape[0]
        let x = Tensor.concat([winners, others], axis: 0)
        let m = objective.perSampleError(model, x0: x, noise: noise)
        let r = noGrad { objective.perSampleError(reference, x0: x, noise: noise) }
        return PairErrors(modelWinner: m.slice(axis: 0, 0..<b), modelOther: m.slice(axis: 0, b..<(2 * b)),
                          referenceWinner: r.slice(axis: 0, 0..<b), referenceOther: r.slice(axis: 0, b..<(2 * b)))
    }

    /// What one preference loss evaluation reports.
    public struct Result {
        /// The batch mean of −log σ(z), differentiable.
        public var loss: Tensor
        /// z per row (the implicit reward margin).
        public var margins: [Float]
        /// The factor each row's companion term got (+1 loser, −1 winner, 0 dropped).
        public var factors: [Float]

        /// Implicit accuracy: the fraction of rows with z > 0 (docs/seppo.md §2).
        public var implicitAccuracy: Float { Float(margins.filter { $0 > 0 }.count) / Float(Swift.max(margins.count, 1)) }
        /// The fraction of rows the flipper did not treat as a plain loser (factor ≠ +1).
        public var flipRate: Float { Float(factors.filter { $0 != 1 }.count) / Float(Swift.max(factors.count, 1)) }
    }

    /// L = mean −log σ(z), z = −(β/2)·(s_w − f·s_o) with s = e_θ − e_ref (docs/seppo.md §2; §3 step 5).
    /// `factors` f: all +1 gives Diffusion-DPO (and SPIN); `FlipMode.factors` gives SePPO's AAF.
    /// β is in the code's scale (mean error, β/2), docs/seppo.md §2.
    public static func evaluate(_ e: PairErrors, beta: Float, factors: [Float]) -> Result {
        let b = e.modelWinner.shape[0]
        precondition(factors.count == b, "one factor per pair: \(factors.count) for \(b) pairs")
        let sw = e.modelWinner - e.referenceWinner
        let so = e.modelOther - e.referenceOther
        let z = (sw - so * Tensor(factors)) * (-beta / 2)
        // −log σ(z) = softplus(−z).
        return Result(loss: (-z).softplus().mean(), margins: z.scalars, factors: factors)
    }

    /// Diffusion-DPO: every companion is a loser.
    public static func diffusionDPO(_ e: PairErrors, beta: Float) -> Result {
        evaluate(e, beta: beta, factors: [Float](repeating: 1, count: e.modelWinner.shape[0]))
    }

    /// SePPO: the companion's factor from the flipper on the anchor (winner) errors.
    public static func seppo(_ e: PairErrors, beta: Float, flip: FlipMode) -> Result {
        evaluate(e, beta: beta, factors: flip.factors(anchorAdvantage: e.anchorAdvantage))
    }
}
