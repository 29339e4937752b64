/// A trainable tensor owned by a module. Forward passes read `tensor` (recorded as a leaf, so
/// `backward()` accumulates into `grad`); optimizers write `value` in place.
public final class Parameter {
    /// The current values (never carries an autodiff node).
    public var value: Tensor {
        didSet { value = value.detached() }
    }
    /// Frozen parameters (`requiresGrad = false`) are constants in forward passes.
    public var requiresGrad = true
    private let node = GradNode(leaf: ())

    public init(_ value: Tensor) { self.value = value.detached() }

    /// The tensor for forward passes: a graph leaf when recording, a constant otherwise.
    public var tensor: Tensor {
        guard requiresGrad && GradMode.isEnabled else { return value }
        var t = value
        t.node = node
        return t
    }

    public var shape: [Int] { value.shape }

    /// Gradient accumulated by `backward()` since the last `zeroGrad()`.
    public var grad: Tensor? {
        get { node.grad }
        set { node.grad = newValue?.detached() }
    }

    public func zeroGrad() { node.grad = nil }

    /// In-place update of the values (copy-on-write keeps tensors saved elsewhere intact).
    public func update(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        try value.withUnsafeMutableBufferPointer(body)
    }
}
