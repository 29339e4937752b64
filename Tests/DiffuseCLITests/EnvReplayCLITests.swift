import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing

@Suite("diffuse env replay", .serialized)
struct EnvReplayCLITests {
    static func write(_ object: [String: Any], _ name: String) throws -> String {
        let path = tempPath(name)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The JSON the command prints parses back to exactly what the library's own stepping returns
    /// (numbers in shortest round-trip form), through and past the Hopper's fall.
    @Test func roundTripsBitForBit() throws {
        let qpos = [0.003, 1.2504, -0.002, 0.001, 0.004, -0.003], qvel = [0.002, -0.001, 0.004, 0.003, -0.002, 0.001]
        let rng = RandomGenerator(seed: 7)
        let actions = (0..<120).map { _ in (0..<3).map { _ in Double(Float(rng.uniform(-1, 1))) } }
        // Written by hand in shortest round-trip form (Foundation's JSONSerialization may not round-trip).
        func list(_ x: [Double]) -> String { "[" + x.map { "\($0)" }.joined(separator: ",") + "]" }
        let path = tempPath("replay-hopper.json")
        try Data("{\"init_qpos\":\(list(qpos)),\"init_qvel\":\(list(qvel)),\"actions\":[\(actions.map(list).joined(separator: ","))]}".utf8)
            .write(to: URL(fileURLWithPath: path))
        let r = runCLI(["env", "replay", "--env", "hopper-velocity", "--input", path, "--json"])
        #expect(r.status == 0 && r.out.count == 1)
        struct Output: Decodable { var observations: [[Double]], rewards: [Double], terminated: [Bool], costs: [Double] }
        let out = try JSONDecoder().decode(Output.self, from: Data(r.out.joined().utf8))
        let (observations, rewards, terminated, costs) = (out.observations, out.rewards, out.terminated, out.costs)

        let env = try Locomotion(.hopper, velocityConstrained: true)
        _ = try env.reset(qpos: qpos, qvel: qvel)
        var fell = false
        for (t, a) in actions.enumerated() {
            let s = env.step(a)
            #expect(observations[t] == s.observation && rewards[t] == s.reward && terminated[t] == s.terminated && costs[t] == s.cost, "step \(t)")
            fell = fell || s.terminated
        }
        #expect(fell && terminated.last == true)
    }

    /// eval agent on the MuJoCo tasks: D4RL's score for the base task, DSRL's normalized return and
    /// cost (κ = 0, so ε = 1) for the velocity task, recomputed here from the episode returns.
    @Test func evalUsesD4RLAndDSRLReferences() throws {
        func evaluate(_ args: [String]) throws -> EvaluationResult {
            let r = runCLI(["eval", "agent", "--policy", "scripted:random", "--episodes", "2", "--json"] + args)
            #expect(r.status == 0)
            return try JSONDecoder().decode(EvaluationResult.self, from: Data(r.out.joined().utf8))
        }
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
        let cheetah = try evaluate(["--env", "halfcheetah"])
        #expect(abs(cheetah.normalizedScoreMean - mean(cheetah.returns.map { 100 * ($0 + 280.178953) / (12135.0 + 280.178953) })) < 1e-9)
        #expect(cheetah.safe == nil)
        let hopper = try evaluate(["--env", "hopper-velocity", "--cost-limit", "0"])
        #expect(abs(hopper.normalizedReturnMean! - mean(hopper.returns.map { ($0 - 37.052) / (1911.397 - 37.052) })) < 1e-12)
        let cost = mean(hopper.costs.map { $0 + 1 })
        #expect(hopper.normalizedCostMean == cost && hopper.safe == (cost <= 1) && hopper.costLimit == 0)
    }

    @Test func badInputGivesOneLineError() throws {
        let missing = try Self.write(["init_qpos": [0, 1.25, 0, 0, 0, 0], "actions": [[0, 0, 0]]], "replay-missing.json")
        expectOneLineError(["env", "replay", "--env", "hopper", "--input", missing], 1, "missing key init_qvel")
        let short = try Self.write(["init_qpos": [0, 1.25], "init_qvel": [0, 0, 0, 0, 0, 0], "actions": [[0, 0, 0]]], "replay-short.json")
        expectOneLineError(["env", "replay", "--env", "hopper", "--input", short], 1, "expects 6 values per init_qpos")
        let wide = try Self.write(["init_qpos": [0, 1.25, 0, 0, 0, 0], "init_qvel": [0, 0, 0, 0, 0, 0], "actions": [[0, 0]]], "replay-wide.json")
        expectOneLineError(["env", "replay", "--env", "hopper", "--input", wide], 1, "action 0 has 2 values")
        let wrongType = try Self.write(["init_qpos": [0, 1.25, 0, 0, 0, 0], "init_qvel": [0, 0, 0, 0, 0, 0], "actions": [[0, "x", 0]]], "replay-type.json")
        expectOneLineError(["env", "replay", "--env", "hopper", "--input", wrongType], 1, "actions[0][1] has the wrong type")
        let exploding = try Self.write(["init_qpos": [0, 1.25, 0, 0, 0, 0], "init_qvel": [0, 0, 0, 1e12, 0, 0], "actions": [[1, 1, 1]]], "replay-explode.json")
        expectOneLineError(["env", "replay", "--env", "hopper", "--input", exploding], 1, "became unstable")
        let garbage = tempPath("replay-garbage.json")
        try Data("not json".utf8).write(to: URL(fileURLWithPath: garbage))
        expectOneLineError(["env", "replay", "--env", "walker2d", "--input", garbage], 1, "is not valid JSON")
        expectOneLineError(["env", "replay", "--env", "pendulum", "--input", garbage], 1, "not a MuJoCo task")
        expectOneLineError(["env", "replay", "--env", "hopper", "--input", "/nonexistent.json"], 1, "cannot read")
    }
}
