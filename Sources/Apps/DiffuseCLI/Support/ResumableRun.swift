import Foundation
import PolicyDiffusion

extension Option {
    // Options of every resumable training command.
    static let resume = Option("--resume", help: "continue from the training state in --output (none yet: start from scratch, with a notice)")
    static let stopAfter = Option("--stop-after", value: "N", help: "stop (with a checkpoint) after step N of --steps; continue later with --resume")
    static func checkpointEvery(default value: Int) -> Option {
        Option("--checkpoint-every", value: "N", default: String(value), help: "save a resumable checkpoint every N steps (atomic write)")
    }
    static func logEvery(default value: Int) -> Option {
        Option("--log-every", value: "N", default: String(value), help: "log the mean losses every N steps (stderr)")
    }
}

/// What every resumable training command does around its step: `--resume` from the output file,
/// checkpoints every N steps and at the end (or at `--stop-after`), logging and progress on stderr.
struct ResumableRun {
    let total: Int
    let output: URL
    let checkpointEvery: Int
    let logEvery: Int
    let stopAfter: Int?
    let resume: Bool

    init(_ args: ParsedArguments, total: Int, output: URL, checkpointEvery: Option, logEvery: Option) throws {
        self.total = total
        self.output = output
        self.checkpointEvery = try args.int(checkpointEvery, range: 1...Int.max)!
        self.logEvery = try args.int(logEvery, range: 1...Int.max)!
        stopAfter = try args.int(.stopAfter, range: 1...Int.max)
        resume = args.flag(.resume)
    }

    /// Calls `restore` when `--resume` was given and --output exists; returns the step to start from.
    /// A job killed before its first checkpoint and requeued with the same command plus --resume (what
    /// schedulers do) has nothing to restore: it starts from scratch, with a notice, instead of failing.
    private func start(console: Console, restore: (URL) throws -> Int) throws -> Int {
        guard resume else { return 0 }
        guard FileManager.default.fileExists(atPath: output.path) else {
            console.err("--resume: no checkpoint at \(output.path) yet; starting from scratch")
            return 0
        }
        let step = try restore(output)
        console.err("resuming at step \(step)")
        return step
    }

    /// What a run ended with: the last logged metric means, the seconds taken, and whether it
    /// stopped early at --stop-after (then it has said how to continue).
    struct Outcome {
        /// The step this invocation started from (0, or where --resume picked up).
        var start: Int
        var metrics: [String: Float]
        var seconds: Double
        var stopped: Bool
    }

    /// Drives any `Trainer`: resumes it from --output when --resume was given, runs its steps with
    /// checkpoints (carrying `metadata`), logging and progress, and calls `afterStep` with the
    /// number of steps done and the step's metrics (periodic evaluation, validation losses); `beforeStep` gets the steps
    /// done before each step (a held-out curve that starts at the untrained model).
    func train(_ trainer: some Trainer, label: String, metadata: [String: String], console: Console,
               beforeStep: ((Int) throws -> Void)? = nil, afterStep: ((Int, [String: Float]) throws -> Void)? = nil) throws -> Outcome {
        _ = try start(console: console) { try trainer.resume(from: $0); return trainer.step }
        return try run(from: trainer.step, label: label, console: console, save: { _ in try trainer.save(to: output, metadata: metadata) }) { s in
            try beforeStep?(s)
            let metrics = try trainer.trainStep()
            try afterStep?(s + 1, metrics)
            return metrics
        }
    }

    /// Runs steps from `start`; returns the last logged metric means, the seconds taken and whether
    /// the run stopped early (then it says how to continue).
    private func run(from start: Int, label: String, console: Console, save: @escaping (Int) throws -> Void,
             step: @escaping (Int) throws -> [String: Float]) throws -> Outcome {
        let progress = Progress(label, total: total, console: console)
        let started = Date()
        let loop = TrainingLoop(steps: total, logEvery: logEvery, checkpointEvery: checkpointEvery, log: console.err)
        // In a data-parallel run every rank holds the same state; rank 0 writes it.
        let metrics = try loop.run(from: start, stoppingAt: stopAfter, checkpoint: { s in if ProcessGroup.active?.isRoot ?? true { try save(s) } }) { s in
            let m = try step(s)
            progress.update(s + 1)
            return m
        }
        if let group = ProcessGroup.parallel, group.allReduceCalls > 0 {
            // What docs/distributed.md's scaling table reads: the gradient all-reduce per optimizer update.
            let calls = Double(group.allReduceCalls)
            console.err(String(format: "distributed: %d ranks, all-reduce %.3f ms and %.3f MB per update (%d updates)", group.size,
                               group.allReduceSeconds / calls * 1000, Double(group.allReduceBytes) / calls / 1e6, group.allReduceCalls))
        }
        let stopped = stopAfter.map { $0 < total } ?? false
        if stopped { console.err("stopped after step \(stopAfter!) of \(total); continue with --resume") }
        return Outcome(start: start, metrics: metrics, seconds: Date().timeIntervalSince(started), stopped: stopped)
    }
}
