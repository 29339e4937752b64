import Foundation
import TensorCore

/// Gymnasium's Pendulum-v1, exactly (docs/environments.md §1): state (θ, θ̇), observation (cos θ, sin θ, θ̇),
/// torque u ∈ [−2, 2], reward −(wrap(θ)² + 0.1 θ̇² + 0.001 u²) on the pre-step state, 200 steps.
public final class Pendulum: Environment {
    public static let g = 10.0, mass = 1.0, length = 1.0, dt = 0.05, maxSpeed = 8.0, maxTorque = 2.0

    public private(set) var theta = 0.0
    public private(set) var thetaDot = 0.0
    private var steps = 0

    public init() {}

    public var spec: EnvironmentSpec {
        EnvironmentSpec(name: "pendulum", summary: "torque-limited pendulum swing-up (= Gymnasium Pendulum-v1)",
                        observationSpace: Box(low: [-1, -1, -8], high: [1, 1, 8]), actionSpace: Box(repeating: 2, count: 1),
                        episodeLength: 200, hasCost: false, infoFields: [:], behaviors: ["random", "medium", "expert"],
                        reference: References.pendulum)
    }

    /// ((x + π) mod 2π) − π with a floor modulo.
    public static func wrap(_ x: Double) -> Double {
        let y = (x + .pi).truncatingRemainder(dividingBy: 2 * .pi)
        return (y < 0 ? y + 2 * .pi : y) - .pi
    }

    /// One step of the published equations: θ̇′ = clip(θ̇ + (3g/(2l) sin θ + 3/(m l²) u) dt, ±8), θ′ = θ + θ̇′ dt.
    public static func dynamics(theta: Double, thetaDot: Double, torque u: Double) -> (Double, Double) {
        var newThetaDot = thetaDot + (3 * g / (2 * length) * Foundation.sin(theta) + 3 / (mass * length * length) * u) * dt
        newThetaDot = Swift.min(Swift.max(newThetaDot, -maxSpeed), maxSpeed)
        return (theta + newThetaDot * dt, newThetaDot)
    }

    /// The reward on the pre-step state (θ, θ̇) and the clipped torque.
    public static func reward(theta: Double, thetaDot: Double, torque u: Double) -> Double {
        let t = wrap(theta)
        return -(t * t + 0.1 * thetaDot * thetaDot + 0.001 * u * u)
    }

    private var observation: [Double] { [Foundation.cos(theta), Foundation.sin(theta), thetaDot] }

    public func reset(seed: UInt64) -> [Double] {
        let rng = RandomGenerator(seed: seed)
        theta = rng.uniform(-.pi, .pi)
        thetaDot = rng.uniform(-1, 1)
        steps = 0
        return observation
    }

    /// Sets the state directly (tests, hand-computed checks).
    public func setState(theta: Double, thetaDot: Double) { self.theta = theta; self.thetaDot = thetaDot }

    /// The torque `step` applies: the action clipped to the box.
    static func torque(_ action: [Double]) -> Double { Swift.min(Swift.max(action[0], -maxTorque), maxTorque) }

    public func step(_ action: [Double]) -> StepResult {
        let u = Self.torque(action)
        let r = Self.reward(theta: theta, thetaDot: thetaDot, torque: u)
        (theta, thetaDot) = Self.dynamics(theta: theta, thetaDot: thetaDot, torque: u)
        steps += 1
        return StepResult(observation: observation, reward: r, cost: 0, terminated: false, truncated: steps >= spec.episodeLength)
    }

    public var info: [String: [Double]] { [:] }

    public func nextObservation(after observation: [Double], action: [Double], info: [String: [Double]]) -> [Double] {
        let (th, thd) = Self.dynamics(theta: Foundation.atan2(observation[1], observation[0]), thetaDot: observation[2], torque: Self.torque(action))
        return [Foundation.cos(th), Foundation.sin(th), thd]
    }

    /// `step`'s reward from the pre-step observation: θ = atan2(sin θ, cos θ) differs from the
    /// unwrapped θ by a multiple of 2π, which wrap removes (docs/environments.md §1).
    public func reward(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]],
                       kind: RewardKind) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation, kind: kind)
        return Self.reward(theta: Foundation.atan2(observation[1], observation[0]), thetaDot: observation[2], torque: Self.torque(action))
    }

    public func cost(observation: [Double], action: [Double], nextObservation: [Double], info: [String: [Double]]) throws -> Double {
        try checkTransition(observation: observation, action: action, nextObservation: nextObservation)
        return 0
    }

    /// Energy-shaping swing-up with a PD catch near upright (docs/environments.md §1).
    public func expertTorque() -> Double {
        let t = Self.wrap(theta)
        let energy = 0.5 * thetaDot * thetaDot + 15 * Foundation.cos(t)  // 15 = energy upright at rest
        let u: Double
        if Foundation.cos(t) > 0.85 {
            u = -(10 * t + 2 * thetaDot)
        } else {
            let s = thetaDot * (15 - energy)
            u = s > 0 ? 2 : (s < 0 ? -2 : 2)
        }
        return Swift.min(Swift.max(u, -2), 2)
    }

    public func behaviorAction(_ name: String, rng: RandomGenerator) -> [Double] {
        switch name {
        case "expert": return [expertTorque()]
        case "medium":
            // 30 % uniform torques, otherwise the expert plus N(0, 1).
            if rng.nextDouble() < 0.3 { return [rng.uniform(-2, 2)] }
            return [Swift.min(Swift.max(expertTorque() + rng.gaussian(), -2), 2)]
        default: return randomAction(spec.actionSpace, rng: rng)
        }
    }
}
