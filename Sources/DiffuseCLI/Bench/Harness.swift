import Foundation
import PolicyDiffusion

/// Timing rules of specs/bench.md: warm-up runs, then the median and minimum of repeated runs,
/// with peak resident memory.
struct BenchResult {
    var name: String
    var medianMs: Double
    var minMs: Double
    var repeats: Int
    /// Every timed repetition in run order (lets a driver pool interleaved runs).
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
    static func measure(_ name: String, warmup: Int, repeats: Int, _ body: () -> Void) -> BenchResult {
        for _ in 0..<warmup { body() }
        var times: [Double] = []
        times.reserveCapacity(repeats)
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let sorted = times.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return BenchResult(name: name, medianMs: median, minMs: sorted[0], repeats: repeats, timesMs: times)
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
