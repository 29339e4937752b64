import Foundation

/// A recycling allocator for tensor buffers. Training loops allocate the same sizes every step;
/// reusing them avoids malloc/mmap and page faults on the hot path (docs/architecture.md, Performance notes).
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()

    /// A cached buffer; only ever touched under the lock, so it may cross threads.
    private struct Buffer { let pointer: UnsafeMutablePointer<Float> }

    private struct State {
        var free: [Int: [Buffer]] = [:]
        var cachedBytes = 0
    }
    /// `state` is only touched under `lock` (hence @unchecked Sendable). A pthread mutex (NSLock), not
    /// Synchronization.Mutex: ThreadSanitizer sees pthread locks, while Mutex's futex on Linux is
    /// invisible to it, so every pool access was reported as a race (`make test-tsan`, issue #32).
    private let lock = NSLock()
    private var state = State()
    private func withLock<R>(_ body: (inout State) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&state)
    }
    private let maxCachedBytes = 1 << 30
    private let maxPerBucket = 64

    /// Rounds a size up to its bucket: powers of two, with three steps between them above 4 KiB so
    /// at most 25 % is wasted.
    static func bucket(for count: Int) -> Int {
        if count <= 16 { return 16 }
        let p = 1 << (Int.bitWidth - (count - 1).leadingZeroBitCount) // next power of two ≥ count
        if p <= 1024 { return p }
        let quarter = p / 8
        var size = p / 2
        while size < count { size += quarter }
        return size
    }

    /// PD_POISON_BUFFERS=1: every buffer handed out is filled with NaN first, so a kernel that reads
    /// memory it did not write (whose result would depend on what the buffer held before — e.g. on
    /// other work in the same process) produces NaN instead of a silent, irreproducible value; and
    /// every buffer given back is filled with NaN too, so a read through a pointer that outlived its
    /// tensor (the LayerNorm backward of issue #32 did that) also turns into NaN.
    static let poison = ProcessInfo.processInfo.environment["PD_POISON_BUFFERS"] == "1"

    func take(_ capacity: Int) -> UnsafeMutablePointer<Float> {
        let pointer = takeRaw(capacity)
        if Self.poison { pointer.initialize(repeating: .nan, count: Swift.max(capacity, 1)) }
        return pointer
    }

    private func takeRaw(_ capacity: Int) -> UnsafeMutablePointer<Float> {
        let reused: Buffer? = withLock { s in
            guard var list = s.free[capacity], let b = list.popLast() else { return nil }
            s.free[capacity] = list
            s.cachedBytes -= capacity * 4
            return b
        }
        if let reused { return reused.pointer }
        // 64-byte (cache-line) alignment, as PyTorch's CPU allocator: with malloc's 16 bytes, every
        // AVX-512 load of a large buffer can straddle two cache lines, and speed then depends on
        // where the allocator happened to place it.
        return UnsafeMutableRawPointer.allocate(byteCount: Swift.max(capacity, 1) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: capacity)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        if Self.poison { pointer.update(repeating: .nan, count: Swift.max(capacity, 1)) }
        let buffer = Buffer(pointer: pointer)
        let kept: Bool = withLock { s in
            guard s.cachedBytes + capacity * 4 <= maxCachedBytes,
                  s.free[capacity, default: []].count < maxPerBucket else { return false }
            s.free[capacity, default: []].append(buffer)
            s.cachedBytes += capacity * 4
            return true
        }
        if !kept { pointer.deallocate() }
    }

    /// Returns every cached buffer to the system (tests of memory growth call this).
    func drain() {
        let all: [Buffer] = withLock { s in
            let all = s.free.values.flatMap { $0 }
            s.free = [:]
            s.cachedBytes = 0
            return all
        }
        for b in all { b.pointer.deallocate() }
    }
}

/// The contiguous Float32 buffer behind one or more tensors (reshape shares it; writes copy first
/// unless it is uniquely referenced — copy-on-write).
final class TensorStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    private let capacity: Int

    init(uninitializedCount count: Int) {
        MemoryBudget.allocating(elements: count)
        self.count = count
        self.capacity = BufferPool.bucket(for: max(count, 1))
        self.pointer = BufferPool.shared.take(capacity)
    }

    convenience init(zeros count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: count)
    }

    convenience init(copying other: TensorStorage) {
        self.init(uninitializedCount: other.count)
        pointer.update(from: other.pointer, count: count)
    }

    deinit { BufferPool.shared.give(pointer, capacity: capacity) }
}
