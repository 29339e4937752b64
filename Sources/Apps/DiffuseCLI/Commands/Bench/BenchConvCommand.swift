import CKernels
import Foundation
import PolicyDiffusion

/// `diffuse bench conv`: FFT vs direct vs auto over issue B's grid; calibration of the cost model;
/// an optional tuning file; the memory no-growth check.
struct BenchConvCommand: Command {
    static let path = ["bench", "conv"]
    static let abstract = "benchmark convolutions (FFT vs direct vs auto), calibrate the cost model, check memory"
    static let discussion = """
    The full grid takes several minutes (the direct path at k = 65, L = 1024 is slow — that is the point). \
    --calibrate prints new constants for Sources/CLibraries/CKernels/conv_cost_model.h; --tune FILE writes per-shape \
    choices that later runs read when PD_CONV_TUNING=FILE is set.
    """

    static let repeats = Option("--repeats", value: "N", default: "20", help: "timed repetitions per measurement")
    static let warmup = Option("--warmup", value: "N", default: "3", help: "untimed warm-up runs")
    static let quick = Option("--quick", help: "a small subset of the grid")
    static let markdown = Option("--markdown", value: "FILE", help: "write the table as markdown to FILE")
    static let calibrate = Option("--calibrate", value: "FILE", help: "fit the cost-model constants to the forward timings, write them to FILE (conv_cost_model.h) and show the fitted choices")
    static let tune = Option("--tune", value: "FILE", help: "write the faster algorithm per shape and pass to FILE (PD_CONV_TUNING)")
    static let memory = Option("--memory", help: "only run the memory check: RSS after 10² vs 10⁴ forward+backward calls")
    static let refit = Option("--refit", value: "LOG", help: "reuse the timings a previous run printed to stderr (saved in LOG) instead of measuring")
    static let options = [repeats, warmup, quick, markdown, calibrate, tune, memory, refit, .threads]

    static func run(_ args: ParsedArguments, console: Console) throws {
        if args.flag(memory) {
            _ = ConvWorkloads.memoryGrowth(console: console)
            return
        }
        let r = try args.int(repeats, range: 1...100_000)!
        let w = try args.int(warmup, range: 0...100_000)!
        var timings: [ConvWorkloads.Timing] = []
        if let log = args.string(refit) {
            guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { throw CLIError("--refit: cannot read \(log)") }
            timings = text.split(separator: "\n").compactMap { ConvWorkloads.Timing(line: String($0)) }
            guard !timings.isEmpty else { throw CLIError("--refit: \(log) has no timing lines") }
        } else {
            for shape in ConvWorkloads.grid(quick: args.flag(quick)) {
                let t = ConvWorkloads.measure(shape, warmup: w, repeats: r)
                console.err(t.line)
                timings.append(t)
            }
        }
        if let path = args.string(calibrate) {
            let header = ConvWorkloads.calibrate(&timings)
            try AtomicFile.write(Data(header.utf8), to: URL(fileURLWithPath: path))
            console.out(header)
        }
        let command = args.invocation
        let table = ConvWorkloads.markdown(timings, command: command, threads: Threads.count, repeats: r)
        console.out(table)
        if let path = args.string(markdown) { try AtomicFile.write(Data((table + "\n").utf8), to: URL(fileURLWithPath: path)) }
        if let path = args.string(tune) {
            var lines: [String] = []
            for t in timings {
                var s = t.shape.cShape
                var key = [CChar](repeating: 0, count: 160)
                pd_conv_shape_key(&s, &key, 160)
                let k = String(decoding: key.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let fwd = t.forward[.fft]! < t.forward[.direct]! ? "fft" : "direct"
                let bwd = t.forwardBackward[.fft]! < t.forwardBackward[.direct]! ? "fft" : "direct"
                lines += ["\(k) 0 \(fwd)", "\(k) 3 \(bwd)"]
            }
            try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: URL(fileURLWithPath: path))
        }
    }
}
