import Testing
import TensorCore
import TestSupport

/// One differentiable op under test: input shapes, how inputs are drawn, and the function.
struct GradCase: Sendable, CustomStringConvertible {
    /// `distinct`: a shuffled grid of values 0.1 apart — sort/top-k/max are differentiable only
    /// away from ties, so no ±ε perturbation may reorder entries.
    enum Inputs: Sendable { case general, awayFromZero, positive, openUnit, distinct }
    let name: String
    let shapes: [[Int]]
    var inputs: Inputs = .general
    let f: @Sendable ([Tensor]) -> Tensor
    var description: String { name }

    func makeInputs() -> [Tensor] {
        shapes.enumerated().map { i, s in
            let seed = UInt64(17 + 31 * i)
            switch inputs {
            case .general: return checkInput(s, seed: seed)
            case .awayFromZero: return awayFromZero(s, seed: seed)
            case .positive: return checkInput(s, seed: seed, low: 0.3, high: 2)
            case .openUnit: return checkInput(s, seed: seed, low: -0.8, high: 0.8)
            case .distinct:
                let n = s.reduce(1, *)
                let values = RandomGenerator(seed: seed).permutation(n).map { Float($0) * 0.1 - Float(n) * 0.05 }
                return Tensor(values, shape: s)
            }
        }
    }
}

let elementwiseCases: [GradCase] = [
    GradCase(name: "add broadcast", shapes: [[3, 4], [4]]) { $0[0] + $0[1] },
    GradCase(name: "sub broadcast", shapes: [[3, 1], [1, 4]]) { $0[0] - $0[1] },
    GradCase(name: "mul broadcast", shapes: [[2, 3, 4], [3, 1]]) { $0[0] * $0[1] },
    GradCase(name: "div", shapes: [[3, 4], [3, 4]], inputs: .positive) { $0[0] / $0[1] },
    GradCase(name: "scalar ops", shapes: [[5]]) { (2 - $0[0] * 3) / 1.5 + 0.5 },
    GradCase(name: "neg", shapes: [[5]]) { -$0[0] },
    GradCase(name: "pow scalar", shapes: [[6]], inputs: .positive) { $0[0].pow(2.5) },
    GradCase(name: "square", shapes: [[6]]) { $0[0].squared() },
    GradCase(name: "pow tensor", shapes: [[2, 3], [3]], inputs: .positive) { $0[0].pow($0[1]) },
    GradCase(name: "exp", shapes: [[7]]) { $0[0].exp() },
    GradCase(name: "log", shapes: [[7]], inputs: .positive) { $0[0].log() },
    GradCase(name: "sqrt", shapes: [[7]], inputs: .positive) { $0[0].sqrt() },
    GradCase(name: "sin", shapes: [[7]]) { $0[0].sin() },
    GradCase(name: "cos", shapes: [[7]]) { $0[0].cos() },
    GradCase(name: "tanh", shapes: [[9]]) { $0[0].tanh() },
    GradCase(name: "atanh", shapes: [[7]], inputs: .openUnit) { $0[0].atanh() },
    GradCase(name: "sigmoid", shapes: [[9]]) { $0[0].sigmoid() },
    GradCase(name: "logSigmoid", shapes: [[9]]) { $0[0].logSigmoid() },
    GradCase(name: "softplus", shapes: [[9]]) { $0[0].softplus() },
    GradCase(name: "mish", shapes: [[9]]) { $0[0].mish() },
    GradCase(name: "silu", shapes: [[9]]) { $0[0].silu() },
    GradCase(name: "relu", shapes: [[9]], inputs: .awayFromZero) { $0[0].relu() },
    GradCase(name: "abs", shapes: [[9]], inputs: .awayFromZero) { $0[0].abs() },
    GradCase(name: "clamp", shapes: [[12]], inputs: .awayFromZero) { $0[0].clamped(min: -0.9, max: 0.7) },
    GradCase(name: "minimum", shapes: [[3, 4], [4]]) { Tensor.minimum($0[0], $0[1]) },
    GradCase(name: "maximum", shapes: [[3, 4], [3, 1]]) { Tensor.maximum($0[0], $0[1]) },
    GradCase(name: "where", shapes: [[3, 4], [3, 4], [4]], inputs: .awayFromZero) { Tensor.where($0[0] .> Tensor(0), $0[1], $0[2]) },
    GradCase(name: "broadcast to", shapes: [[3, 1]]) { $0[0].broadcast(to: [2, 3, 4]) },
]

