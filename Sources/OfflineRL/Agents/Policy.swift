import Foundation
import TensorCore

/// Something that acts in environments: a trained agent (from observations) or a scripted
/// behavior (from the environments' full state). Batched over parallel episodes.
public protocol Policy {
    func actions(for observations: [[Double]], environments: [any Environment], rng: RandomGenerator) -> [[Double]]
}

/// A scripted behavior policy of specs/envs.md, optionally with Gaussian action noise.
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
