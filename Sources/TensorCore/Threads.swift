import CKernels

/// The library's thread policy: one pool owns the cores; OpenBLAS runs single-threaded inside it;
/// FFTW will use the same count. Set from `--threads`, or PD_NUM_THREADS, default = all cores.
public enum Threads {
    public static var count: Int { Int(pd_get_num_threads()) }
    public static var cpuCount: Int { Int(pd_cpu_count()) }

    /// Changes the thread count for every subsequent parallel region (results are reproducible
    /// for a fixed count).
    public static func set(_ n: Int) {
        precondition(n >= 1, "thread count must be at least 1")
        pd_set_num_threads(Int32(n))
    }
}

private final class ParallelBody {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
}

/// Runs `body(begin, end)` on contiguous chunks of 0..<n across the pool. Chunks depend only on n,
/// grain and the thread count. `body` must only write disjoint memory per chunk.
public func parallelFor(_ n: Int, grain: Int = 1, _ body: @escaping (Int, Int) -> Void) {
    let box = ParallelBody(body)
    withExtendedLifetime(box) {
        pd_parallel_for(Int64(n), Int64(grain), { ctx, b, e in
            Unmanaged<ParallelBody>.fromOpaque(ctx!).takeUnretainedValue().body(Int(b), Int(e))
        }, Unmanaged.passUnretained(box).toOpaque())
    }
}

/// Evaluates `body` — a function whose output row i depends only on row i of its inputs, such as a
/// network in evaluation mode — on contiguous row blocks, one block per pool thread, and joins the
/// blocks. One parallel region per call replaces one per operation: the operations inside a block
/// run serially on their thread, so a U-Net forward synchronises once instead of at every layer.
///
/// Inputs whose first dimension equals the first input's are split; others (nil, or a row that
/// broadcasts) are passed whole. Only without gradient recording (sampling); when recording, or
/// when a block would have fewer than `minimumRowsPerBlock` rows, `body` runs once on everything.
/// Blocks depend only on the row count and the thread count, so results are reproducible.
public func rowParallel(_ inputs: [Tensor?], minimumRowsPerBlock: Int = 1, _ body: ([Tensor?]) -> Tensor) -> Tensor {
    guard let rows = inputs.first??.shape.first else { return body(inputs) }
    let blocks = min(Threads.count, rows / max(minimumRowsPerBlock, 1))
    guard blocks > 1, !isGradEnabled else { return body(inputs) }
    // One slot per block, each written only by the thread that computes the block.
    let results = UnsafeMutablePointer<Tensor?>.allocate(capacity: blocks)
    results.initialize(repeating: nil, count: blocks)
    defer { results.deinitialize(count: blocks); results.deallocate() }
    withoutActuallyEscaping(body) { body in
        let run: (Int, Int) -> Void = { first, last in
            for block in first..<last {
                let range = (rows * block / blocks)..<(rows * (block + 1) / blocks)
                let part = inputs.map { t -> Tensor? in
                    guard let t, t.rank > 0, t.shape[0] == rows else { return t }
                    return t.slice(axis: 0, range)
                }
                // Workers record gradients unless told otherwise (the mode is per thread).
                results[block] = noGrad { body(part) }
            }
        }
        withoutActuallyEscaping(run) { parallelFor(blocks, grain: 1, $0) }
    }
    return Tensor.concat((0..<blocks).map { results[$0]! }, axis: 0)
}