let reductionCases: [GradCase] = [
    GradCase(name: "sum all", shapes: [[3, 4]]) { $0[0].sum() },
    GradCase(name: "sum axes keep", shapes: [[2, 3, 4]]) { $0[0].sum(axes: [0, 2], keepDims: true) },
    GradCase(name: "sum axis", shapes: [[2, 3, 4]]) { $0[0].sum(axis: 1) },
    GradCase(name: "mean", shapes: [[3, 4]]) { $0[0].mean(axis: -1) },
    GradCase(name: "variance", shapes: [[3, 5]]) { $0[0].variance(axis: 1, unbiased: true) },
    GradCase(name: "max axis", shapes: [[3, 5]], inputs: .distinct) { $0[0].max(axis: 1).values },
    GradCase(name: "logsumexp", shapes: [[3, 5]]) { $0[0].logSumExp(axis: 1) },
    GradCase(name: "logSoftmax", shapes: [[3, 5]]) { $0[0].logSoftmax(axis: 0) },
    GradCase(name: "softmax", shapes: [[2, 5]]) { $0[0].softmax(axis: 1) },
    GradCase(name: "sort", shapes: [[3, 6]], inputs: .distinct) { $0[0].sorted(axis: 1, descending: true).values },
    GradCase(name: "topK", shapes: [[4, 6]], inputs: .distinct) { $0[0].topK(3, axis: 1).values },
    GradCase(name: "normalize last axis", shapes: [[4, 6]]) { $0[0].normalizedLastAxis(eps: 1e-5) },
] + [Activation.identity, .relu, .mish, .silu, .tanh].map { act in
    // x [N, C, L] with C = 6 in 2 groups, plus per-channel weight and bias.
    GradCase(name: "group norm + \(act.rawValue)", shapes: [[2, 6, 3], [6], [6]], inputs: act == .relu ? .awayFromZero : .general) {
        $0[0].groupNormalized(groups: 2, weight: $0[1], bias: $0[2], eps: 1e-5, activation: act)
    }
}

let shapeCases: [GradCase] = [
    GradCase(name: "reshape", shapes: [[2, 6]]) { $0[0].reshaped([3, -1]) * Tensor.arange(4) },
    GradCase(name: "permute", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
    GradCase(name: "transpose", shapes: [[5, 3]]) { $0[0].transposed() },
    GradCase(name: "concat", shapes: [[2, 3], [2, 2]]) { Tensor.concat([$0[0], $0[1]], axis: 1) },
    GradCase(name: "split", shapes: [[5, 2]]) { let p = $0[0].split(sizes: [2, 3], axis: 0); return p[0].sum() * p[1] },
    GradCase(name: "slice", shapes: [[3, 6]]) { $0[0].slice(axis: 1, 1..<4) },
    GradCase(name: "gather", shapes: [[3, 4]]) { $0[0].gather(axis: 1, IntTensor([0, 3, 3, 1, 2, 0], shape: [3, 2])) },
    GradCase(name: "indexSelect", shapes: [[4, 3]]) { $0[0].indexSelect(axis: 0, [3, 1, 1]) },
    GradCase(name: "embedding", shapes: [[5, 3]]) { Tensor.embedding($0[0], IntTensor([4, 0, 4, 2], shape: [2, 2])) },
    GradCase(name: "stack", shapes: [[2, 3], [2, 3]]) { Tensor.stack([$0[0], $0[1]], axis: 1) },
    GradCase(name: "maxPool1d", shapes: [[2, 2, 8]], inputs: .distinct) { $0[0].maxPool1d(kernel: 2) },
    GradCase(name: "avgPool1d", shapes: [[2, 2, 7]]) { $0[0].avgPool1d(kernel: 3, stride: 2) },
    GradCase(name: "maxPool2d", shapes: [[1, 2, 4, 4]], inputs: .distinct) { $0[0].maxPool2d(kernel: 2) },
    GradCase(name: "avgPool2d", shapes: [[1, 2, 5, 5]]) { $0[0].avgPool2d(kernel: 3, stride: 2) },
    GradCase(name: "resizeNearest1d", shapes: [[2, 2, 5]]) { $0[0].resizeNearest1d(size: 11) },
    GradCase(name: "resizeNearest2d", shapes: [[1, 2, 3, 4]]) { $0[0].resizeNearest2d(height: 6, width: 3) },
]

let linalgCases: [GradCase] = [
    GradCase(name: "matmul", shapes: [[3, 4], [4, 5]]) { Tensor.matmul($0[0], $0[1]) },
    GradCase(name: "matmul leading axes", shapes: [[2, 3, 4], [4, 2]]) { Tensor.matmul($0[0], $0[1]) },
    GradCase(name: "batched matmul", shapes: [[2, 3, 4], [2, 4, 5]]) { Tensor.matmul($0[0], $0[1]) },
    GradCase(name: "linear no bias", shapes: [[4, 3], [5, 3]]) { Tensor.linear($0[0], weight: $0[1], bias: nil) },
] + Activation.allCases.map { act in
    GradCase(name: "linear \(act.rawValue)", shapes: [[4, 3], [5, 3], [5]], inputs: act == .relu ? .awayFromZero : .general) {
        Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: act)
    }
}

