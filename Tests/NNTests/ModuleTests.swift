import Foundation
import NN
import Testing
import TensorCore
import TestSupport

final class Tower: Module {
    let embed: SinusoidalEmbedding
    let blocks: [ResidualMLPBlock]
    let head: Linear
    let extra: Parameter
    let optionalNorm: LayerNorm?

    init(rng: RandomGenerator) {
        embed = SinusoidalEmbedding(8)
        blocks = (0..<2).map { _ in ResidualMLPBlock(config: .init(width: 8, hidden: 16, dropout: 0.5), rng: rng) }
        head = Linear(8, 2, rng: rng)
        extra = Parameter(Tensor([1, 2]))
        optionalNorm = LayerNorm(8)
    }
}

/// A user's module with a child made on first use: its parameter list must not be memoized early.
final class LazyHead: Module {
    let body = Linear(3, 4, rng: RandomGenerator(seed: 1))
    lazy var head = Linear(4, 2, rng: RandomGenerator(seed: 2))
}

final class Wrapper: Module {
    let inner = LazyHead()
}

@Suite("Modules")
struct ModuleTests {
    /// The memoized list is the same objects as reflection finds, and a `lazy var` child (here or in a
    /// descendant) appears once it exists, because such modules are reflected every time.
    @Test func parameterListIsMemoizedOnlyWhenFinal() {
        let tower = Tower(rng: RandomGenerator(seed: 3))
        let first = tower.namedParameters(), second = tower.namedParameters()
        #expect(first.map(\.0) == second.map(\.0) && zip(first, second).allSatisfy { $0.1 === $1.1 })
        let wrapper = Wrapper()
        #expect(wrapper.namedParameters().map(\.0) == ["inner.body.weight", "inner.body.bias"])
        _ = wrapper.inner.head
        #expect(wrapper.namedParameters().map(\.0) == ["inner.body.weight", "inner.body.bias", "inner.head.weight", "inner.head.bias"])
    }

    @Test func parametersAreDiscoveredByName() {
        let names = Tower(rng: RandomGenerator(seed: 1)).namedParameters().map { $0.0 }
        #expect(names == [
            "blocks.0.norm.weight", "blocks.0.norm.bias", "blocks.0.expand.weight", "blocks.0.expand.bias",
            "blocks.0.project.weight", "blocks.0.project.bias",
            "blocks.1.norm.weight", "blocks.1.norm.bias", "blocks.1.expand.weight", "blocks.1.expand.bias",
            "blocks.1.project.weight", "blocks.1.project.bias",
            "head.weight", "head.bias", "extra", "optionalNorm.weight", "optionalNorm.bias",
        ])
        let mlp = MLP([3, 4, 2], rng: RandomGenerator(seed: 0))
        #expect(mlp.namedParameters().map { $0.0 } == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        #expect(mlp.parameterCount == 3 * 4 + 4 + 4 * 2 + 2)
    }

    @Test func trainEvalReachesDescendants() {
        let t = Tower(rng: RandomGenerator(seed: 1))
        t.eval()
        #expect(!t.blocks[1].dropout!.isTraining)
        t.train()
        #expect(t.blocks[0].dropout!.isTraining)
    }

    @Test func cloneIsDeepAndFreezeStopsGradients() {
        let g = RandomGenerator(seed: 2)
        let mlp = MLP([3, 5, 1], rng: g)
        let copy = mlp.clone()
        let x = g.normal([4, 3])
        #expect(copy(x).scalars == mlp(x).scalars)
        copy.layers[0].weight.update { $0[0] += 1 }
        #expect(copy(x).scalars != mlp(x).scalars)
        copy.freeze()
        let loss = (copy(x).sum() + mlp(x).sum())
        loss.backward()
        #expect(copy.parameters().allSatisfy { $0.grad == nil })
        #expect(mlp.parameters().allSatisfy { $0.grad != nil })
    }

    @Test func dropoutKeepsTheMeanAndIsIdentityInEval() {
        let d = Dropout(0.3, rng: RandomGenerator(seed: 3))
        let x = Tensor(ones: [100_000])
        let y = d(x).scalars
        let zeros = Double(y.filter { $0 == 0 }.count) / 100_000
        #expect(abs(zeros - 0.3) < 5 * sqrt(0.3 * 0.7 / 100_000))
        #expect(abs(Double(y.reduce(0, +)) / 100_000 - 1) < 0.01)
        d.eval()
        #expect(d(x).scalars == x.scalars)
    }

    @Test func layerGradients() {
        let g = RandomGenerator(seed: 4)
        let ln = LayerNorm(6)
        ln.weight!.value = g.normal([6])
        ln.bias!.value = g.normal([6])
        let gn = GroupNorm(groups: 2, channels: 4)
        gn.weight!.value = g.normal([4])
        let ff = FourierFeatures(config: .init(dimension: 6), rng: g)
        let block = ResidualMLPBlock(config: .init(width: 6, hidden: 12, dropout: 0), rng: g)
        let cases: [(String, [Tensor], ([Tensor]) -> Tensor)] = [
            ("LayerNorm", [checkInput([3, 6], seed: 1), ln.weight!.value, ln.bias!.value],
             { Tensor.linear($0[0].normalizedLastAxis(eps: 1e-5) * $0[1] + $0[2], weight: Tensor(ones: [1, 6]), bias: nil) }),
            ("LayerNorm module", [checkInput([3, 6], seed: 2)], { ln($0[0]) }),
            ("GroupNorm module", [checkInput([2, 4, 5], seed: 3)], { gn($0[0]) }),
            ("Fourier features", [checkInput([4], seed: 4, low: -0.5, high: 0.5)], { ff($0[0]) }),
            ("Sinusoidal", [checkInput([4], seed: 5)], { SinusoidalEmbedding(8)($0[0]) }),
            ("Residual block", [checkInput([3, 6], seed: 6)], { block($0[0]) }),
        ]
        for (name, inputs, f) in cases {
            let r = gradientCheck(inputs, f)
            #expect(r.passed, "\(name): \(r)")
        }
        // Parameter gradients reach every parameter of the block.
        block.zeroGrad()
        block(checkInput([3, 6], seed: 7)).squared().sum().backward()
        #expect(block.parameters().allSatisfy { $0.grad != nil })
    }

    @Test func sinusoidalMatchesDiffuserFormula() {
        let e = SinusoidalEmbedding(8)(Tensor([3])).scalars
        let half = 4
        for k in 0..<half {
            let f = exp(-Double(k) * log(10000) / Double(half - 1))
            #expect(abs(Double(e[k]) - sin(3 * f)) < 1e-6)
            #expect(abs(Double(e[k + half]) - cos(3 * f)) < 1e-6)
        }
    }

    @Test func loadRejectsShapeMismatchAndUnknownNames() {
        let m = MLP([2, 3, 1], rng: RandomGenerator(seed: 0))
        var sd = m.stateDict()
        sd["layers.0.weight"] = Tensor(zeros: [2, 3])
        #expect(throws: SafeTensorsError.shapeMismatch(name: "layers.0.weight", expected: [3, 2], found: [2, 3])) { try m.load(stateDict: sd) }
        sd = m.stateDict()
        sd["layers.9.weight"] = Tensor(zeros: [1])
        #expect(throws: SafeTensorsError.self) { try m.load(stateDict: sd) }
        sd = m.stateDict()
        sd.removeValue(forKey: "layers.1.bias")
        #expect(throws: SafeTensorsError.missingTensor("layers.1.bias")) { try m.load(stateDict: sd) }
    }
}
