import Foundation
import TensorCore

/// Why training stopped early.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case nonFinite(step: Int, metric: String, value: Float)

    public var description: String {
        switch self {
        case let .nonFinite(step, metric, value): return "training diverged: \(metric) = \(value) at step \(step)"
        }
    }
}

/// What an optimizer found wrong inside a step (a non-finite gradient), for the `TrainingLoop`
/// running on the same thread: the loop stops with the step and the quantity's name, before any
/// checkpoint of that step is written.
enum StepHealth {
    private static let key = "PolicyDiffusion.StepHealth"

    static func report(_ quantity: String, value: Float) {
        if Thread.current.threadDictionary[key] == nil { Thread.current.threadDictionary[key] = (quantity, value) }
    }

    static func take() -> (String, Float)? {
        defer { Thread.current.threadDictionary[key] = nil }
        return Thread.current.threadDictionary[key] as? (String, Float)
    }
}

/// A small driver for training loops: runs `step` for each step index, logs the running mean of
/// every metric every `logEvery` steps, stops with the step number on a NaN/inf metric, and calls
/// `checkpoint` every `checkpointEvery` steps (and at the end) so runs can resume.
public struct TrainingLoop {
    public var steps: Int
    public var logEvery: Int
    public var checkpointEvery: Int?
    public var log: (String) -> Void

    public init(steps: Int, logEvery: Int = 100, checkpointEvery: Int? = nil,
                log: @escaping (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }) {
        self.steps = steps
        self.logEvery = logEvery
        self.checkpointEvery = checkpointEvery
        self.log = log
    }

    /// Runs steps `start..<min(stop, steps)` (a time-sliced job stops early and resumes later);
    /// returns the metrics' means over the last logging window.
    @discardableResult
    public func run(from start: Int = 0, stoppingAt stop: Int? = nil, checkpoint: ((Int) throws -> Void)? = nil,
                    _ step: (Int) throws -> [String: Float]) throws -> [String: Float] {
        var sums: [String: Double] = [:]
        var n = 0
        var last: [String: Float] = [:]
        let end = Swift.min(stop ?? steps, steps)
        _ = StepHealth.take()
        for s in start..<Swift.max(start, end) {
            let metrics = try step(s)
            if let (quantity, value) = StepHealth.take() { throw TrainingError.nonFinite(step: s, metric: quantity, value: value) }
            for (k, v) in metrics {
                guard v.isFinite else { throw TrainingError.nonFinite(step: s, metric: k, value: v) }
                sums[k, default: 0] += Double(v)
            }
            n += 1
            let done = s + 1
            if done % Swift.max(logEvery, 1) == 0 || done == end {
                last = sums.mapValues { Float($0 / Double(n)) }
                let parts = last.keys.sorted().map { String(format: "%@ %.6g", $0, Double(last[$0]!)) }
                log("step \(done)/\(steps)  " + parts.joined(separator: "  "))
                sums = [:]
                n = 0
            }
            if let checkpoint, let every = checkpointEvery, done % every == 0 || done == end { try checkpoint(done) }
        }
        return last
    }
}
