/// Evaluates `body` — a function whose output row i depends only on row i of its inputs, such as a
/// network in evaluation mode — on contiguous row blocks, one block per pool thread, and joins the
/// blocks. One parallel region per call replaces one per operation: the operations inside a block
/// run serially on their thread, so a U-Net forward synchronises once instead of at every layer.
///
/// Inputs whose first dimension equals the first input's are split; others (nil, or a row that
/// broadcasts) are passed whole. Only without gradient recording (sampling); when recording, or
/// when a block would have fewer than `minimumRowsPerBlock` rows, `body` runs once on everything.
/// Blocks depend only on the row count and the thread count, so results are reproducible.
///
/// Training steps keep per-operation parallelism: splitting forward and backward into blocks
/// measured no faster (duplicated weight transforms, smaller GEMMs; docs/benchmarks.md).
public func rowParallel(_ inputs: [Tensor?], minimumRowsPerBlock: Int = 1, _ body: ([Tensor?]) -> Tensor) -> Tensor {
    guard let rows = inputs.first??.shape.first else { return body(inputs) }
    let blocks = min(Threads.count, rows / max(minimumRowsPerBlock, 1))
    guard blocks > 1, !isGradEnabled else { return body(inputs) }
    let outputs = evaluateBlocks(blocks) { block in
        let range = (rows * block / blocks)..<(rows * (block + 1) / blocks)
        let part = inputs.map { t -> Tensor? in
            guard let t, t.rank > 0, t.shape[0] == rows else { return t }
            return t.slice(axis: 0, range)
        }
        // Workers record gradients unless told otherwise (the mode is per thread).
        return noGrad { body(part) }
    }
    return Tensor.concat(outputs, axis: 0)
}

/// `work(b)` for b in 0..<blocks, one block per pool chunk; results in block order.
private func evaluateBlocks<R>(_ blocks: Int, _ work: (Int) -> R) -> [R] {
    // One slot per block, each written only by the thread that computes the block.
    let results = UnsafeMutablePointer<R?>.allocate(capacity: blocks)
    results.initialize(repeating: nil, count: blocks)
    defer { results.deinitialize(count: blocks); results.deallocate() }
    withoutActuallyEscaping(work) { work in
        let run: (Int, Int) -> Void = { first, last in for b in first..<last { results[b] = work(b) } }
        withoutActuallyEscaping(run) { parallelFor(blocks, grain: 1, $0) }
    }
    return (0..<blocks).map { results[$0]! }
}