@Suite("Gradient checks: every differentiable op against central differences")
struct GradientTests {
    func check(_ c: GradCase) {
        let r = gradientCheck(c.makeInputs(), c.f)
        #expect(r.passed, "\(c.name): \(r)")
    }

    @Test(arguments: elementwiseCases) func elementwise(_ c: GradCase) { check(c) }
    @Test(arguments: reductionCases) func reductions(_ c: GradCase) { check(c) }
    @Test(arguments: shapeCases) func shapes(_ c: GradCase) { check(c) }
    @Test(arguments: linalgCases) func linalg(_ c: GradCase) { check(c) }

    @Test func largeLinearUsesSplitGemmCorrectly() {
        // Big enough that pd_sgemm splits across threads in forward and backward.
        let r = gradientCheck([checkInput([64, 48], seed: 1), checkInput([40, 48], seed: 2) * 0.2, checkInput([40], seed: 3)]) {
            Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: .mish)
        }
        #expect(r.passed, "\(r)")
    }

    /// The fused kernel equals the composed ops (normalize, scale, shift, activate) in value and gradient.
    /// Spatial sizes 5×2 (rows shorter than one 8-lane sum) and 9×5 (45 per channel: lanes and tails).
    @Test(arguments: [Activation.identity, .mish, .silu], [[5, 2], [9, 5]])
    func fusedGroupNormMatchesComposition(_ act: Activation, _ spatial: [Int]) {
        let shape = [3, 8] + spatial, n = spatial.reduce(1, *)
        let x = checkInput(shape, seed: 4), w = checkInput([8], seed: 5), b = checkInput([8], seed: 6)
        func composed(_ t: [Tensor]) -> Tensor {
            let y = t[0].reshaped([3, 4, -1]).normalizedLastAxis(eps: 1e-5).reshaped(shape)
            return act(y * t[1].reshaped([1, 8, 1, 1]) + t[2].reshaped([1, 8, 1, 1]))
        }
        func fused(_ t: [Tensor]) -> Tensor { t[0].groupNormalized(groups: 4, weight: t[1], bias: t[2], eps: 1e-5, activation: act) }
        let (v1, g1) = Tensor.gradients(at: [x, w, b]) { (fused($0) * Tensor.arange(n).reshaped(spatial)).sum() }
        let (v2, g2) = Tensor.gradients(at: [x, w, b]) { (composed($0) * Tensor.arange(n).reshaped(spatial)).sum() }
        #expect(abs(v1.item - v2.item) <= 1e-4 * max(1, abs(v2.item)))
        for (a, c) in zip(g1, g2) { #expect(maxAbsDifference(a, c) <= 1e-4 * max(1, c.abs().max().item)) }
    }

    /// The normalization's backward reads x̂ from its output's buffer: that buffer must outlive the
    /// forward even when nothing else keeps the output (here: a slice, whose backward needs no input)
    /// and the pool hands same-sized buffers to other tensors before backward runs.
    @Test func normalizationBackwardSurvivesBufferReuse() {
        let x = checkInput([16, 64], seed: 9)
        let (_, clean) = Tensor.gradients(at: [x]) { $0[0].normalizedLastAxis(eps: 1e-5).slice(axis: 1, 0..<20).sum() }
        let (_, reused) = Tensor.gradients(at: [x]) { t -> Tensor in
            let loss = t[0].normalizedLastAxis(eps: 1e-5).slice(axis: 1, 0..<20).sum()
            // Same-sized tensors filled with garbage take the pooled buffers freed since the forward.
            let garbage = (0..<8).map { _ in Tensor(repeating: 1e6, shape: [16, 64]) }
            withExtendedLifetime(garbage) {}
            return loss
        }
        #expect(maxAbsDifference(clean[0], reused[0]) == 0)
    }

    @Test func gradientAccumulatesAcrossBackwardCalls() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        (x * x).sum().backward()
        (x * 3).sum().backward()
        #expect(x.grad!.scalars == [5, 7, 9])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func noGradRecordsNothingAndDetachCuts() {
        let x = Tensor([1, 2]).requiringGrad()
        let y = noGrad { x * 2 }
        #expect(!y.requiresGrad)
        #expect(!(x.detached() * 2).requiresGrad)
        let z = noGrad { withGrad { x * 2 } }
        #expect(z.requiresGrad)
    }

    @Test func gradientsWithRespectToInputsLeaveOtherLeavesAlone() {
        let w = Tensor([2, -1]).requiringGrad()
        let x = Tensor([0.5, 3])
        let g = Tensor.gradient(at: x) { ($0 * w).sum() }
        #expect(g.scalars == [2, -1])
        #expect(w.grad == nil)
    }

    @Test func sharedSubexpressionGetsBothPaths() {
        // y = x·x + x ⇒ dy/dx = 2x + 1; the node for x is reached twice.
        let g = Tensor.gradient(at: Tensor([1.5, -2])) { x in (x * x + x).sum() }
        #expect(g.scalars == [4, -3])
    }
}
