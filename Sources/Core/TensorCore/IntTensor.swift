/// An N-d tensor of integers: indices (argmax, sort, gather, embeddings), labels and timesteps.
/// Never differentiable.
public struct IntTensor: Equatable, Sendable {
    public var shape: [Int]
    public var scalars: [Int]

    public init(_ scalars: [Int], shape: [Int]) {
        precondition(scalars.count == shape.reduce(1, *), "\(scalars.count) integers cannot fill shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    public init(_ scalars: [Int]) { self.init(scalars, shape: [scalars.count]) }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    public subscript(_ index: Int...) -> Int {
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of bounds for shape \(shape)")
            flat = flat * d + i
        }
        return scalars[flat]
    }

    /// The values as Float32 (e.g. integer timesteps fed to an embedding).
    public var asTensor: Tensor { Tensor(scalars.map { Float($0) }, shape: shape) }

    public func reshaped(_ newShape: [Int]) -> IntTensor { IntTensor(scalars, shape: newShape) }
}
