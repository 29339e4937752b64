import Foundation
import PolicyDiffusion

/// `diffuse bench core`: the workloads of docs/bench-workloads.md (release build). `make bench-compare` runs
/// PyTorch on the same workloads in the same run.
struct BenchCoreCommand: Command {
    static let path = ["bench", "core"]
    static let abstract = "benchmark every workload of docs/bench-workloads.md (sgemm, MLP, FISOR, U-Net 1D/2D, conv, PGD sampling, Diffusion-DPO step)"
    static let discussion = "Build with -c release. Times are medians over --repeats runs after --warmup runs."

    static let repeats = Option("--repeats", value: "N", default: "30", help: "timed repetitions per workload (≥ 20 for reports)")
    static let warmup = Option("--warmup", value: "N", default: "5", help: "untimed warm-up runs")
    static let output = Option("--output", "-o", value: "FILE", help: "also write the results as JSON to FILE")
    static let only = Option("--only", value: "NAMES", help: "comma-separated workloads to run (e.g. unet1d_sample_100,conv1d); default: all")
    static let paired = Option("--paired", help: "let a driver on stdin time each repetition (bench/paired.py alternates us with PyTorch)")
    static let options = [repeats, warmup, output, only, paired, .threads, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        let r = try args.int(repeats, range: 1...100_000)!
        let w = try args.int(warmup, range: 0...100_000)!
        Bench.paired = args.flag(paired)
        var groups = CoreWorkloads.groups(warmup: w, repeats: r)
        if let names = args.string(only)?.split(separator: ",").map(String.init) {
            let known = groups.map(\.0)
            if let bad = names.first(where: { !known.contains($0) }) {
                throw CLIError("--only: unknown workload '\(bad)' (known: \(known.joined(separator: ", ")))", usage: true)
            }
            groups = groups.filter { names.contains($0.0) }
        }
        // One second of GEMMs first: the CPU clock and the allocator settle before anything is timed
        // (the first workload otherwise measured up to 4× slow).
        let start = Date(), g = RandomGenerator(seed: 0), a = g.normal([512, 512])
        while Date().timeIntervalSince(start) < 1 { _ = Tensor.matmul(a, a) }
        var results = groups.flatMap { $0.1() }
        for i in results.indices { results[i].extra["peak RSS MiB"] = Bench.peakResidentMiB }
        let report: [String: Any] = ["library": "PolicyDiffusion \(Diffuse.version)", "threads": Threads.count, "blas_core": Threads.blasCore.used,
                                     "results": results.map { $0.json }]
        if let path = args.string(output) {
            try AtomicFile.write(Data(jsonLine(report).utf8), to: URL(fileURLWithPath: path))
        }
        if Bench.paired {
            return // stdout carried the protocol; the results are in --output
        } else if args.flag(.json) {
            console.out(jsonLine(report))
        } else {
            console.out("PolicyDiffusion \(Diffuse.version), \(Threads.count) threads, OpenBLAS core \(Threads.blasCore.used)\n" + Bench.table(results))
        }
    }
}
