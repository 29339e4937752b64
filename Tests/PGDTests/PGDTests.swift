import Diffusion
import Foundation
import NN
import OfflineRL
@testable import PGD
import Testing
import TensorCore

@Suite("Policy-guided diffusion")
struct PGDTests {
    nonisolated(unsafe) static let data: OfflineDataset = try! DataCollection.collect(environment: "pendulum", quality: .mixed, steps: 2400, seed: 1)
    static let actionSpace = Box(low: [-2], high: [2])

    static func layout(_ transform: TrajectoryLayout.ActionTransform = .atanh) -> TrajectoryLayout {
        try! TrajectoryLayout(dataset: data, actionSpace: actionSpace, horizon: 8, actionTransform: transform)
    }

    static func policy(_ algorithm: AgentAlgorithm) -> AgentPolicy {
        let networks = AgentNetworks(config: .init(algorithm: algorithm, observationDim: 3, actionDim: 1, hidden: [16, 16]), rng: RandomGenerator(seed: 4))
        if let logStd = networks.logStd { logStd.value = Tensor([-0.5]) }
        return AgentPolicy(networks: networks, observationNormalizer: .zScore(data.observations), actionMap: .box(low: [-2], high: [2]))
    }

    /// The guidance gradient (closed form and autodiff) equals central differences of Σₜ log π(aₜ|sₜ)
    /// with respect to the action channels, and is zero on every other channel.
    @Test(arguments: [(AgentAlgorithm.td3bc, TrajectoryLayout.ActionTransform.atanh), (.iql, .atanh), (.iql, .identity)])
    func guidanceGradientEqualsFiniteDifferences(_ algorithm: AgentAlgorithm, _ transform: TrajectoryLayout.ActionTransform) {
        let layout = Self.layout(transform)
        let x = RandomGenerator(seed: 5).normal([2, 8, layout.width], std: 0.8)
        var guidance = PolicyGuidance(layout: layout, policy: Self.policy(algorithm))
        let closed = guidance.gradient(x: x, level: .sigma(1), x0Estimate: x).scalars
        guidance.closedForm = false
        let auto = guidance.gradient(x: x, level: .sigma(1), x0Estimate: x).scalars
        let action = layout.channels.range(of: TrajectoryLayout.action)!
        let h: Float = 1e-2
        for i in 0..<x.count {
            guard action.contains(i % layout.width) else {
                #expect(closed[i] == 0 && auto[i] == 0)
                continue
            }
            var plus = x.scalars, minus = x.scalars
            plus[i] += h
            minus[i] -= h
            let f = { (v: [Float]) in noGrad { guidance.logLikelihood(Tensor(v, shape: x.shape)).sum().item } }
            let fd = (f(plus) - f(minus)) / (2 * h)
            #expect(abs(closed[i] - fd) <= 2e-2 * max(1, abs(fd)), "closed form \(closed[i]) vs \(fd)")
            #expect(abs(auto[i] - closed[i]) <= 1e-4 * max(1, abs(closed[i])), "autodiff \(auto[i]) vs closed \(closed[i])")
        }
        // Through the sampler's configuration, only action channels move.
        let g = guidance.config(lambda: 1).gradient(x: x, level: .sigma(1), x0Estimate: x).scalars
        for i in 0..<x.count where !action.contains(i % layout.width) { #expect(g[i] == 0) }
    }

    /// The trajectory model trains (EDM and discrete), resumes bit-identically, samples guided and
    /// unguided windows; λ = 0 with a policy equals no policy bit for bit; a positive λ raises the
    /// policy's log-likelihood of the sampled actions.
    @Test func trainResumeAndSample() throws {
        var settings = TrajectoryTrainingSettings()
        settings.horizon = 8
        settings.steps = 12
        settings.batchSize = 8
        let network = TrajectoryNetwork.temporalUNet(.init(transition: 6, horizon: 8, dim: 8, mults: [1, 2], groups: 4))
        let straight = try TrajectoryTrainer(dataset: Self.data, actionSpace: Self.actionSpace, network: network, settings: settings)
        for _ in 0..<12 { #expect(straight.trainStep()["loss"]!.isFinite) }
        #expect(straight.validationLoss().map { $0.isFinite } == true)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pd-traj-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = try TrajectoryTrainer(dataset: Self.data, actionSpace: Self.actionSpace, network: network, settings: settings)
        for _ in 0..<7 { _ = first.trainStep() }
        try first.save(to: url)
        let resumed = try TrajectoryTrainer(dataset: Self.data, actionSpace: Self.actionSpace, network: network, settings: settings)
        try resumed.resume(from: url)
        for _ in 7..<12 { _ = resumed.trainStep() }
        for ((n, a), (_, b)) in zip(straight.model.namedParameters() + straight.ema.average.namedParameters(),
                                    resumed.model.namedParameters() + resumed.ema.average.namedParameters()) {
            #expect(a.value.scalars == b.value.scalars, "\(n) differs after resume")
        }

        // The checkpoint holds the EMA weights and the layout: a loaded model samples and decodes.
        try straight.save(to: url)
        let (model, _, _) = try Checkpoint.load(TrajectoryModel.self, from: url)
        #expect(model.namedParameters().map(\.1.value.scalars) == straight.ema.average.namedParameters().map(\.1.value.scalars))
        var synthesis = SynthesisSettings(length: 16, batch: 3, sampling: TrajectorySampling(steps: 6))
        let policy = Self.policy(.td3bc)
        let plain = try model.sampleWindows(count: 5, policy: nil, settings: synthesis, seed: 9)
        let zero = try model.sampleWindows(count: 5, policy: policy, settings: synthesis, seed: 9)
        #expect(plain.shape == [5, 16, 6] && plain.scalars == zero.scalars)
        synthesis.lambda = 3
        let guided = try model.sampleWindows(count: 5, policy: policy, settings: synthesis, seed: 9)
        let g = PolicyGuidance(layout: model.layout, policy: policy)
        #expect(noGrad { g.logLikelihood(guided).mean().item } > noGrad { g.logLikelihood(plain).mean().item })
        // Batch k draws from its own stream: the first batch alone equals the first batch of more.
        #expect(try model.sampleWindows(count: 3, policy: policy, settings: synthesis, seed: 9).scalars == guided.slice(axis: 0, 0..<3).scalars)
        let data = try model.synthesize(transitions: 40, policy: nil, settings: SynthesisSettings(length: 16, sampling: TrajectorySampling(steps: 6)), seed: 2)
        #expect(data.count == 40 && data.timeouts.scalars[39] + data.terminals.scalars[39] >= 1)
        #expect(throws: SynthesisError.self) { try model.sampleWindows(count: 1, policy: nil, settings: SynthesisSettings(length: 9), seed: 0) }

        // A window MLP (SynthER-style transitions at horizon 2) trains in the same trainer, samples only its
        // own length (the default when none is given) and decodes one transition per window.
        var pairs = settings
        pairs.horizon = 2
        pairs.stride = 1
        let mlp = try TrajectoryTrainer(dataset: Self.data, actionSpace: Self.actionSpace,
                                        network: .windowMLP(.init(horizon: 2, transition: 6, width: 16, hidden: 32, blocks: 2)), settings: pairs)
        for _ in 0..<3 { #expect(mlp.trainStep()["loss"]!.isFinite) }
        #expect(mlp.ema.average.defaultLength == 2)
        let single = try mlp.ema.average.synthesize(transitions: 7, policy: nil, settings: SynthesisSettings(sampling: TrajectorySampling(steps: 4)), seed: 3)
        #expect(single.count == 7 && single.episodes.count == 7)
        #expect(throws: SynthesisError.fixedLength(16, model: 2)) {
            try mlp.ema.average.sampleWindows(count: 1, policy: nil, settings: SynthesisSettings(length: 16), seed: 0)
        }
        #expect(model.defaultLength == 128)
        // Without --steps the MLP samples with 64 EDM steps and the U-Nets with PGD's 256.
        let byDefault = try mlp.ema.average.sampleWindows(count: 3, policy: nil, settings: SynthesisSettings(), seed: 4)
        let steps = { (n: Int) in try mlp.ema.average.sampleWindows(count: 3, policy: nil, settings: SynthesisSettings(sampling: TrajectorySampling(steps: n)), seed: 4) }
        #expect(try byDefault.scalars == steps(64).scalars && byDefault.scalars != steps(256).scalars)
        #expect(mlp.ema.average.config.network.defaultEDMSteps == 64 && model.config.network.defaultEDMSteps == 256)

        // A horizon the network cannot halve is an error, not a trap.
        var odd = settings
        odd.horizon = 6
        #expect(throws: PGDTrainingError.horizon(6, multiple: 4)) {
            try TrajectoryTrainer(dataset: Self.data, actionSpace: Self.actionSpace, settings: odd)  // default network: 3 levels
        }

        // A discrete objective trains and samples with DDPM/DDIM.
        let discrete = try TrajectoryTrainer(dataset: Self.data, actionSpace: Self.actionSpace, network: network,
                                             objective: .discrete(schedule: .squaredCosCapV2, steps: 20, prediction: .epsilon), settings: settings)
        for _ in 0..<3 { #expect(discrete.trainStep()["loss"]!.isFinite) }
        for ddim in [false, true] {
            let x = try discrete.ema.average.sampleWindows(count: 2, policy: policy, settings: SynthesisSettings(lambda: 1, length: 8, sampling: TrajectorySampling(steps: 5, ddim: ddim)), seed: 1)
            #expect(x.shape == [2, 8, 6] && x.isFinite)
        }
    }
}
