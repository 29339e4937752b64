import Foundation
import PolicyDiffusion

/// `diffuse bench core`: the foundation's benchmarks (release build): sgemm and the MLP denoiser
/// train step of specs/bench.md. `make bench-compare` runs PyTorch on the same workloads.
struct BenchCoreCommand: Command {
    static let path = ["bench", "core"]
    static let abstract = "benchmark sgemm (256³, 1024³), the MLP denoiser train step and conv1d/conv2d"
    static let discussion = "Build with -c release. Times are medians over --repeats runs after --warmup runs."

    static let repeats = Option("--repeats", value: "N", default: "30", help: "timed repetitions per workload (≥ 20 for reports)")
    static let warmup = Option("--warmup", value: "N", default: "5", help: "untimed warm-up runs")
    static let output = Option("--output", "-o", value: "FILE", help: "also write the results as JSON to FILE")
    static let options = [repeats, warmup, output, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let r = try args.int(repeats, range: 1...100_000)!
        let w = try args.int(warmup, range: 0...100_000)!
        var results = [
            CoreWorkloads.sgemm(n: 256, warmup: w, repeats: r),
            CoreWorkloads.sgemm(n: 1024, warmup: w, repeats: max(r / 3, 5)),
            CoreWorkloads.mlpTrainStep(warmup: w, repeats: r),
        ] + CoreWorkloads.conv(twoD: false, warmup: w, repeats: r) + CoreWorkloads.conv(twoD: true, warmup: w, repeats: r)
        for i in results.indices { results[i].extra["peak RSS MiB"] = Bench.peakResidentMiB }
        let report: [String: Any] = ["library": "PolicyDiffusion \(Diffuse.version)", "threads": Threads.count,
                                     "results": results.map { $0.json }]
        if let path = args.string(output) {
            try AtomicFile.write(Data(jsonLine(report).utf8), to: URL(fileURLWithPath: path))
        }
        if args.flag(.json) {
            console.out(jsonLine(report))
        } else {
            console.out("PolicyDiffusion \(Diffuse.version), \(Threads.count) threads\n" + Bench.table(results))
        }
    }
}
