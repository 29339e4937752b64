import Foundation
import PolicyDiffusion

/// `diffuse env replay`: steps a MuJoCo task from a given state through given actions, so anyone can
/// check the environment against Gymnasium from a recorded state (docs/environments.md §5).
struct EnvReplayCommand: Command {
    static let path = ["env", "replay"]
    static let abstract = "replay actions from a MuJoCo state (init_qpos, init_qvel) and print observations, rewards, terminated"
    static let discussion = """
    FILE is a JSON object with init_qpos (nq numbers), init_qvel (nv numbers) and actions (a list of \
    per-step action lists). The environment is reset to exactly that state (mj_resetData, qpos/qvel, one \
    mj_forward, as Gymnasium's reset does after its noise draw) and stepped through every action; \
    stepping continues past termination, as a raw environment would. The output is one JSON object with \
    observations (after each step), rewards and terminated, one entry per step. Numbers are written in \
    shortest round-trip form, so they compare bit for bit. Only the MuJoCo tasks have a qpos.
    """
    static let env = Option("--env", value: "NAME", help: "a MuJoCo task (halfcheetah, hopper, walker2d, or a -velocity variant)")
    static let input = Option("--input", value: "FILE", help: "JSON file with init_qpos, init_qvel, actions")
    static let options = [env, input, .json]

    struct Replay: Decodable {
        var init_qpos: [Double]
        var init_qvel: [Double]
        var actions: [[Double]]
    }

    static func run(_ args: ParsedArguments, console: Console) throws {
        let name = try args.required(env)
        let path = try args.required(input)
        guard let task = try Environments.make(name) as? Locomotion else {
            throw CLIError("env replay: \(name) is not a MuJoCo task and has no qpos/qvel (MuJoCo tasks: halfcheetah, hopper, walker2d and their -velocity variants)")
        }
        let replay = try load(path)
        var observation = try task.reset(qpos: replay.init_qpos, qvel: replay.init_qvel)
        var observations: [[Double]] = [], rewards: [Double] = [], costs: [Double] = [], terminated: [Bool] = []
        observations.reserveCapacity(replay.actions.count)
        for (t, a) in replay.actions.enumerated() {
            guard a.count == task.spec.actionSpace.dimension else {
                throw CLIError("\(path): action \(t) has \(a.count) values; \(task.name) takes \(task.spec.actionSpace.dimension)")
            }
            let r = task.step(a)
            if let failure = task.failure { throw CLIError("\(path): step \(t): \(failure)") }
            observation = r.observation
            observations.append(observation)
            rewards.append(r.reward)
            costs.append(r.cost)
            terminated.append(r.terminated)
        }
        if args.flag(.json) {
            func list(_ x: [Double]) -> String { "[" + x.map { "\($0)" }.joined(separator: ",") + "]" }
            var fields = ["\"observations\":[" + observations.map(list).joined(separator: ",") + "]",
                          "\"rewards\":" + list(rewards),
                          "\"terminated\":[" + terminated.map { $0 ? "true" : "false" }.joined(separator: ",") + "]"]
            if task.spec.hasCost { fields.append("\"costs\":" + list(costs)) }
            console.out("{" + fields.joined(separator: ",") + "}")
            return
        }
        let firstTermination = terminated.firstIndex(of: true).map { "first terminated at step \($0)" } ?? "never terminated"
        console.out("\(task.name): \(replay.actions.count) steps, return \(String(format: "%.4f", rewards.reduce(0, +))), \(firstTermination)"
                    + (task.spec.hasCost ? ", cost \(Int(costs.reduce(0, +)))" : ""))
    }

    /// The replay file, with a one-line error for anything malformed.
    static func load(_ path: String) throws -> Replay {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw CLIError("cannot read \(path)") }
        do {
            return try JSONDecoder().decode(Replay.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw CLIError("\(path): missing key \(key.stringValue) (expected init_qpos, init_qvel, actions)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw CLIError("\(path): \(where_(context)) has the wrong type (expected numbers, or lists of numbers for actions)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw CLIError("\(path): \(where_(context)) is null")
        } catch {
            throw CLIError("\(path) is not valid JSON")
        }
    }

    static func where_(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return keys.isEmpty ? "the top level" : keys.joined()
    }
}
