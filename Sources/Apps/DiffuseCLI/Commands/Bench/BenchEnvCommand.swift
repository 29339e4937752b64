import Foundation
import PolicyDiffusion

/// `diffuse bench env`: single-thread stepping rate of the MuJoCo tasks — the environment's `step`
/// (observation, reward, termination, stability check) against the bare C call sequence on the same
/// actions, the "within 10 % of the C library" target of docs/environments.md §5.
struct BenchEnvCommand: Command {
    static let path = ["bench", "env"]
    static let abstract = "single-thread env steps/s of the MuJoCo tasks: our step vs the bare C library calls"
    static let discussion = """
    Build with -c release. Each task steps --steps uniform random actions from reset seed 0 (Hopper and \
    Walker2d keep stepping after they fall, as a raw environment does) — once through the environment's \
    step and once through the bare C sequence (ctrl, mj_step × frame skip, mj_rnePostConstraint) on the \
    same actions. Rates are the best of --repeats runs of each, alternated.
    """
    static let steps = Option("--steps", value: "N", default: "20000", help: "environment steps per run")
    static let repeats = Option("--repeats", value: "N", default: "5", help: "runs of each (best is reported)")
    static let options = [steps, repeats, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let n = try args.int(steps, range: 1...10_000_000)!
        let r = try args.int(repeats, range: 1...1000)!
        var rows: [[String: Any]] = []
        for robot in Locomotion.Robot.allCases {
            let env = try Locomotion(robot)
            let rng = RandomGenerator(seed: 1)
            let actions = (0..<n).map { _ in (0..<env.spec.actionSpace.dimension).map { _ in rng.uniform(-1, 1) } }
            func seconds(_ body: () -> Void) -> Double {
                _ = env.reset(seed: 0)
                let t0 = DispatchTime.now().uptimeNanoseconds
                body()
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            }
            var ours = Double.infinity, bare = Double.infinity
            for _ in 0..<r {
                bare = min(bare, seconds { env.stepBare(actions) })
                ours = min(ours, seconds { for a in actions { _ = env.step(a) } })
                if env.failure != nil { throw CLIError("bench env: \(robot.rawValue) went unstable: \(env.failure!)") }
            }
            let row: [String: Any] = ["env": robot.rawValue, "steps": n, "ours_steps_per_s": Double(n) / ours, "c_steps_per_s": Double(n) / bare,
                                      "ratio": bare / ours]
            rows.append(row)
            if !args.flag(.json) {
                console.out(String(format: "%-12@ step %8.0f steps/s   bare C %8.0f steps/s   ours/C %.3f",
                                   robot.rawValue, Double(n) / ours, Double(n) / bare, bare / ours))
            }
        }
        if args.flag(.json) { console.out(jsonLine(["threads": 1, "rows": rows])) }
    }
}
