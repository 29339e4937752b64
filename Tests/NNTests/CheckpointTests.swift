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
        let state = TrainingState(step: o2.step, rng: r2.state, tensors: o2.stateTensors(),
                                  values: ["sampler.epoch": String(s2.epoch), "sampler.offset": String(s2.offset)])
        try Checkpoint.save(m2, to: url, training: state)

        let (m3, _, training) = try Checkpoint.load(MLP.self, from: url)
        let t = try #require(training)
        let o3 = Adam(m3, learningRate: 1e-2)
        try o3.loadState(t.tensors, step: t.step)
        let r3 = RandomGenerator(state: t.rng)
        let s3 = MinibatchSampler(count: 64, batchSize: 16, seed: 4)
        s3.restore(epoch: Int(t.values["sampler.epoch"]!)!, offset: Int(t.values["sampler.offset"]!)!)
        train(model: m3, opt: o3, rng: r3, sampler: s3, steps: 10..<20)

        for ((n, a), (_, b)) in zip(m1.namedParameters(), m3.namedParameters()) {
            #expect(a.value.scalars == b.value.scalars, "\(n) differs after resume")
        }
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
