import Diffusion
import Foundation
@testable import FISOR
import NN
import OfflineRL
import Testing
import TensorCore

private func temporaryURL(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("fisor-\(UUID().uuidString)-\(name)")
}

@Suite("FISOR")
struct FISORTests {
    nonisolated(unsafe) static let data: OfflineDataset = try! DataCollection.collect(environment: "safe-circle", quality: .mixed, steps: 1200, seed: 1)

    /// Small networks and batches: the update runs every code path of the full settings in milliseconds.
    static var tiny: FISORSettings {
        var s = FISORSettings()
        s.criticHidden = [16, 16]
        s.actorWidth = 16
        s.actorHidden = 32
        s.actorBatchSize = 32
        s.criticBatchSize = 32
        s.candidates = 4
        s.iterations = 40
        s.episodeLength = 200
        s.schedule = .joint
        return s
    }

    /// `tiny` in the critic-first schedule: 4 critic steps, then 4 actor iterations.
    static var tinyCriticFirst: FISORSettings {
        var s = tiny
        s.schedule = .criticFirst
        s.criticSteps = 4
        s.iterations = 4
        return s
    }

    // MARK: docs/fisor.md §1, §3

    @Test func constraintSignalIsPlusCostScaleOrMinusOne() {
        let h = FISOR.constraintSignal(costs: Tensor([0, 0.5, 1, 0, 3]), costScale: 25)
        #expect(h.scalars == [-1, 25, 25, -1, 25])
    }

