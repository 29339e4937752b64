import CKernels

/// The library's thread policy: one pool owns the cores; OpenBLAS runs single-threaded inside it;
/// FFTW will use the same count. Set from `--threads`, or PD_NUM_THREADS, default = all cores.
public enum Threads {
    public static var count: Int { Int(pd_get_num_threads()) }
    public static var cpuCount: Int { Int(pd_cpu_count()) }
    /// The OpenBLAS kernel set in use ("SkylakeX", "Haswell", …) and the one OpenBLAS detected on its
    /// own; they differ when it fell back to a generic core on a CPU it does not recognize.
    public static var blasCore: (used: String, detected: String) { (String(cString: pd_blas_core()), String(cString: pd_blas_detected_core())) }

    /// Changes the thread count for every subsequent parallel region (results are reproducible
    /// for a fixed count).
    public static func set(_ n: Int) {
        precondition(n >= 1, "thread count must be at least 1")
        pd_set_num_threads(Int32(n))
    }

    /// Runs `body` with `n` threads for work started from the calling thread only; other threads
    /// keep the process-wide count (so concurrent tests cannot change each other's partitions).
    public static func withCount<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        precondition(n >= 1, "thread count must be at least 1")
        let before = pd_get_scoped_threads()
        pd_set_scoped_threads(Int32(n))
        defer { pd_set_scoped_threads(before) }
        return try body()
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
