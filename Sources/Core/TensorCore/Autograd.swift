import Foundation

/// One recorded operation (or a leaf) in the reverse-mode graph. The graph is the tape: each node
/// keeps its parents and a closure mapping the output gradient to input gradients.
final class GradNode {
    let isLeaf: Bool
    /// Inputs that need gradients, aligned with the gradients the closure returns (nil = none).
    var parents: [GradNode?]
    var backward: ((Tensor, [Bool]) -> [Tensor?])?
    /// Accumulated gradient (leaves keep it across `backward()` calls).
    var grad: Tensor?

    init(leaf: ()) {
        isLeaf = true
        parents = []
        backward = nil
    }

    init(parents: [GradNode?], backward: @escaping (Tensor, [Bool]) -> [Tensor?]) {
        isLeaf = false
        self.parents = parents
        self.backward = backward
    }

    func accumulate(_ g: Tensor) {
        if let existing = grad { grad = noGrad { existing + g } } else { grad = g }
    }
}

/// Whether operations record gradients on this thread (`noGrad { }` turns it off).
enum GradMode {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// Depth of nested `noGrad` scopes on this thread, stored in a thread-specific slot.
    static var disabledDepth: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }

    static var isEnabled: Bool { disabledDepth == 0 }
}

/// Runs `body` without recording anything for autodiff (sampling, evaluation, target updates).
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    GradMode.disabledDepth += 1
    defer { GradMode.disabledDepth -= 1 }
    return try body()
}

/// Runs `body` with recording on, even inside an outer `noGrad` (guidance gradients while sampling).
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    let saved = GradMode.disabledDepth
    GradMode.disabledDepth = 0
    defer { GradMode.disabledDepth = saved }
    return try body()
}

public var isGradEnabled: Bool { GradMode.isEnabled }

extension Tensor {
    /// True when this tensor is part of the autodiff graph.
    public var requiresGrad: Bool { node != nil }

    /// A leaf that accumulates a gradient in `grad` after `backward()` (inputs for ∇ₓ).
    public func requiringGrad() -> Tensor {
        Tensor(shape: shape, storage: storage, node: GradNode(leaf: ()))
    }

    /// The same values, cut from the graph.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// The accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor? { node?.grad }

    /// Clears a leaf's accumulated gradient.
    public func zeroGrad() { node?.grad = nil }

    /// Attaches a backward closure if any input is recorded and recording is on.
    func recorded(_ inputs: [Tensor], _ backward: @escaping (Tensor, [Bool]) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled else { return self }
        var any = false
        for t in inputs where t.node != nil { any = true; break }
        guard any else { return self }
        var out = self
        out.node = GradNode(parents: inputs.map { $0.node }, backward: backward)
        return out
    }

    /// Back-propagates from this tensor (a scalar unless `seed` is given), accumulating into leaves.
    /// The graph is released afterwards (like PyTorch without `retain_graph`).
    public func backward(seed: Tensor? = nil) {
        guard let root = node else { preconditionFailure("backward() on a tensor that is not recorded for autodiff") }
        let g = seed ?? {
            precondition(count == 1, "backward() without a seed needs a scalar, not shape \(shape)")
            return Tensor(repeating: 1, shape: shape)
        }()
        precondition(g.shape == shape, "seed shape \(g.shape) does not match \(shape)")
        Tensor.propagate(from: root, seed: g, onlyLeaves: nil)
    }

    /// `onlyLeaves`: when given, gradients reach only these leaves (others are left untouched).
    static func propagate(from root: GradNode, seed: Tensor, onlyLeaves: Set<ObjectIdentifier>?) {
        // Topological order by iterative depth-first search.
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Bool)] = [(root, false)]
        while let (n, expanded) = stack.popLast() {
            if expanded { order.append(n); continue }
            if !visited.insert(ObjectIdentifier(n)).inserted { continue }
            stack.append((n, true))
            for case let p? in n.parents where !visited.contains(ObjectIdentifier(p)) { stack.append((p, false)) }
        }
        noGrad {
            root.accumulate(seed)
            for n in order.reversed() {
                guard let fn = n.backward, let g = n.grad else { continue }
                let needs = n.parents.map { $0 != nil }
                let grads = fn(g, needs)
                for (p, pg) in zip(n.parents, grads) {
                    guard let p, let pg else { continue }
                    if p.isLeaf, let only = onlyLeaves, !only.contains(ObjectIdentifier(p)) { continue }
                    p.accumulate(pg)
                }
                if !n.isLeaf {
                    n.grad = nil
                    n.backward = nil
                    n.parents = []
                }
            }
        }
    }

    /// ∇ of a scalar function at `inputs`, without touching the gradients of parameters or of the
    /// inputs' own graphs (guidance gradients, gradient checks).
    public static func gradients(at inputs: [Tensor], of f: ([Tensor]) -> Tensor) -> (value: Tensor, gradients: [Tensor]) {
        withGrad {
            let leaves = inputs.map { $0.detached().requiringGrad() }
            let y = f(leaves)
            precondition(y.count == 1, "gradients(at:of:) needs a scalar function, got shape \(y.shape)")
            if let root = y.node {
                let only = Set(leaves.compactMap { $0.node.map(ObjectIdentifier.init) })
                propagate(from: root, seed: Tensor(repeating: 1, shape: y.shape), onlyLeaves: only)
            }
            let grads = zip(leaves, inputs).map { leaf, x in leaf.grad ?? Tensor(zeros: x.shape) }
            return (y.detached(), grads)
        }
    }

    /// ∇ₓ f(x) for a scalar function of one tensor.
    public static func gradient(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
        gradients(at: [x]) { f($0[0]) }.gradients[0]
    }
}
