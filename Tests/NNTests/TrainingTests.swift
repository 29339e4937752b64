import Foundation
import NN
import Testing
import TensorCore
import TestSupport

@Suite("Optimizers and training")
struct TrainingTests {
    static let gradients: [[Float]] = [[0.1, -0.2, 0.0], [0.3, 0.1, -0.5], [-0.2, 0.4, 0.25]]

    func run(_ make: (Module) -> Adam) -> [[Float]] {
        final class P: Module { let p = Parameter(Tensor([0.5, -1.0, 2.0])) }
        let m = P()
        let opt = make(m)
        return Self.gradients.map { g in
            m.p.grad = Tensor(g)
            opt.update()
            return m.p.value.scalars
        }
    }

    /// Expected values worked out from Kingma & Ba's Algorithm 1 (PyTorch's form: lr/(1 − β₁ᵗ),
    /// √v̂ + ε) on paper for step 1 (0.5 − 0.1·0.1/(0.1 + 1e-8) = 0.4000000100, …) and in plain
    /// double-precision arithmetic for steps 2–3; see the comment above each row.
    @Test func adamFirstThreeUpdatesMatchHandComputation() {
        let expected: [[Double]] = [
            [0.40000000999999896, -0.9000000049999998, 2.0],
            [0.30822190220558987, -0.8733663027186758, 2.074413680252488],
            [0.2824315228897929, -0.91909947999135, 2.0972777171203303],
        ]
        let got = run { Adam($0, learningRate: 0.1) }
        for (g, e) in zip(got, expected) { for (a, b) in zip(g, e) { #expect(abs(Double(a) - b) < 2e-6, "\(g) vs \(e)") } }
    }

    @Test func adamWDecouplesWeightDecayAndAdamAddsL2() {
        let decoupled: [[Double]] = [
            [0.39500000999999896, -0.8900000049999998, 1.98],
            [0.29927190210558985, -0.8544663026686757, 2.034613680252488],
            [0.27048880376873696, -0.8916548169146632, 2.0371315803178054],
        ]
        let l2: [[Double]] = [
            [0.40000000666666624, -0.9000000033333332, 1.9000000049999997],
            [0.3048771396509107, -0.8355117308273299, 1.926225934974955],
            [0.2645089343588007, -0.8475930240174838, 1.89011612899247],
        ]
        for (got, want) in [(run { Adam.adamW($0, learningRate: 0.1, weightDecay: 0.1) }, decoupled),
                            (run { Adam($0, learningRate: 0.1, weightDecay: 0.1) }, l2)] {
            for (g, e) in zip(got, want) { for (a, b) in zip(g, e) { #expect(abs(Double(a) - b) < 2e-6, "\(g) vs \(e)") } }
        }
    }

    /// y = sin(3x) + N(0, 0.1²): the best possible test MSE is the noise variance 0.01. The trained
    /// MLP must come within 10 % of it on 20 000 fresh noisy points (standard error of that MSE
    /// estimate ≈ 0.01·√(2/20000) = 1e-4, i.e. 1 %).
    @Test func mlpFitsToyRegressionToTheNoiseFloor() throws {
        let g = RandomGenerator(seed: 0)
        let noise: Float = 0.1
        func data(_ n: Int) -> (Tensor, Tensor) {
            let x = g.uniform([n, 1], low: -2, high: 2)
            return (x, (x * 3).sin() + g.normal([n, 1], std: noise))
        }
        let (xTrain, yTrain) = data(4096)
        let model = MLP([1, 64, 64, 1], activation: .mish, rng: g)
        let opt = Adam(model, learningRate: 3e-3)
        let sampler = MinibatchSampler(count: 4096, batchSize: 256, seed: 1)
        let schedule = LRSchedule.cosine(base: 3e-3, final: 1e-4, steps: 3000)
        try TrainingLoop(steps: 3000, logEvery: 1000, log: { _ in }).run { step in
            let idx = sampler.next()
            let (x, y) = (xTrain.indexSelect(axis: 0, idx), yTrain.indexSelect(axis: 0, idx))
            opt.learningRate = schedule(step)
            let loss = Loss.mse(model(x), y)
            opt.zeroGrad()
            loss.backward()
            opt.update()
            return ["loss": loss.item]
        }
        let (xTest, yTest) = data(20_000)
        let mse = noGrad { Loss.mse(model(xTest), yTest).item }
        let floor = noise * noise
        #expect(mse >= floor * 0.97, "test MSE \(mse) below the noise floor: the test data are wrong")
        #expect(mse <= floor * 1.10, "test MSE \(mse) is not within 10 % of the noise floor \(floor)")
    }

    @Test func nanLossStopsWithTheStepNumber() {
        #expect(throws: TrainingError.nonFinite(step: 3, metric: "loss", value: .infinity)) {
            try TrainingLoop(steps: 10, log: { _ in }).run { s in ["loss": s == 3 ? .infinity : 1] }
        }
        do {
            try TrainingLoop(steps: 10, log: { _ in }).run { s in ["loss": s == 5 ? .nan : 1] }
            Issue.record("NaN did not stop training")
        } catch let TrainingError.nonFinite(step, metric, _) {
            #expect(step == 5 && metric == "loss")
        } catch { Issue.record("unexpected \(error)") }
    }

    /// A finite loss with an infinite gradient (√x at x = 0): Adam leaves the weights alone and the
    /// loop stops at that step naming the parameter, so no checkpoint of the bad step is written.
    @Test func nonFiniteGradientStopsNamingTheParameter() {
        let model = MLP([1, 1], activation: .relu, rng: RandomGenerator(seed: 1))
        let optimizer = Adam(model, learningRate: 0.1)
        var saved: [Int] = []
        do {
            try TrainingLoop(steps: 10, checkpointEvery: 1, log: { _ in }).run(checkpoint: { saved.append($0) }) { s in
                let x = Tensor([s == 2 ? 0 : 1], shape: [1, 1])
                // relu(w·x + b)² + √(x·w²) — the square root of 0 has an infinite derivative.
                let w = model.namedParameters().first { $0.0.hasSuffix("weight") }!.1.tensor
                let loss = model(x).squared().sum() + (x * w.squared()).sqrt().sum()
                optimizer.zeroGrad()
                loss.backward()
                optimizer.update()
                return ["loss": loss.item]
            }
            Issue.record("an infinite gradient did not stop training")
        } catch let TrainingError.nonFinite(step, metric, _) {
            #expect(step == 2 && metric.hasPrefix("gradient of ") && saved == [1, 2])
            #expect(model.parameters().allSatisfy { $0.value.isFinite })
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func trainingLoopLogsEveryKSteps() throws {
        var lines: [String] = []
        try TrainingLoop(steps: 10, logEvery: 4, log: { lines.append($0) }).run { s in ["loss": Float(s)] }
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("step 4/10") && lines[0].contains("loss 1.5"))
    }

    @Test func gradientClippingScalesToMaxNorm() {
        let p = Parameter(Tensor([0, 0]))
        p.grad = Tensor([3, 4])
        let norm = clipGradientNorm([p], maxNorm: 1)
        #expect(norm == 5)
        #expect(abs(p.grad!.scalars[0] - 0.6) < 1e-5 && abs(p.grad!.scalars[1] - 0.8) < 1e-5)
        p.grad = Tensor([0.3, 0.4])
        clipGradientNorm([p], maxNorm: 1)
        #expect(p.grad!.scalars == [0.3, 0.4])
    }

    @Test func emaAndPolyakShareOneUpdate() {
        let g = RandomGenerator(seed: 1)
        let model = MLP([2, 3, 1], rng: g)
        let ema = EMA(model, decay: 0.9)
        let before = ema.average.layers[0].weight.value
        model.layers[0].weight.update { for i in 0..<$0.count { $0[i] += 1 } }
        ema.update(from: model)
        let after = ema.average.layers[0].weight.value
        #expect(maxAbsDifference(after, before + 0.1) < 1e-6)
        #expect(ema.average.parameters().allSatisfy { !$0.requiresGrad })
    }

    @Test func learningRateSchedules() {
        #expect(LRSchedule.constant(0.1)(500) == 0.1)
        let cos = LRSchedule.cosine(base: 1, final: 0, steps: 100)
        #expect(cos(0) == 1 && abs(cos(50) - 0.5) < 1e-6 && cos(100) == 0 && cos(200) == 0)
        // PGD's schedule: 2e-4 → 2e-3 linearly over 10 steps, then cosine to 0 over 90.
        let pgd = LRSchedule.warmup(start: 2e-4, steps: 10, then: .cosine(base: 2e-3, final: 0, steps: 90))
        #expect(pgd(0) == 2e-4 && abs(pgd(5) - 1.1e-3) < 1e-9 && pgd(10) == 2e-3 && pgd(100) == 0)
        let roundTrip = try? JSONDecoder().decode(LRSchedule.self, from: JSONEncoder().encode(pgd))
        #expect(roundTrip == pgd)
    }

    @Test func samplerCoversEachRowOncePerEpochAndResumes() {
        let s = MinibatchSampler(count: 10, batchSize: 3, seed: 5)
        let epoch0 = (0..<3).flatMap { _ in s.next() }
        #expect(Set(epoch0).count == 9)
        let next = s.next() // new epoch: dropLast skipped the 10th row
        #expect(s.epoch == 1)
        let resumed = MinibatchSampler(count: 10, batchSize: 3, seed: 5)
        resumed.restore(epoch: 1, offset: 0)
        #expect(resumed.next() == next)
        let all = MinibatchSampler(count: 10, batchSize: 4, shuffle: false, dropLast: false, seed: 0)
        #expect(all.next() == [0, 1, 2, 3] && all.next() == [4, 5, 6, 7] && all.next() == [8, 9])
    }

    @Test func lossesMatchClosedForms() {
        let x = Tensor([[0.5, -1]].flatMap { $0 }, shape: [1, 2])
        let ll = Loss.gaussianLogLikelihood(x, mean: Tensor([0, 0]), logStd: Tensor([0, Foundation.log(2)])).item
        let expected = -0.5 * 0.25 - 0.5 * 0.25 - log(2) - log(2 * Double.pi)
        #expect(abs(Double(ll) - expected) < 1e-5)
        let logits = Tensor([1, 2, 3, 1, 1, 1], shape: [2, 3])
        let ce = Loss.crossEntropy(logits: logits, labels: IntTensor([2, 0])).item
        let want = (-(3 - log(exp(1.0) + exp(2) + exp(3))) + log(3.0)) / 2
        #expect(abs(Double(ce) - want) < 1e-5)
        #expect(Loss.mse(Tensor([1, 2]), Tensor([0, 0]), weights: Tensor([1, 0])).item == 0.5)
        for (name, f) in [("gaussian ll", { (t: [Tensor]) in Loss.gaussianLogLikelihood(t[0], mean: t[1], logStd: t[2]) }),
                          ("cross entropy", { (t: [Tensor]) in Loss.crossEntropy(logits: t[0] + t[1] + t[2], labels: IntTensor([1, 0, 2])) })] {
            let r = gradientCheck([checkInput([3, 3], seed: 1), checkInput([3, 3], seed: 2), checkInput([3, 3], seed: 3, low: -0.5, high: 0.5)], f)
            #expect(r.passed, "\(name): \(r)")
        }
    }

    /// Expectile regression weighs u = target − prediction by |τ − 1[u < 0]| (IQL Eq. 5); the reverse
    /// form by |τ − 1[u > 0]|. Values by hand, gradients against central differences (u is never
    /// near 0 in the check, where the weight jumps).
    @Test func expectileLossesMatchClosedForms() {
        let prediction = Tensor([0, 0, 1, 3]), target = Tensor([2, -1, 1.5, 2])
        // u = 2, −1, 0.5, −1: weights τ = 0.9 → 0.9, 0.1, 0.9, 0.1; reverse → 0.1, 0.9, 0.1, 0.9.
        let e = Loss.expectile(prediction, target: target, tau: 0.9).item
        let r = Loss.reverseExpectile(prediction, target: target, tau: 0.9).item
        #expect(abs(e - (0.9 * 4 + 0.1 * 1 + 0.9 * 0.25 + 0.1 * 1) / 4) < 1e-6)
        #expect(abs(r - (0.1 * 4 + 0.9 * 1 + 0.1 * 0.25 + 0.9 * 1) / 4) < 1e-6)
        #expect(abs(Loss.expectile(prediction, target: target, tau: 0.5).item - Loss.mse(prediction, target).item / 2) < 1e-6)
        let p0 = Tensor([0.3, -1.2, 2.0, 0.7, -0.4, 1.1]), t0 = Tensor([1.5, 0.4, -0.9, 2.2, -1.8, 0.1])
        for f in [{ (t: [Tensor]) in Loss.expectile(t[0], target: t0, tau: 0.7) }, { (t: [Tensor]) in Loss.reverseExpectile(t[0], target: t0, tau: 0.7) }] {
            let check = gradientCheck([p0], f)
            #expect(check.passed, "\(check)")
        }
    }
}
