import Foundation
import PolicyDiffusion

/// `diffuse dataset info`: what a D4RL / DSRL-layout file holds.
struct DatasetInfoCommand: Command {
    static let path = ["dataset", "info"]
    static let abstract = "summarise a dataset: size, episodes, return and cost distribution, per-field statistics"
    static let arguments = [("file", "an .hdf5 / .h5 / .npz dataset (D4RL / DSRL keys)")]
    static let options = [Option.json]

    static func quantiles(_ x: [Double]) -> [Double] {
        let s = x.sorted()
        guard !s.isEmpty else { return [] }
        return [0, 0.25, 0.5, 0.75, 1].map { s[Int((Double(s.count - 1) * $0).rounded())] }
    }

    static func run(_ args: ParsedArguments, console: Console) throws {
        guard let path = args.positionals.first else { throw CLIError("missing <file>", usage: true) }
        let data = try OfflineDataset.load(URL(fileURLWithPath: path))
        let episodes = data.episodeSummaries()
        let returns = episodes.map(\.return), costs = episodes.map(\.cost), lengths = episodes.map { Double($0.length) }
        var fields: [(String, Tensor)] = [("observations", data.observations), ("actions", data.actions),
                                          ("rewards", data.rewards.reshaped([data.count, 1]))]
        if let c = data.costs { fields.append(("costs", c.reshaped([data.count, 1]))) }
        for k in data.infos.keys.sorted() { fields.append(("infos/" + k, data.infos[k]!)) }
        let stats = fields.map { ($0.0, ColumnStatistics($0.1)) }
        let terminals = Int(data.terminals.sum().item), timeouts = Int(data.timeouts.sum().item)
        if args.flag(.json) {
            var out: [String: Any] = ["file": path, "transitions": data.count, "episodes": episodes.count, "observation_dim": data.observationDim,
                                      "action_dim": data.actionDim, "terminals": terminals, "timeouts": timeouts,
                                      "return_quantiles": quantiles(returns), "length_quantiles": quantiles(lengths),
                                      "attributes": data.attributes,
                                      "fields": Dictionary(uniqueKeysWithValues: stats.map { ($0.0, ["mean": $0.1.mean, "std": $0.1.std, "min": $0.1.min, "max": $0.1.max]) })]
            if data.costs != nil {
                out["cost_quantiles"] = quantiles(costs)
                out["violating_episodes"] = costs.filter { $0 > 0 }.count
            }
            console.out(jsonLine(out))
            return
        }
        func q(_ x: [Double]) -> String { quantiles(x).map { String(format: "%.2f", $0) }.joined(separator: " / ") }
        console.out("\(path): \(data.count) transitions, \(episodes.count) episodes; observation \(data.observationDim), action \(data.actionDim)")
        console.out("  terminals \(terminals), timeouts \(timeouts); episode length min/q1/median/q3/max \(q(lengths))")
        console.out("  episode return  min/q1/median/q3/max \(q(returns))")
        if data.costs != nil {
            console.out("  episode cost    min/q1/median/q3/max \(q(costs)); episodes with cost > 0: \(costs.filter { $0 > 0 }.count)")
        }
        for k in data.attributes.keys.sorted() { console.out("  @\(k): \(data.attributes[k]!)") }
        for (name, s) in stats {
            func v(_ a: [Double]) -> String {
                (a.count > 8 ? Array(a.prefix(8)) : a).map { String(format: "%.3g", $0) }.joined(separator: " ") + (a.count > 8 ? " …" : "")
            }
            console.out("  \(name) [\(s.mean.count)]  mean \(v(s.mean))  std \(v(s.std))  min \(v(s.min))  max \(v(s.max))")
        }
    }
}
