import Foundation
import PolicyDiffusion

/// A dataset's environment — from `--env` or the file's `env` attribute — and the action box its
/// actions are normalized with. Without an environment, actions already in [−1, 1] keep that box;
/// otherwise the data's own min/max is used (and said on stderr).
struct DatasetEnvironment {
    var name: String?
    var environment: (any Environment)?
    var actionBounds: Box

    init(dataset: OfflineDataset, path: String, env: String?, console: Console) throws {
        name = env ?? dataset.attributes["env"]
        environment = try name.map { try Environments.make($0) }
        if let environment {
            actionBounds = environment.spec.actionSpace
            guard actionBounds.dimension == dataset.actionDim, environment.spec.observationSpace.dimension == dataset.observationDim else {
                throw CLIError("\(path) does not match \(environment.spec.name)'s observation/action sizes")
            }
        } else {
            let s = ColumnStatistics(dataset.actions)
            let inUnitBox = s.min.allSatisfy { $0 >= -1 } && s.max.allSatisfy { $0 <= 1 }
            actionBounds = inUnitBox ? Box(repeating: 1, count: dataset.actionDim) : Box(low: s.min, high: s.max)
            console.err("no environment given: action bounds taken as " + (inUnitBox ? "[-1, 1]" : "the dataset's min/max"))
        }
    }
}
