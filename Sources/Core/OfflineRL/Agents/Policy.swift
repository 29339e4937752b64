import Foundation
import TensorCore

/// Something that acts in environments: a trained agent (from observations) or a scripted
/// behavior (from the environments' full state). Batched over parallel episodes.
public protocol Policy {
    func actions(for observations: [[Double]], environments: [any Environment], rng: RandomGenerator) -> [[Double]]
}

/// A policy that acts on a batch of observations as a tensor, [B, obs] → [B, act], both in
/// environment units: what model rollouts call (`WorldModel.rollout`), and what its episode-batched
/// `actions(for:…)` is made of. Agents act with their mean action, diffusion policies sample.
public protocol TensorPolicy: Policy {
    var observationDim: Int { get }
    var actionDim: Int { get }
    func actions(_ observations: Tensor, rng: RandomGenerator) -> Tensor
}

extension TensorPolicy {
    public func actions(for observations: [[Double]], environments: [any Environment], rng: RandomGenerator) -> [[Double]] {
        let d = observationDim, k = actionDim
        precondition(observations.allSatisfy { $0.count == d }, "policy expects \(d)-dimensional observations")
        let x = Tensor(observations.flatMap { $0.map(Float.init) }, shape: [observations.count, d])
        let a = noGrad { actions(x, rng: rng) }.scalars
        return (0..<observations.count).map { i in (0..<k).map { Double(a[i * k + $0]) } }
    }
}

/// A policy whose log-likelihood is a differentiable function of tensors — what PGD's guidance
/// steers toward (docs/pgd.md §3) and what likelihood-based diagnostics read.
public protocol DifferentiablePolicy: Policy {
    var observationDim: Int { get }
    var actionDim: Int { get }
    /// log π(a | s) per row, [B], for observations [B, obs] and actions [B, act] in environment
    /// units; differentiable in both. Deterministic actors count as unit-variance Gaussians around
    /// their action (in the policy's normalized action space), as PGD's TD3+BC guidance does.
    func logProbability(observations: Tensor, actions: Tensor) -> Tensor
}

/// A scripted behavior policy of docs/environments.md, optionally with Gaussian action noise.
public struct ScriptedPolicy: Policy {
    public var behavior: String
    public var noise: Double
    public init(_ behavior: String, noise: Double = 0) { self.behavior = behavior; self.noise = noise }

    public func actions(for observations: [[Double]], environments: [any Environment], rng: RandomGenerator) -> [[Double]] {
        environments.map { action(in: $0, rng: rng) }
    }

    /// The behavior's action at `env`'s current state, plus N(0, noise²) clipped to the action box.
    public func action(in env: any Environment, rng: RandomGenerator) -> [Double] {
        let a = env.behaviorAction(behavior, rng: rng)
        return noise > 0 ? env.spec.actionSpace.clip(a.map { $0 + noise * rng.gaussian() }) : a
    }
}
