import Foundation
import PolicyDiffusion

/// Timing rules of docs/bench-workloads.md: warm-up runs, then the median and minimum of repeated runs,
/// with peak resident memory.
struct BenchResult {
    var name: String
    var medianMs: Double
    var minMs: Double
    var repeats: Int
    /// Every timed repetition in run order (the raw data behind median and minimum, for analysing
    /// a run's drift).
    var timesMs: [Double] = []
    /// Extra derived numbers (e.g. GFLOP/s).
    var extra: [String: Double] = [:]

    var json: [String: Any] {
        var j: [String: Any] = ["name": name, "median_ms": medianMs, "min_ms": minMs, "repeats": repeats, "times_ms": timesMs]
        for (k, v) in extra { j[k] = v }
        return j
    }
}

enum Bench {
    /// Paired mode (`bench core --paired`): a driver (bench/paired.py) decides when each repetition
    /// runs, alternating with PyTorch's process, so both sides of a ratio share machine states.
    nonisolated(unsafe) static var paired = false

    static func measure(_ name: String, warmup: Int, repeats: Int, _ body: () -> Void) -> BenchResult {
        func timed() -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        }
        var times: [Double] = []
        if paired {
            // Protocol: announce the workload, then obey "warmup" (reply "ok"), "turn" (reply the
            // milliseconds of this turn's kept repetitions) and "next" (move on), one line each.
            func say(_ line: String) { print(line); fflush(nil) }
            say("ready \(name)")
            loop: while true {
                switch readLine() {
                case "warmup": for _ in 0..<warmup { body() }; say("ok")
                case "turn": let kept = Bench.turn(timed); times += kept; say(kept.map { String($0) }.joined(separator: ","))
                case "next": break loop
                case let other: failPaired(other.map { "unknown command '\($0)'" } ?? "the driver closed stdin")
                }
            }
        } else {
            for _ in 0..<warmup { body() }
            times.reserveCapacity(repeats)
            for _ in 0..<repeats { times.append(timed()) }
        }
        if times.isEmpty { failPaired("no turn was run for \(name)") }
        let sorted = times.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return BenchResult(name: name, medianMs: median, minMs: sorted[0], repeats: times.count, timesMs: times)
    }

    /// A protocol error in paired mode: one line on stderr and exit 1 (the driver reports it).
    static func failPaired(_ message: String) -> Never {
        FileHandle.standardError.write(Data("diffuse bench core --paired: \(message)\n".utf8))
        exit(1)
    }

    /// One paired turn: repetitions for at least `turnSeconds` (at least one). When the turn holds
    /// three or more, the first is dropped: it pays for the other process having run meanwhile
    /// (sleeping worker threads, evicted caches), which a training loop never sees. Long workloads
    /// (one or two repetitions per turn) keep all: that cost is then negligible.
    static let turnSeconds = 0.3

    static func turn(_ timed: () -> Double) -> [Double] {
        var times: [Double] = []
        repeat { times.append(timed()) } while times.reduce(0, +) < turnSeconds * 1000
        return times.count >= 3 ? Array(times.dropFirst()) : times
    }

    /// Peak resident set size in MiB (VmHWM from /proc/self/status).
    static var peakResidentMiB: Double { procStatus("VmHWM") }
    static var residentMiB: Double { procStatus("VmRSS") }

    private static func procStatus(_ key: String) -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(key + ":") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }

    static func table(_ results: [BenchResult]) -> String {
        var lines = ["| workload | median ms | min ms | repeats | notes |", "|---|---|---|---|---|"]
        for r in results {
            let notes = r.extra.keys.sorted().map { String(format: "%@ %.1f", $0, r.extra[$0]!) }.joined(separator: ", ")
            lines.append(String(format: "| %@ | %.3f | %.3f | %d | %@ |", r.name, r.medianMs, r.minMs, r.repeats, notes))
        }
        return lines.joined(separator: "\n")
    }
}
