import TensorCore

/// An environment's own termination condition, applied to synthetic transitions (generated windows,
/// world-model rollouts). Neither generator learns to end an episode: a trajectory model's training windows
/// hold a terminal only on their last row, whose transition a window cannot contain, and a world model
/// predicts no done. So a hopper that falls in synthetic data would never reach a terminal, and a critic
/// trained on it would bootstrap through the fall. Model-based RL labels such rows with the environment's
/// termination function instead (MBPO, Janner et al. 2019, `static_fns`); so does this. docs/pgd.md §6.
public struct TerminationRule: Sendable {
    public let environment: String
    let task: Locomotion.Task

    /// The rule of `environment`, or nil where episodes end only by time (halfcheetah, pendulum, the mazes,
    /// the safe tasks) or the name is unknown.
    public static func of(environment: String) -> TerminationRule? {
        let base = environment.hasSuffix("-velocity") ? String(environment.dropLast("-velocity".count)) : environment
        guard let robot = Locomotion.Robot(rawValue: base), robot != .halfcheetah else { return nil }
        return TerminationRule(environment: environment, task: .of(robot))
    }

    /// Whether a transition into `nextObservation` ends the episode.
    public func isTerminal(_ nextObservation: [Float]) -> Bool {
        nextObservation.withUnsafeBufferPointer { task.isTerminal(nextObservation: $0) }
    }

    /// Per row of `data`: whether its transition enters a terminal state (the rule on its next observation).
    public func falls(in data: OfflineDataset) -> [Bool] {
        let width = data.observationDim
        return data.nextObservations.scalars.withUnsafeBufferPointer { p in
            (0..<data.count).map { i in task.isTerminal(nextObservation: UnsafeBufferPointer(rebasing: p[(i * width)..<((i + 1) * width)])) }
        }
    }

    /// `data` with every transition from an episode's first termination on marked terminal (not timeout):
    /// the rows a generator produced after the fall continue a state the environment would have ended.
    /// Episodes are delimited by `data`'s own terminals and timeouts.
    public func label(_ data: OfflineDataset) -> OfflineDataset {
        var terminals = data.terminals.scalars, timeouts = data.timeouts.scalars
        var fallen = false
        for (i, falls) in falls(in: data).enumerated() {
            let ends = terminals[i] != 0 || timeouts[i] != 0
            if fallen || falls {
                terminals[i] = 1
                timeouts[i] = 0
                fallen = true
            }
            if ends { fallen = false }
        }
        var out = data
        out.terminals = Tensor(terminals)
        out.timeouts = Tensor(timeouts)
        return out
    }
}
