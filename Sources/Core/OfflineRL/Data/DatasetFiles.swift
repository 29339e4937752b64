import Foundation
import TensorCore

extension OfflineDataset {
    /// Loads a D4RL / DSRL-layout HDF5 file or an NPZ with the same keys. `timeouts` may be absent
    /// (all false). Without `next_observations` (D4RL maze2d files), s′ is the next row's
    /// observation and each episode's last row, whose s′ is unknown, is dropped. `rewardsOptional`:
    /// a file without `rewards` loads with zero rewards (for methods that never read them, e.g.
    /// diffusion BC), and `attributes["rewards"]` is "absent".
    public static func load(_ url: URL, rewardsOptional: Bool = false) throws -> OfflineDataset {
        try OfflineDataset(archive: try ArrayArchive.read(url), path: url.path, rewardsOptional: rewardsOptional)
    }

    public init(archive: ArrayArchive, path: String, rewardsOptional: Bool = false) throws {
        func array(_ key: String) throws -> StoredArray {
            guard let a = archive.arrays[key] else { throw DataFileError.missingKey(key, file: path) }
            return a
        }
        func matrix(_ key: String) throws -> Tensor {
            let a = try array(key)
            switch a.shape.count {
            case 1: return Tensor(a.values, shape: [a.shape[0], 1])
            case 2: return Tensor(a.values, shape: a.shape)
            default: throw DataFileError.wrongRank(key, expected: "[N, dim]", found: a.shape)
            }
        }
        func vector(_ key: String, default fallback: Float? = nil, rows: Int) throws -> Tensor {
            guard let a = archive.arrays[key] else {
                if let fallback { return Tensor(repeating: fallback, shape: [rows]) }
                throw DataFileError.missingKey(key, file: path)
            }
            guard a.shape.count == 1 || (a.shape.count == 2 && a.shape[1] == 1) else {
                throw DataFileError.wrongRank(key, expected: "[N]", found: a.shape)
            }
            return Tensor(a.values, shape: [a.shape[0]])
        }
        let observations = try matrix("observations")
        let n = observations.shape[0]
        var infos: [String: Tensor] = [:]
        for (k, a) in archive.arrays where k.hasPrefix("infos/") {
            infos[String(k.dropFirst("infos/".count))] = Tensor(a.values, shape: a.shape.count == 1 ? [a.shape[0], 1] : a.shape)
        }
        var attributes = archive.attributes
        if archive.arrays["rewards"] == nil && rewardsOptional { attributes["rewards"] = "absent" }
        let costs = archive.arrays["costs"] == nil ? nil : try vector("costs", rows: n)
        let terminals = try vector("terminals", rows: n), timeouts = try vector("timeouts", default: 0, rows: n)
        if archive.arrays["next_observations"] != nil {
            try self.init(observations: observations, actions: try matrix("actions"), rewards: try vector("rewards", default: rewardsOptional ? 0 : nil, rows: n),
                          nextObservations: try matrix("next_observations"), terminals: terminals, timeouts: timeouts,
                          costs: costs, infos: infos, attributes: attributes)
        } else {
            // Rows whose successor is in the same episode (D4RL's qlearning_dataset rule).
            let full = try OfflineDataset(observations: observations, actions: try matrix("actions"), rewards: try vector("rewards", default: rewardsOptional ? 0 : nil, rows: n),
                                          nextObservations: observations, terminals: terminals, timeouts: timeouts,
                                          costs: costs, infos: infos, attributes: attributes)
            let t = terminals.scalars, o = timeouts.scalars
            let keep = (0..<n).filter { t[$0] != 0 || (o[$0] == 0 && $0 + 1 < n) }
            var d = full.subset(keep)
            d.nextObservations = observations.indexSelect(axis: 0, keep.map { t[$0] != 0 ? $0 : $0 + 1 })
            // The row before a dropped timeout row now ends its episode.
            d.timeouts = Tensor(keep.map { t[$0] == 0 && $0 + 1 < n && o[$0 + 1] != 0 ? 1 : 0 })
            self = d
        }
    }

    /// The arrays under their D4RL / DSRL names (flags as bools, as h5py writes them).
    public func archive() -> ArrayArchive {
        func stored(_ t: Tensor, _ type: StoredType = .float32) -> StoredArray { StoredArray(shape: t.shape, values: t.scalars, type: type) }
        var a = ArrayArchive(attributes: attributes)
        a.arrays["observations"] = stored(observations)
        a.arrays["actions"] = stored(actions)
        a.arrays["rewards"] = stored(rewards)
        a.arrays["next_observations"] = stored(nextObservations)
        a.arrays["terminals"] = stored(terminals, .bool)
        a.arrays["timeouts"] = stored(timeouts, .bool)
        if let costs { a.arrays["costs"] = stored(costs) }
        for (k, v) in infos { a.arrays["infos/" + k] = stored(v) }
        return a
    }

    /// Writes atomically; the format follows `format` or, if nil, the file extension (.npz → NPZ).
    public func save(to url: URL, format: ArrayArchive.Format? = nil) throws {
        try archive().write(to: url, format: format ?? (url.pathExtension.lowercased() == "npz" ? .npz : .hdf5))
    }
}
