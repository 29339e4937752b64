import Foundation
import NN
import Testing
import TensorCore
import TestSupport

@Suite("Checkpoints")
struct CheckpointTests {
    static func temp(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("pd-ckpt-\(UUID().uuidString)-\(name)")
    }

    @Test func modelLoadsFromItsOwnConfig() throws {
        let g = RandomGenerator(seed: 9)
        let model = MLP([4, 8, 8, 2], activation: .mish, outputActivation: .tanh, initializer: .xavierUniform, rng: g)
        let url = Self.temp("m.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(model, to: url, metadata: ["command": "test"])
        let (loaded, meta, training) = try Checkpoint.load(MLP.self, from: url)
        #expect(loaded.config == model.config)
        #expect(meta["command"] == "test" && training == nil)
        let x = g.normal([5, 4])
        #expect(loaded(x).scalars == model(x).scalars)
    }

    /// A diverged model is never saved: the error names the parameter (or state tensor) and the
    /// last good file stays as it was.
    @Test func nonFiniteWeightsAreNeverWritten() throws {
        let model = MLP([3, 4, 1], activation: .relu, rng: RandomGenerator(seed: 2))
        let url = Self.temp("good.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(model, to: url)
        let good = try Data(contentsOf: url)
        model.namedParameters()[1].1.update { $0[2] = .nan }
        #expect(throws: Checkpoint.Error.nonFinite("parameter \(model.namedParameters()[1].0)")) { try Checkpoint.save(model, to: url) }
        #expect(try Data(contentsOf: url) == good)
        model.namedParameters()[1].1.update { $0[2] = 0 }
        let state = TrainingState(step: 3, rng: RandomState(seed: 0, counter: 0), tensors: ["optimizer.m": Tensor([1, .infinity])])
        #expect(throws: Checkpoint.Error.nonFinite("training state optimizer.m")) { try Checkpoint.save(model, to: url, training: state) }
        #expect(try Data(contentsOf: url) == good)
    }

    /// Training 2N steps straight equals N steps, a save, a load into fresh objects, and N more —
    /// bit for bit (optimizer moments, step, RNG state and sampler position are restored).
    @Test func resumedTrainingEqualsUninterruptedTraining() throws {
        let data = RandomGenerator(seed: 1)
        let x = data.normal([64, 3]), y = (x.sum(axis: 1, keepDims: true)).sin()
        let url = Self.temp("resume.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }

        func train(model: MLP, opt: Adam, rng: RandomGenerator, sampler: MinibatchSampler, steps: Range<Int>) {
            for _ in steps {
                let idx = sampler.next()
                let noise = rng.normal([idx.count, 1], std: 0.01)
                let loss = Loss.mse(model(x.indexSelect(axis: 0, idx)), y.indexSelect(axis: 0, idx) + noise)
                opt.zeroGrad()
                loss.backward()
                opt.update()
            }
        }
        func fresh() -> (MLP, Adam, RandomGenerator, MinibatchSampler) {
            let m = MLP([3, 16, 1], activation: .silu, rng: RandomGenerator(seed: 2))
            return (m, Adam(m, learningRate: 1e-2), RandomGenerator(seed: 3), MinibatchSampler(count: 64, batchSize: 16, seed: 4))
        }

        let (m1, o1, r1, s1) = fresh()
        train(model: m1, opt: o1, rng: r1, sampler: s1, steps: 0..<20)

        let (m2, o2, r2, s2) = fresh()
        train(model: m2, opt: o2, rng: r2, sampler: s2, steps: 0..<10)
        var state = TrainingState(step: o2.step, rng: r2.state)
        state.save([("optimizer", o2), ("sampler", s2), ("noise", r2)])
        try Checkpoint.save(m2, to: url, training: state)

        let (m3, _, training) = try Checkpoint.load(MLP.self, from: url)
        let t = try #require(training)
        let o3 = Adam(m3, learningRate: 1e-2)
        let r3 = RandomGenerator(seed: 99)
        let s3 = MinibatchSampler(count: 64, batchSize: 16, seed: 4)
        try t.restore([("optimizer", o3), ("sampler", s3), ("noise", r3)])
        #expect(o3.step == o2.step && r3.state == r2.state && s3.epoch == s2.epoch && s3.offset == s2.offset)
        train(model: m3, opt: o3, rng: r3, sampler: s3, steps: 10..<20)

        for ((n, a), (_, b)) in zip(m1.namedParameters(), m3.namedParameters()) {
            #expect(a.value.scalars == b.value.scalars, "\(n) differs after resume")
        }
    }

    /// A model with dropout resumes bit-identically: Dropout's generator, EMA weights and the
    /// optimizer travel in the checkpoint through the one `Resumable` mechanism.
    @Test func dropoutModelWithEMAResumesBitIdentically() throws {
        let rng = RandomGenerator(seed: 5)
        let x = rng.normal([32, 2]), t = rng.normal([32]), target = rng.normal([32, 2])
        let url = Self.temp("dropout-resume.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        func fresh() -> (ResidualDropoutNet, Adam, EMA<ResidualDropoutNet>) {
            let m = ResidualDropoutNet(config: .init(), rng: RandomGenerator(seed: 6))
            return (m, Adam(m, learningRate: 1e-2), EMA(m, decay: 0.9))
        }
        func train(_ m: ResidualDropoutNet, _ o: Adam, _ e: EMA<ResidualDropoutNet>, steps: Int) {
            for _ in 0..<steps {
                let loss = Loss.mse(m(x, t), target)
                o.zeroGrad()
                loss.backward()
                o.update()
                e.update(from: m)
            }
        }
        let (m1, o1, e1) = fresh()
        train(m1, o1, e1, steps: 12)

        let (m2, o2, e2) = fresh()
        train(m2, o2, e2, steps: 5)
        var state = TrainingState(step: 5, rng: rng.state)
        state.save([("optimizer", o2), ("ema", e2)])
        try Checkpoint.save(m2, to: url, training: state)
        let (m3, _, saved) = try Checkpoint.load(ResidualDropoutNet.self, from: url)
        let s = try #require(saved)
        let o3 = Adam(m3, learningRate: 1e-2), e3 = EMA(m3, decay: 0.9)
        try s.restore([("optimizer", o3), ("ema", e3)])
        train(m3, o3, e3, steps: 7)

        for ((n, a), (_, b)) in zip(m1.namedParameters() + e1.average.namedParameters(), m3.namedParameters() + e3.average.namedParameters()) {
            #expect(a.value.scalars == b.value.scalars, "\(n) differs after resume")
        }
        // The generator is found by reflection and its position travels with the checkpoint.
        let (m4, _, _) = try Checkpoint.load(ResidualDropoutNet.self, from: url)
        #expect(m4.namedGenerators().map(\.0) == ["dropout.generator"])
        #expect(m4.dropout.generator.state == m2.dropout.generator.state && m2.dropout.generator.state.counter > 0)
    }

    func write(_ tensors: [String: SafeTensor], metadata: [String: String]) throws -> URL {
        let url = Self.temp("bad.safetensors")
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(to: url)
        return url
    }

    @Test func mismatchesGiveClearErrors() throws {
        let model = MLP([2, 3, 1], rng: RandomGenerator(seed: 0))
        let good = Self.temp("good.safetensors")
        defer { try? FileManager.default.removeItem(at: good) }
        try Checkpoint.save(model, to: good)
        let file = try SafeTensorsFile(contentsOf: good)

        // [2, 3] holds as many bytes as [3, 2]: the file is valid, only the shape is wrong.
        var shape = file
        shape.tensors["layers.0.weight"] = SafeTensor(Tensor(zeros: [2, 3]))
        let u1 = try write(shape.tensors, metadata: file.metadata)
        #expect(throws: SafeTensorsError.shapeMismatch(name: "layers.0.weight", expected: [3, 2], found: [2, 3])) { try Checkpoint.load(MLP.self, from: u1) }

        var dtype = file
        dtype.tensors["layers.1.bias"] = SafeTensor(int64: [1], shape: [1])
        let u2 = try write(dtype.tensors, metadata: file.metadata)
        #expect(throws: SafeTensorsError.dtypeMismatch(name: "layers.1.bias", expected: "F32", found: "I64")) { try Checkpoint.load(MLP.self, from: u2) }

        var missing = file
        missing.tensors.removeValue(forKey: "layers.1.weight")
        let u3 = try write(missing.tensors, metadata: file.metadata)
        #expect(throws: SafeTensorsError.missingTensor("layers.1.weight")) { try Checkpoint.load(MLP.self, from: u3) }

        let u4 = try write(file.tensors, metadata: [:])
        #expect(throws: Checkpoint.Error.self) { try Checkpoint.load(MLP.self, from: u4) }

        #expect(throws: Checkpoint.Error.wrongModel(expected: "Linear", found: "MLP")) { try Checkpoint.load(Linear.self, from: good) }

        var badConfig = file.metadata
        badConfig["config"] = "{\"sizes\": \"many\"}"
        let u5 = try write(file.tensors, metadata: badConfig)
        #expect(throws: Checkpoint.Error.self) { try Checkpoint.load(MLP.self, from: u5) }

        let truncated = Self.temp("trunc.safetensors")
        try Data(contentsOf: good).prefix(100).write(to: truncated)
        #expect(throws: SafeTensorsError.self) { try Checkpoint.load(MLP.self, from: truncated) }
        for u in [u1, u2, u3, u4, u5, truncated] { try? FileManager.default.removeItem(at: u) }
    }

    @Test func sameSeedSameTraining() {
        func run() -> [Float] {
            let g = RandomGenerator(seed: 12)
            let m = MLP([3, 32, 32, 1], activation: .mish, rng: g)
            let opt = Adam(m, learningRate: 1e-3)
            for _ in 0..<5 {
                let x = g.normal([300, 3])
                let loss = Loss.mse(m(x), x.sum(axis: 1, keepDims: true))
                opt.zeroGrad(); loss.backward(); opt.update()
            }
            return m.layers[1].weight.value.scalars
        }
        #expect(run() == run())
    }
}

/// A small network with dropout (as FISOR's residual blocks) for the resume test.
final class ResidualDropoutNet: Module, ConfigurableModule {
    struct Config: Codable, Sendable, Equatable { var width = 16 }
    let config: Config
    let input: Linear
    let dropout: Dropout
    let output: Linear
    init(config: Config, rng: RandomGenerator) {
        self.config = config
        input = Linear(3, config.width, activation: .mish, rng: rng)
        dropout = Dropout(0.3, rng: rng)
        output = Linear(config.width, 2, rng: rng)
    }
    func callAsFunction(_ x: Tensor, _ t: Tensor) -> Tensor {
        output(dropout(input(Tensor.concat([x, t.reshaped([t.count, 1])], axis: 1))))
    }
}
