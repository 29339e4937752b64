import Foundation
import PolicyDiffusion

/// `diffuse schedule`: prints a noise schedule's arrays, so users can check them against diffusers.
struct ScheduleCommand: Command {
    static let path = ["schedule"]
    static let abstract = "print a noise schedule: betas, alphas_cumprod and posterior variance per timestep"

    static let kind = Option("--kind", value: "K", default: "linear", help: "linear | scaled_linear | squaredcos_cap_v2 | janner_cosine | vp")
    static let steps = Option("--steps", value: "T", default: "1000", help: "number of diffusion steps")
    static let options = [kind, steps, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        guard let k = BetaSchedule(name: args.string(kind)!) else {
            throw CLIError("unknown --kind '\(args.string(kind)!)' (linear, scaled_linear, squaredcos_cap_v2, janner_cosine, vp)", usage: true)
        }
        let t = try args.int(steps, range: 1...1_000_000)!
        let s = NoiseSchedule(k, steps: t)
        let variance = (0..<t).map { s.posteriorVariance($0) }
        if args.flag(.json) {
            console.out(jsonLine(["kind": k.name, "steps": t, "betas": s.betas, "alphas_cumprod": s.alphasCumprod, "posterior_variance": variance]))
            return
        }
        console.out("t\tbeta\talphas_cumprod\tposterior_variance")
        for i in 0..<t {
            console.out(String(format: "%d\t%.9g\t%.9g\t%.9g", i, Double(s.betas[i]), Double(s.alphasCumprod[i]), Double(variance[i])))
        }
    }
}