    /// (1 − γ)h + γ·max(h, V_h(s′)) where m = 1; h where m = 0 — values by hand, γ = 0.99.
    @Test func hjTargetTerminalAndNonTerminalCases() {
        let h = Tensor([-1, 25, -1, 25, -1, 25])
        let next = Tensor([-0.5, 3, 10, 30, -2, 100])
        let mask = Tensor([1, 1, 1, 1, 0, 0])
        let y = FISOR.hjTarget(h: h, nextValue: next, mask: mask, discount: 0.99).scalars
        let expected: [Float] = [
            0.01 * -1 + 0.99 * -0.5,  // safe now, next value dominates: −0.505
            0.01 * 25 + 0.99 * 25,    // violation now dominates a smaller next value: 25
            0.01 * -1 + 0.99 * 10,    // a future violation propagates back: 9.89
            0.01 * 25 + 0.99 * 30,    // a worse future violation: 29.95
            -1,                       // terminal: h alone, whatever V_h(s′)
            25,
        ]
        for (a, b) in zip(y, expected) { #expect(abs(a - b) < 1e-5, "\(y) vs \(expected)") }
        let qc = FISOR.costTarget(costs: Tensor([0, 1]), nextValue: Tensor([2, 2]), mask: Tensor([1, 0]), discount: 0.99).scalars
        #expect(qc == [1.98, 1])
    }

    /// qc_thres = κ(1 − γ^L)/((1 − γ)L): κ 10, γ 0.99, L 200 → 10·(1 − 0.99²⁰⁰)/2 = 4.33013; 0 for HJ.
    @Test func qcThresholdMatchesTheReferenceFormula() {
        var s = FISORSettings()
        s.episodeLength = 200
        #expect(s.qcThreshold == 0)
        s.critic = .qc
        #expect(abs(s.qcThreshold - 4.330_13) < 1e-4)
    }

    /// `.paper` is the reference budget; the reduced defaults change the budget knobs only.
    @Test func paperPresetDiffersFromTheDefaultsOnlyInTheBudget() throws {
        let paper = FISORSettings.paper, reduced = FISORSettings()
        #expect(paper.actorHidden == 1024 && paper.actorBatchSize == 1024 && paper.batchSize == 2048 && paper.iterations == 1_000_001)
        #expect(paper.criticBatchSize == 256 && paper.candidates == 16 && paper.diffusionSteps == 5 && paper.costScale == 25)
        var budgetless = reduced
        budgetless.actorHidden = paper.actorHidden
        budgetless.actorBatchSize = paper.actorBatchSize
        budgetless.iterations = paper.iterations
        #expect(budgetless == paper)
    }

    /// The MuJoCo velocity tasks take a longer actor phase (docs/fisor.md, "On MuJoCo"), nothing else changes.
    @Test func velocityTasksDifferFromTheReducedDefaultsOnlyInActorIterations() {
        for name in ["halfcheetah-velocity", "hopper-velocity", "walker2d-velocity"] {
            var settings = FISORSettings.reduced(forEnvironment: name)
            #expect(settings.iterations == 12_000, "\(name)")
            settings.iterations = FISORSettings().iterations
            #expect(settings == FISORSettings(), "\(name)")
        }
        for name in ["safe-circle", "safe-goal", "halfcheetah", nil] as [String?] {
            #expect(FISORSettings.reduced(forEnvironment: name) == FISORSettings(), "\(name ?? "no environment")")
        }
    }

    // MARK: docs/fisor.md §4

    @Test func weightsFollowTheRegionsAndStayFiniteAtExtremeAdvantages() {
        let s = FISORSettings()
        // Rows: infeasible state (V_h > 0) with A_h = −1e4, +1e4, −0.2; feasible state and action with
        // A_r = +1e4, −1e4, 0.1; feasible state, infeasible action (w = 0); ±∞ advantages.
        let vh: [Float] = [1, 1, 0.5, -1, -1, -1, -0.5, 2, -1]
        let qh: [Float] = [1 - 1e4, 1 + 1e4, 0.3, -1, -1, -1, 0.2, .infinity, -1]
        let ar: [Float] = [0, 0, 0, 1e4, -1e4, 0.1, 5, 0, .infinity]
        let w = FISOR.actorWeights(rewardAdvantage: ar, feasibilityQ: qh, feasibilityValue: vh, settings: s)
        #expect(w.allSatisfy { $0.isFinite && $0 >= 0 })
        #expect(w[0] == 150 && w[1] == 0 && w[3] == 100 && w[4] == 0 && w[6] == 0 && w[7] == 0 && w[8] == 100)
        #expect(abs(w[2] - Foundation.exp(1)) < 1e-5)       // exp(−5·(0.3 − 0.5))
        #expect(abs(w[5] - Foundation.exp(0.3)) < 1e-5)     // exp(3·0.1)
        // The boundary V_h = 0 counts as feasible, Q_h = 0 as a feasible action.
        let edge = FISOR.actorWeights(rewardAdvantage: [0], feasibilityQ: [0], feasibilityValue: [0], settings: s)
        #expect(edge == [1])
    }

    /// The feasibility margin δ moves feasible actions with −δ < Q_h ≤ 0 into the zero band, and only them:
    /// infeasible states keep their weights, Q_h = −δ still earns its reward weight; the diagnostics agree.
    @Test func feasibilityMarginWidensTheZeroBand() {
        var s = FISORSettings()
        s.feasibleMargin = 0.5
        let vh: [Float] = [-1, -1, -1, -1, 1]
        let qh: [Float] = [-1, -0.5, -0.49, 0, 0.8]
        let ar: [Float] = [0.1, 0.1, 0.1, 0.1, 0]
        let w = FISOR.actorWeights(rewardAdvantage: ar, feasibilityQ: qh, feasibilityValue: vh, settings: s)
        let r = Foundation.exp(Float(0.3))   // exp(3·0.1)
        #expect(abs(w[0] - r) < 1e-5 && abs(w[1] - r) < 1e-5 && w[2] == 0 && w[3] == 0)
        #expect(abs(w[4] - Foundation.exp(1)) < 1e-5)   // exp(−5·(0.8 − 1)), as without a margin
        let d = FISOR.weightDiagnostics(weights: w, feasibilityQ: qh, feasibilityValue: vh, margin: 0.5)
        #expect(d["region_feasible"] == 0.4 && d["region_zero"] == 0.4 && d["region_infeasible"] == 0.2)
        s.feasibleMargin = -0.1
        #expect(s.validationError() != nil)
    }

    // MARK: docs/fisor.md §6

    /// Linear critics by hand: feasibility members Q_h,1 = a₀ and Q_h,2 = a₁ (so Q_h = max(a₀, a₁)),
    /// reward members Q_r = −a₀. `choose` must take the candidate with the smallest max, not min.
    @Test func candidateSelectionPicksTheMinimumOfTheMaxOverTheEnsemble() {
        var s = Self.tiny
        s.criticHidden = []
        let networks = FISORNetworks(config: .init(observationDim: 2, actionDim: 2, settings: s), rng: RandomGenerator(seed: 1))
        func set(_ critic: MLP, _ w: [Float]) {
            critic.layers[0].weight.value = Tensor(w, shape: [1, 4])
            critic.layers[0].bias!.value = Tensor([0])
        }
        set(networks.feasibilityTargets[0], [0, 0, 1, 0])
        set(networks.feasibilityTargets[1], [0, 0, 0, 1])
        for c in networks.rewardTargets { set(c, [0, 0, -1, 0]) }
        let observations = Tensor([0.3, -0.2, 1, 1], shape: [2, 2])
        let candidates = Tensor([0.5, -0.9, -0.2, 0.1, 0.3, 0.3, -0.8, 0.6,      // state 0: max = .5, .1, .3, .6 → #1
                                 0.9, 0.9, -0.7, -0.1, -0.5, -0.6, 0.0, 0.95],  // state 1: max = .9, −.1, −.5, .95 → #2
                                shape: [8, 2])
        let policy = FISORPolicy(networks: networks, settings: s, observationNormalizer: .identity(2), actionMap: .box(low: [-1, -1], high: [1, 1]))
        #expect(policy.choose(observations, candidates: candidates).scalars == [-0.2, 0.1, -0.5, -0.6])
        // "max-qr": the largest Q_r = −a₀ among feasible candidates (state 1: #1 and #2 → #1 with −a₀ = .7);
        // none feasible in state 0 → the safest.
        s.selection = .maxQr
        let reward = FISORPolicy(networks: networks, settings: s, observationNormalizer: .identity(2), actionMap: .box(low: [-1, -1], high: [1, 1]))
        #expect(reward.choose(observations, candidates: candidates).scalars == [-0.2, 0.1, -0.7, -0.1])
        #expect(FISORPolicy.select(feasibilityQ: [0.5, -0.1, -0.3, 0.2], rewardQ: [9, 4, 3, 10], rule: .maxQr) == 1)
        #expect(FISORPolicy.select(feasibilityQ: [0.5, -0.1, -0.3, 0.2], rewardQ: [9, 4, 3, 10], rule: .minQh) == 2)
    }

    /// "feasible-sample" keeps the actor's own draw unless the critic calls it infeasible: the first
    /// candidate with Q_h ≤ 0 (not the safest one, and 0 counts as feasible), else the safest; it
    /// reads no reward values.
    @Test func feasibleSampleTakesTheFirstFeasibleCandidate() {
        #expect(FISORPolicy.select(feasibilityQ: [0.5, -0.1, -0.3, 0.2], rewardQ: nil, rule: .feasibleSample) == 1)
        #expect(FISORPolicy.select(feasibilityQ: [-0.01, -5, -0.3], rewardQ: nil, rule: .feasibleSample) == 0)
        #expect(FISORPolicy.select(feasibilityQ: [0.5, 0, -0.3], rewardQ: nil, rule: .feasibleSample) == 1)
        #expect(FISORPolicy.select(feasibilityQ: [0.5, 0.2, 0.3, 0.9], rewardQ: nil, rule: .feasibleSample) == 1)
        #expect(FISORPolicy.select(feasibilityQ: [0.5, 0.2, -0.3, 0.9], rewardQ: [100, 100, 0, 100], rule: .feasibleSample) == 2)
        #expect(CandidateSelection(rawValue: "feasible-sample") == .feasibleSample)
    }

    /// A run that adopts another run's finished critic phase starts at its actor phase with exactly
    /// those critics (online, target and V networks), its own initial actor, and the critic-step count
    /// of a finished phase; its actor phase then leaves the adopted critics alone. Runs whose critic
    /// settings differ do not share a phase.
    @Test func adoptedCriticsStartTheActorPhase() throws {
        let s = Self.tinyCriticFirst, bounds = Box(repeating: 1, count: 2)
        let source = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 5)
        for _ in 0..<s.criticSteps { _ = source.trainStep() }
        let donor = source.algorithm as! FISOR
        let fresh = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 5)
        let target = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 5)
        let f = target.algorithm as! FISOR
        f.adoptCritics(from: donor.networks)
        let critics = Self.snapshot(f, parameters: Self.criticPrefixes, parts: [])
        #expect(critics == Self.snapshot(donor, parameters: Self.criticPrefixes, parts: []))
        #expect(critics != Self.snapshot(fresh.algorithm as! FISOR, parameters: Self.criticPrefixes, parts: []))
        #expect(Self.snapshot(f, parameters: Self.actorPrefixes, parts: []) == Self.snapshot(fresh.algorithm as! FISOR, parameters: Self.actorPrefixes, parts: []))
        #expect(f.criticSteps.value == s.criticSteps && f.actorSteps.value == 0)
        for _ in 0..<s.iterations {
            let m = target.trainStep()
            #expect(m["actor_loss"] != nil && m["feasibility_critic_loss"] == nil, "\(m)")
        }
        #expect(Self.snapshot(f, parameters: Self.criticPrefixes, parts: []) == critics)
        #expect(f.actorSteps.value == s.iterations * s.actorStepsPerIteration)

        #expect(FISOR.sameCriticPhase(s, s))
        var other = s
        other.rewardTemperature = 1; other.selection = .feasibleSample; other.iterations = 99
        #expect(FISOR.sameCriticPhase(s, other))  // actor and selection settings do not matter
        other.discount = 0.98
        #expect(!FISOR.sameCriticPhase(s, other))
        other = s; other.criticSteps = 5
        #expect(!FISOR.sameCriticPhase(s, other))
    }

    // MARK: Training

    /// 2N steps straight equal N steps, a checkpoint, a resume and N more — every weight (actor,
    /// EMA actor with its dropout stream, critics, targets) bit for bit; the loaded policy acts like
    /// the trainer's.
    @Test func trainingResumesBitIdentically() throws {
        let s = Self.tiny, bounds = Box(repeating: 1, count: 2)
        let straight = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 3)
        var metrics: [String: Float] = [:]
        for _ in 0..<8 { metrics = straight.trainStep() }
        #expect(metrics.values.allSatisfy { $0.isFinite }, "\(metrics)")
        #expect(metrics["weight"]! > 0)

        let url = temporaryURL("fisor.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 3)
        for _ in 0..<4 { _ = first.trainStep() }
        try first.save(to: url, metadata: ["env": "safe-circle"])
        let resumed = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 3)
        try resumed.resume(from: url)
        #expect(resumed.step == 4)
        for _ in 0..<4 { _ = resumed.trainStep() }
        let a = straight.algorithm.networks.namedParameters(), b = resumed.algorithm.networks.namedParameters()
        #expect(a.count == b.count && a.count > 0)
        for ((name, p), (_, q)) in zip(a, b) { #expect(p.value.scalars == q.value.scalars, "\(name) differs after resume") }

        // The state beyond the weights matters: a trainer that only copies the weights (its batch,
        // noise and dropout streams back at the start) ends elsewhere.
        let weightsOnly = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 3)
        weightsOnly.algorithm.networks.copyParameters(from: first.algorithm.networks)
        for _ in 0..<4 { _ = weightsOnly.trainStep() }
        func actorOutput(_ t: OfflineTrainer) -> [Float] { (t.algorithm as! FISOR).networks.actor.output.weight.value.scalars }
        #expect(actorOutput(weightsOnly) != actorOutput(straight))

        try straight.save(to: url, metadata: ["env": "safe-circle"])
        let loaded = try FISORPolicy.load(url)
        let probe = [[0.1, 0.2, 0, 0, -0.4, 0.5], [-0.5, 0.3, 0.2, -0.1, -0.1, 0.2]]
        let acted = loaded.actions(for: probe, environments: [], rng: RandomGenerator(seed: 9))
        #expect(acted == straight.policy().actions(for: probe, environments: [], rng: RandomGenerator(seed: 9)))
        #expect(acted.joined().allSatisfy { abs($0) <= 1 })
    }

    // MARK: Critic-first schedule (docs/fisor.md, "Critic-first schedule")

    /// Everything a part of the algorithm owns, as values: its parameters by name and the saved state
    /// of its optimizers, counters and streams.
    static func snapshot(_ f: FISOR, parameters prefixes: [String], parts: [(String, any Resumable)]) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (name, p) in f.networks.namedParameters() where prefixes.contains(where: { name.hasPrefix($0 + ".") }) { out[name] = p.value.scalars }
        var state = TrainingState(step: 0, rng: RandomState(seed: 0, counter: 0))
        for (key, part) in parts { part.saveState(into: &state, key: key) }
        for (k, t) in state.tensors { out["state." + k] = t.scalars }
        for (k, v) in state.values { out["value." + k] = Array(v.utf8).map(Float.init) }
        return out
    }

    static let actorPrefixes = ["actor", "actorEMA"]
    static let criticPrefixes = ["rewardCritics", "rewardTargets", "rewardValue", "feasibilityCritics", "feasibilityTargets", "feasibilityValue"]

    static func actorParts(_ f: FISOR) -> [(String, any Resumable)] {
        [("actor_optimizer", f.actorOptimizer), ("noise", f.rng), ("actor_steps", f.actorSteps)]
    }

    static func criticParts(_ f: FISOR) -> [(String, any Resumable)] {
        [("a", f.rewardValueOptimizer), ("b", f.rewardCriticOptimizer), ("c", f.feasibilityValueOptimizer),
         ("d", f.feasibilityCriticOptimizer), ("critic_steps", f.criticSteps)]
    }

    /// The critic phase never touches the actor (weights, EMA, optimizer moments, noise stream, step
    /// count), and the actor phase never touches the critics (online, target and V networks, their
    /// optimizers, the critic-step count) — while each phase does change its own part.
    @Test func eachPhaseLeavesTheOtherPartAlone() throws {
        let s = Self.tinyCriticFirst
        let trainer = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: Box(repeating: 1, count: 2), seed: 5)
        let f = trainer.algorithm as! FISOR
        let actor0 = Self.snapshot(f, parameters: Self.actorPrefixes, parts: Self.actorParts(f))
        let critics0 = Self.snapshot(f, parameters: Self.criticPrefixes, parts: Self.criticParts(f))
        for _ in 0..<s.criticSteps {
            let m = trainer.trainStep()
            #expect(m["actor_loss"] == nil && m["feasibility_critic_loss"] != nil, "\(m)")
        }
        #expect(Self.snapshot(f, parameters: Self.actorPrefixes, parts: Self.actorParts(f)) == actor0)
        let critics1 = Self.snapshot(f, parameters: Self.criticPrefixes, parts: Self.criticParts(f))
        #expect(critics1 != critics0)
        #expect(f.criticSteps.value == s.criticSteps && f.actorSteps.value == 0)

        for _ in 0..<s.iterations {
            let m = trainer.trainStep()
            #expect(m["actor_loss"] != nil && m["feasibility_critic_loss"] == nil, "\(m)")
        }
        #expect(Self.snapshot(f, parameters: Self.criticPrefixes, parts: Self.criticParts(f)) == critics1)
        #expect(Self.snapshot(f, parameters: Self.actorPrefixes, parts: Self.actorParts(f)) != actor0)
        #expect(f.actorSteps.value == s.iterations * s.actorStepsPerIteration && trainer.step == s.totalSteps)
    }

    /// A run stopped in the middle of the critic phase, exactly at the phase change, or in the middle
    /// of the actor phase, then resumed from its checkpoint, ends bit for bit where a straight run ends.
    @Test(arguments: [2, 4, 6])
    func criticFirstResumesBitIdentically(at stop: Int) throws {
        let s = Self.tinyCriticFirst, bounds = Box(repeating: 1, count: 2)
        #expect(s.totalSteps == 8)
        let straight = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 3)
        for _ in 0..<s.totalSteps { _ = straight.trainStep() }

        let url = temporaryURL("critic-first-\(stop).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 3)
        for _ in 0..<stop { _ = first.trainStep() }
        try first.save(to: url)
        let resumed = try FISOR.trainer(dataset: Self.data, settings: s, actionBounds: bounds, seed: 3)
        try resumed.resume(from: url)
        #expect(resumed.step == stop)
        for _ in stop..<s.totalSteps { _ = resumed.trainStep() }
        let a = straight.algorithm.networks.namedParameters(), b = resumed.algorithm.networks.namedParameters()
        #expect(a.count == b.count && a.count > 0)
        for ((name, p), (_, q)) in zip(a, b) { #expect(p.value.scalars == q.value.scalars, "\(name) differs after resume at \(stop)") }
        let fa = straight.algorithm as! FISOR, fb = resumed.algorithm as! FISOR
        #expect(fa.criticSteps.value == fb.criticSteps.value && fa.actorSteps.value == fb.actorSteps.value)
    }

    /// The weight diagnostics by hand: rows (V_h, Q_h, w) = infeasible (1, 0.5, 2), feasible (−1, −1, 1),
    /// feasible (−1, −0.5, 1), zero (−1, 0.3, 0): regions 1/4, 2/4, 1/4; ESS (Σw)²/Σw² = 16/6 rows.
    @Test func weightDiagnosticsCountRegionsAndEffectiveSampleSize() {
        let d = FISOR.weightDiagnostics(weights: [2, 1, 1, 0], feasibilityQ: [0.5, -1, -0.5, 0.3], feasibilityValue: [1, -1, -1, -1])
        #expect(d["region_infeasible"] == 0.25 && d["region_feasible"] == 0.5 && d["region_zero"] == 0.25 && d["feasible"] == 0.75)
        #expect(abs(d["weight_ess"]! - 16.0 / 6) < 1e-6 && d["weight"] == 1)
        #expect(FISOR.weightDiagnostics(weights: [0, 0], feasibilityQ: [1, 1], feasibilityValue: [-1, -1])["weight_ess"] == 0)
    }

    /// Settings saved before the schedule existed load with it as `.joint` (how they were trained), so
    /// the shipped checkpoint keeps loading; a full JSON round-trips.
    @Test func settingsFromBeforeTheScheduleDecodeAsJoint() throws {
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(FISORSettings())) as! [String: Any]
        json["schedule"] = nil
        json["criticSteps"] = nil
        let old = try FISORSettings.decode(json: String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self))
        var expected = FISORSettings()
        expected.schedule = .joint
        #expect(old == expected)
        var s = FISORSettings()
        s.criticSteps = 123
        #expect(try FISORSettings.decode(json: canonicalJSON(s)) == s)
    }

    /// A two-state chain with a closed-form HJ value (docs/fisor.md, "Critic-first schedule"): A is
    /// safe (h = −1) and leads to itself, B violates (h = +25) and leads to A. The fixed point is
    /// V_h(A) = (1 − γ)(−1) + γ·max(−1, V_h(A)) = −1 and V_h(B) = (1 − γ)·25 + γ·max(25, −1) = 25. With
    /// the reference's γ = 0.99 and τ = 0.005, the Polyak-paced backup brings V_h(A) to its fixed point
    /// like (1 − τ(1 − γ))^n; after the default `criticSteps` (40,000: e^−2 of the initial gap) A is
    /// feasible with V_h(A) within 0.15 of −1, and after 60,000 (e^−3, the stopping rule's 5 %) within 0.05.
    @Test func twoStateChainConvergesToItsClosedFormHJValue() {
        var s = FISORSettings()
        s.criticHidden = [32, 32]
        s.actorWidth = 8
        s.actorHidden = 8
        s.actorBlocks = 1
        s.actorBatchSize = 1
        s.criticBatchSize = 2
        s.episodeLength = 100
        s.criticSteps = 60_000
        s.iterations = 1
        let networks = FISORNetworks(config: .init(observationDim: 2, actionDim: 1, settings: s), rng: RandomGenerator(seed: 4))
        let f = FISOR(networks: networks, settings: s, rng: RandomGenerator(seed: 5))
        let states = Tensor([1, 0, 0, 1], shape: [2, 2])      // A, B
        let batch = TransitionBatch(observations: states, actions: Tensor([0, 0], shape: [2, 1]), rewards: Tensor([0, 0]),
                                    nextObservations: Tensor([1, 0, 1, 0], shape: [2, 2]),   // A → A, B → A
                                    dones: Tensor([0, 0]), timeouts: Tensor([0, 0]), costs: Tensor([0, 1]))
        func vh() -> [Float] { noGrad { FISORNetworks.v(networks.feasibilityValue, states).scalars } }
        let start = vh()
        for _ in 0..<FISORSettings().criticSteps { _ = f.update(batch) }
        let mid = vh()
        for _ in FISORSettings().criticSteps..<s.criticSteps { _ = f.update(batch) }
        let end = vh()
        #expect(f.actorSteps.value == 0)
        #expect(mid[0] <= 0 && abs(mid[0] + 1) <= 0.15 && abs(mid[1] - 25) <= 0.15 * 25, "start \(start), 40k \(mid)")
        #expect(abs(end[0] + 1) <= 0.05 && abs(end[1] - 25) <= 0.05 * 25, "start \(start), 60k \(end)")
        print("two-state chain: V_h start \(start), 40k \(mid), 60k \(end)")
    }

    @Test func aDatasetWithoutCostsIsRejected() throws {
        var d = Self.data
        d.costs = nil
        #expect(throws: FISORError.noCosts) { try FISOR.trainer(dataset: d, settings: Self.tiny, actionBounds: Box(repeating: 1, count: 2), seed: 0) }
        #expect(throws: FISORError.noCosts) { try d.safeEpisodes(costLimit: 10) }
    }

    /// BC-Safe's data: whole episodes with cost return ≤ κ, and no others.
    @Test func safeEpisodesKeepsWholeEpisodesUnderTheLimit() throws {
        let all = Self.data.episodeSummaries()
        let safe = try Self.data.safeEpisodes(costLimit: 10)
        let kept = safe.episodeSummaries()
        #expect(kept.allSatisfy { $0.cost <= 10 })
        #expect(kept.count == all.filter { $0.cost <= 10 }.count && kept.count < all.count && !kept.isEmpty)
        #expect(throws: FISORError.self) { try Self.data.safeEpisodes(costLimit: -1) }
    }
}
