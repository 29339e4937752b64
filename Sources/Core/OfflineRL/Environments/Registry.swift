import Foundation

/// The built-in environments by name.
public enum Environments {
    public static let names = ["pendulum", "pointmaze-umaze", "pointmaze-medium", "safe-circle", "safe-goal",
                               "halfcheetah", "hopper", "walker2d", "halfcheetah-velocity", "hopper-velocity", "walker2d-velocity"]
    /// Short names accepted for convenience.
    static let aliases = ["pointmaze": "pointmaze-umaze"]

    /// A fresh environment. `forDataCollection` switches on dataset-only behavior (pointmaze's
    /// moving target, as D4RL collects maze2d data); evaluation uses the default.
    public static func make(_ name: String, forDataCollection: Bool = false) throws -> any Environment {
        switch aliases[name] ?? name {
        case "pendulum": return Pendulum()
        case "pointmaze-umaze": return PointMaze(layout: .umaze, movingTarget: forDataCollection)
        case "pointmaze-medium": return PointMaze(layout: .medium, movingTarget: forDataCollection)
        case "safe-circle": return SafeCircle()
        case "safe-goal": return SafeGoal()
        case "halfcheetah": return try Locomotion(.halfcheetah)
        case "hopper": return try Locomotion(.hopper)
        case "walker2d": return try Locomotion(.walker2d)
        case "halfcheetah-velocity": return try Locomotion(.halfcheetah, velocityConstrained: true)
        case "hopper-velocity": return try Locomotion(.hopper, velocityConstrained: true)
        case "walker2d-velocity": return try Locomotion(.walker2d, velocityConstrained: true)
        default: throw EnvironmentError.unknownEnvironment(name, known: names)
        }
    }
}

/// Normalized-score references: random = mean return of uniform random actions, expert = mean
/// return of the best scripted behavior, each over 100 seeded episodes (seeds 0–99), measured with
/// `diffuse env references` and frozen here. κ = 10 for the safe tasks (FISOR, OSRL default).
enum References {
    static let pendulum = ReferenceScores(random: -1270.09, expert: -163.87, costLimit: nil)
    static let pointmazeUmaze = ReferenceScores(random: 79.59, expert: 251.74, costLimit: nil)
    static let pointmazeMedium = ReferenceScores(random: 50.08, expert: 487.26, costLimit: nil)
    static let safeCircle = ReferenceScores(random: -5.77, expert: 657.14, costLimit: 10)
    static let safeGoal = ReferenceScores(random: -0.14, expert: 38.79, costLimit: 10)
}
