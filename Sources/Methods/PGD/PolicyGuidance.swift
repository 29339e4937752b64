import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// PGD's guidance (docs/pgd.md §3): g = ∇ᵤ Σₜ log π(aₜ | sₜ) on a window's action channels, with
/// sₜ and uₜ read from the sample x (or from the denoised estimate x̂₀) and aₜ = box⁻¹(tanh(uₜ)) in
/// environment units. States are constants (no gradient through s) and nothing is back-propagated
/// through the denoiser. Agents of this library get the closed form; any other differentiable
/// policy goes through autodiff.
public struct PolicyGuidance: Guidance {
    public let layout: TrajectoryLayout
    public let policy: any DifferentiablePolicy
    public let target: GuidanceTarget
    /// Use the closed form for `AgentPolicy` (docs/pgd.md §3); false forces autodiff (tests compare them).
    public var closedForm = true

    public init(layout: TrajectoryLayout, policy: any DifferentiablePolicy, target: GuidanceTarget = .sample) {
        precondition(policy.observationDim == layout.observationDim && policy.actionDim == layout.actionDim,
                     "policy (\(policy.observationDim)-d observations, \(policy.actionDim)-d actions) does not fit the layout (\(layout.observationDim), \(layout.actionDim))")
        self.layout = layout
        self.policy = policy
        self.target = target
    }

    public var usesX0Estimate: Bool { target == .denoised }

    /// The guidance configuration PGD samples with: additive scaling on the action channels, the
    /// coefficient schedule λ·[(1 − i/N) + 0.3·sin(π(i + 1)/N)] (0 on the last step), optional
    /// per-sample gradient normalization (docs/pgd.md §3).
    public func config(lambda: Float, bump: Float = 0.3, normalizeGradient: Bool = false) -> GuidanceConfig {
        GuidanceConfig(self, scaling: .additive, schedule: .pgdCosine(coeff: lambda, bump: bump),
                       channels: (layout.channels, [TrajectoryLayout.action]), normalizeGradient: normalizeGradient)
    }

    /// Σₜ log π(aₜ | sₜ) of each window of normalized rows y [B, L, D] → [B], differentiable in y's
    /// action channels (states enter as constants).
    public func logLikelihood(_ y: Tensor) -> Tensor {
        let (b, l) = (y.shape[0], y.shape[1])
        let s = (try! layout.unnormalized(y, group: TrajectoryLayout.observation)).detached().reshaped([b * l, layout.observationDim])
        let an = (try! layout.normalizedActions(y)).reshaped([b * l, layout.actionDim])
        let a = layout.actionMap.inverse(an)
        return policy.logProbability(observations: s, actions: a).reshaped([b, l]).sum(axis: 1)
    }

    public func gradient(x: Tensor, level: NoiseLevel, x0Estimate: Tensor) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == layout.width, "PolicyGuidance expects windows [B, L, \(layout.width)], got \(x.shape)")
        let y = (target == .denoised ? x0Estimate : x).detached()
        if closedForm, let agent = policy as? AgentPolicy, agent.actionMap == layout.actionMap { return closedFormGradient(agent, y) }
        return Tensor.gradient(at: y) { logLikelihood($0).sum() }
    }

    /// ∂/∂u_norm log N(aₙ; μ(s), σ²) = −(aₙ − μ)/σ² · daₙ/du · std_u, with daₙ/du = 1 − aₙ² under
    /// atanh actions (docs/pgd.md §3; σ = 1 for deterministic actors). The box map's Jacobian is
    /// a constant and has no gradient. Zero on the other channels.
    func closedFormGradient(_ agent: AgentPolicy, _ y: Tensor) -> Tensor {
        noGrad {
            let (b, l) = (y.shape[0], y.shape[1])
            let s = (try! layout.unnormalized(y, group: TrajectoryLayout.observation)).reshaped([b * l, layout.observationDim])
            let an = (try! layout.normalizedActions(y)).reshaped([b * l, layout.actionDim])
            let mu = agent.mean(observations: s)
            let variance = agent.actionVariance
            var g = -(an - mu) / variance
            if layout.actionTransform == .atanh { g = g * (1 - an.squared()) }
            let stdU = (try! layout.normalizer(of: TrajectoryLayout.action)).scale
            g = (g * Tensor(stdU)).reshaped([b, l, layout.actionDim])
            let range = try! layout.range(of: TrajectoryLayout.action)
            var parts: [Tensor] = []
            if range.lowerBound > 0 { parts.append(Tensor(zeros: [b, l, range.lowerBound])) }
            parts.append(g)
            if range.upperBound < layout.width { parts.append(Tensor(zeros: [b, l, layout.width - range.upperBound])) }
            return Tensor.concat(parts, axis: 2)
        }
    }
}
