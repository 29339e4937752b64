import CKernels
/// An N-dimensional Float32 tensor: contiguous row-major storage shared copy-on-write, plus an
/// optional autodiff node. Values are immutable from the outside except through
/// `withUnsafeMutableBufferPointer`, which copies first when the storage is shared.
public struct Tensor {
    public internal(set) var shape: [Int]
    var storage: TensorStorage
    /// Autodiff node: nil for constants and under `noGrad`.
    var node: GradNode?

    init(shape: [Int], storage: TensorStorage, node: GradNode? = nil) {
        precondition(storage.count == Tensor.elementCount(shape), "shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor with uninitialized contents (the caller fills it).
    init(uninitializedShape shape: [Int]) {
        Tensor.validate(shape)
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: Tensor.elementCount(shape)))
    }

    public init(zeros shape: [Int]) {
        Tensor.validate(shape)
        self.init(shape: shape, storage: TensorStorage(zeros: Tensor.elementCount(shape)))
    }

    public init(ones shape: [Int]) { self.init(repeating: 1, shape: shape) }

    public init(repeating value: Float, shape: [Int]) {
        self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
    }

    public init(_ scalars: [Float], shape: [Int]) {
        Tensor.validate(shape)
        precondition(scalars.count == Tensor.elementCount(shape),
                     "\(scalars.count) scalars cannot fill shape \(shape)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: scalars.count) }
    }

    /// A 1-D tensor.
    public init(_ scalars: [Float]) { self.init(scalars, shape: [scalars.count]) }

    /// A 0-D (scalar) tensor.
    public init(_ scalar: Float) { self.init([scalar], shape: []) }

    /// Rows of equal length stacked into a 2-D tensor.
    public init(rows: [[Float]]) {
        let cols = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == cols }, "rows differ in length")
        self.init(rows.flatMap { $0 }, shape: [rows.count, cols])
    }

    /// `n` evenly spaced values from `start` to `end` inclusive.
    public static func linspace(_ start: Float, _ end: Float, count n: Int) -> Tensor {
        precondition(n >= 1, "linspace needs at least one point")
        if n == 1 { return Tensor([start]) }
        return Tensor((0..<n).map { start + (end - start) * Float($0) / Float(n - 1) })
    }

    /// 0, 1, …, n − 1.
    public static func arange(_ n: Int) -> Tensor { Tensor((0..<n).map { Float($0) }) }

    // MARK: shape

    public var rank: Int { shape.count }
    public var count: Int { storage.count }
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, not shape \(shape)")
        return storage.pointer[0]
    }

    public subscript(_ index: Int...) -> Float {
        precondition(index.count == rank, "index \(index) does not match rank \(rank)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of bounds for shape \(shape)")
            flat = flat * d + i
        }
        return storage.pointer[flat]
    }

    static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    static func validate(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    }

    /// Resolves a possibly negative axis.
    func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < Swift.max(rank, 1), "axis \(a) out of range for rank \(rank)")
        return r
    }

    // MARK: raw access

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Mutable access; copies the storage first when it is shared (copy-on-write). Writing to a
    /// tensor recorded on the tape would corrupt its gradients, so only constants and leaves may.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(node == nil || node!.isLeaf, "in-place write to a tensor recorded for autodiff; build a new tensor instead")
        if !isKnownUniquelyReferenced(&storage) { storage = TensorStorage(copying: storage) }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// True when every element is finite.
    public var isFinite: Bool {
        withUnsafeBufferPointer { b in b.isEmpty || pd_all_finite(b.baseAddress!, Int64(b.count)) != 0 }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(16).map { String(format: "%.5g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 16 ? ", …" : "")])"
    }
}

#if canImport(Foundation)
import Foundation
#endif
