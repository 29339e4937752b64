import Foundation
import TensorCore

/// Base class of every network piece (as MLX Swift's `Module`): parameters and sub-modules are
/// stored properties, discovered by reflection under dotted names such as `blocks.0.linear.weight`,
/// so no layer lists its own parameters.
open class Module {
    public private(set) var isTraining = true
    /// `namedParameters()` memoized: reflection (Mirror) costs more than a small network's Polyak
    /// update or freeze/unfreeze, which read the list every step. Children and parameters are
    /// stored `let`s, fixed after init (docs/conventions.md), so the list never goes stale; a
    /// module with a `lazy var` child is reflected every time instead.
    private var parameterCache: [(String, Parameter)]?
    private let parameterCacheLock = NSLock()

    public init() {}

    /// Children in declaration order: parameters, modules, arrays of either, optionals of either.
    func reflectedChildren() -> [(String, Any)] {
        var lazy = false
        return reflectedChildren(hasLazy: &lazy)
    }

    /// `hasLazy`: a `lazy var` child was seen (its value can appear later, so nothing is memoized).
    private func reflectedChildren(hasLazy: inout Bool) -> [(String, Any)] {
        var mirrors: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: self)
        while let current = m { mirrors.append(current); m = current.superclassMirror }
        var out: [(String, Any)] = []
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("$__lazy_storage_$_") { label.removeFirst("$__lazy_storage_$_".count); hasLazy = true }
                if label.hasPrefix("_") { label.removeFirst() }
                out.append((label, child.value))
            }
        }
        return out
    }

    /// Direct sub-modules with their names.
    public func namedChildren() -> [(String, Module)] {
        var out: [(String, Module)] = []
        for (name, value) in reflectedChildren() {
            if let m = value as? Module { out.append((name, m)) }
            else if let list = value as? [Module] { for (i, m) in list.enumerated() { out.append(("\(name).\(i)", m)) } }
        }
        return out
    }

    /// Every parameter of this module and its descendants, by dotted path, in declaration order.
    public func namedParameters() -> [(String, Parameter)] { memoizedParameters().list }

    /// `fixed`: no `lazy var` child here or below, so the list is final and kept.
    private func memoizedParameters() -> (list: [(String, Parameter)], fixed: Bool) {
        parameterCacheLock.lock()
        defer { parameterCacheLock.unlock() }
        if let parameterCache { return (parameterCache, true) }
        var lazy = false, fixed = true
        var out: [(String, Parameter)] = []
        func add(_ module: Module, as prefix: String) {
            let (list, final) = module.memoizedParameters()
            fixed = fixed && final
            out += list.map { ("\(prefix).\($0.0)", $0.1) }
        }
        for (name, value) in reflectedChildren(hasLazy: &lazy) {
            if let p = value as? Parameter { out.append((name, p)) }
            else if let list = value as? [Parameter] { for (i, p) in list.enumerated() { out.append(("\(name).\(i)", p)) } }
            else if let m = value as? Module { add(m, as: name) }
            else if let list = value as? [Module] { for (i, m) in list.enumerated() { add(m, as: "\(name).\(i)") } }
        }
        fixed = fixed && !lazy
        if fixed { parameterCache = out }
        return (out, fixed)
    }

    public func parameters() -> [Parameter] { namedParameters().map { $0.1 } }

    /// Parameters that an optimizer should update.
    public func trainableParameters() -> [(String, Parameter)] { namedParameters().filter { $0.1.requiresGrad } }

    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    /// Training mode (dropout active) for this module and all descendants.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, c) in namedChildren() { c.train(on) }
    }

    /// Evaluation mode (dropout off).
    public func eval() { train(false) }

    /// Stops gradients to every parameter (target networks, EMA copies, reference models).
    public func freeze() { for p in parameters() { p.requiresGrad = false } }

    public func unfreeze() { for p in parameters() { p.requiresGrad = true } }

    public func zeroGrad() { for p in parameters() { p.zeroGrad() } }

    /// Parameter values by name.
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters().map { ($0.0, $0.1.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Loads values by name; every parameter must be present with its shape. With `strict`, names
    /// the module does not have are an error too.
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws {
        let params = namedParameters()
        for (name, p) in params {
            guard let v = stateDict[name] else { throw SafeTensorsError.missingTensor(name) }
            guard v.shape == p.shape else { throw SafeTensorsError.shapeMismatch(name: name, expected: p.shape, found: v.shape) }
        }
        if strict {
            let known = Set(params.map { $0.0 })
            if let extra = stateDict.keys.sorted().first(where: { !known.contains($0) }) {
                throw SafeTensorsError.badEntry(name: extra, reason: "the module has no parameter of that name")
            }
        }
        for (name, p) in params { p.value = stateDict[name]! }
    }

    /// Copies every parameter value from a module of the same structure.
    public func copyParameters(from other: Module) {
        let mine = namedParameters(), theirs = other.namedParameters()
        precondition(mine.count == theirs.count, "modules differ in structure (\(mine.count) vs \(theirs.count) parameters)")
        for ((n1, p), (n2, q)) in zip(mine, theirs) {
            precondition(n1 == n2 && p.shape == q.shape, "parameter \(n1) \(p.shape) does not match \(n2) \(q.shape)")
            p.value = q.value
        }
    }
}

/// A module with one input and one output.
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// A module rebuildable from a Codable config: checkpoints store the config in their metadata, so
/// loading needs no hyperparameters from the user, and `clone()` works for any such module.
public protocol ConfigurableModule: Module {
    associatedtype Config: Codable & Sendable
    var config: Config { get }
    init(config: Config, rng: RandomGenerator)
}

extension ConfigurableModule {
    /// A deep copy with its own parameters (target networks, EMA weights, reference models).
    public func clone() -> Self {
        let copy = Self(config: config, rng: RandomGenerator(seed: 0))
        copy.copyParameters(from: self)
        for ((_, p), (_, q)) in zip(copy.namedParameters(), namedParameters()) { p.requiresGrad = q.requiresGrad }
        copy.train(isTraining)
        return copy
    }
}
