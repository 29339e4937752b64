import Foundation
import TensorCore

/// Seeded, shuffled minibatch indices over a dataset of `count` rows, epoch after epoch. The order
/// of epoch e depends only on (seed, e), so a resumed run (same `position`) continues exactly.
public final class MinibatchSampler {
    public let count: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64
    /// Epoch and offset of the next batch (save these to resume).
    public private(set) var epoch = 0
    public private(set) var offset = 0
    private var order: [Int] = []

    public init(count: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = true, seed: UInt64) {
        precondition(count > 0 && batchSize > 0, "a sampler needs rows and a positive batch size")
        precondition(!dropLast || batchSize <= count, "batch size \(batchSize) exceeds the \(count) rows with dropLast")
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        order = makeOrder(0)
    }

    private func makeOrder(_ e: Int) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        return RandomGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(e + 1)).permutation(count)
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The next batch of row indices (starting a new epoch when needed).
    public func next() -> [Int] {
        let remaining = count - offset
        if remaining == 0 || (dropLast && remaining < batchSize) {
            epoch += 1
            offset = 0
            order = makeOrder(epoch)
        }
        let end = Swift.min(offset + batchSize, count)
        defer { offset = end }
        return Array(order[offset..<end])
    }

    /// Jumps to a saved position.
    public func restore(epoch: Int, offset: Int) {
        precondition(offset >= 0 && offset <= count, "sampler offset out of range")
        self.epoch = epoch
        self.offset = offset
        order = makeOrder(epoch)
    }

    /// The rows of each tensor at `indices` (along axis 0).
    public static func gather(_ tensors: [Tensor], _ indices: [Int]) -> [Tensor] {
        tensors.map { $0.indexSelect(axis: 0, indices) }
    }
}
