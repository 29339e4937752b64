import Foundation
import PolicyDiffusion

/// The workloads of docs/bench-workloads.md, built from the library's own pieces. bench/pytorch_bench.py
/// mirrors each one line for line (same shapes, same arithmetic).
enum CoreWorkloads {
    /// C = A·B for square n; GFLOP/s = 2n³ / time.
    static func sgemm(n: Int, warmup: Int, repeats: Int) -> BenchResult {
        let g = RandomGenerator(seed: 1)
        let a = g.normal([n, n]), b = g.normal([n, n])
        var r = Bench.measure("sgemm_\(n)", warmup: warmup, repeats: repeats) { _ = Tensor.matmul(a, b) }
        r.extra["GFLOP/s"] = 2 * Double(n * n * n) / (r.medianMs * 1e6)
        return r
    }

    /// The ε-prediction MLP: x (17) ‖ 16-d sinusoidal embedding of t → 256 → 256 → 256 → 17 (Mish).
    static func mlpDenoiser() -> MLPDenoiser {
        MLPDenoiser(config: .init(dataDim: 17, timeEmbedding: 16, hidden: [256, 256, 256]), rng: RandomGenerator(seed: 1))
    }

    /// docs/bench-workloads.md `op_overhead`: what one tensor operation costs apart from its arithmetic —
    /// 100 × (h·1.0001 + 0.001) on a 4×4 tensor (200 ops), recorded and back-propagated, or without grad.
    static func opOverhead(warmup: Int, repeats: Int) -> [BenchResult] {
        let x = RandomGenerator(seed: 1).normal([4, 4]).requiringGrad()
        func chain(_ h0: Tensor) -> Tensor {
            var h = h0
            for _ in 0..<100 { h = h * 1.0001 + 0.001 }
            return h.sum()
        }
        return [Bench.measure("op_overhead_100_ops_fwd_bwd", warmup: warmup, repeats: repeats) { chain(x).backward() },
                Bench.measure("op_overhead_100_ops_nograd", warmup: warmup, repeats: repeats) { _ = noGrad { chain(x) } }]
    }

    /// One training step: draw x ~ N(0, I), t, ε; x_t with the linear schedule; MSE to ε; Adam 1e-4; batch 256.
    static func mlpTrainStep(warmup: Int, repeats: Int) -> BenchResult {
        let model = mlpDenoiser(), opt = Adam(model, learningRate: 1e-4), rng = RandomGenerator(seed: 0)
        let objective = DiffusionObjective.discrete(schedule: .linear(), steps: 1000, prediction: .epsilon)
        return Bench.measure("mlp_train_step", warmup: warmup, repeats: repeats) {
            let loss = objective.loss(model.network(), x0: rng.normal([256, 17]), rng: rng)
            opt.minimize(loss)
        }
    }

    /// 100 DDPM ancestral steps (fixed_small, no clipping) of the same MLP, batch 256, no grad:
    /// the linear T = 1000 schedule sampled at 100 "leading" timesteps.
    static func mlpSample(warmup: Int, repeats: Int) -> BenchResult {
        let model = mlpDenoiser()
        model.eval()
        let sampler = DDPMSampler(scheduler: DDPMScheduler(clipSample: false), inferenceSteps: 100)
        let rng = RandomGenerator(seed: 2)
        return Bench.measure("mlp_sample_100", warmup: warmup, repeats: repeats) { _ = sampler.sample(model.network(), shape: [256, 17], rng: rng) }
    }

    /// FISOR's actor (docs/fisor.md §5): obs 8, act 2, VP schedule T = 5, weighted ε loss, Adam; batch 1024.
    static func fisorActor() -> ResidualMLPDenoiser {
        ResidualMLPDenoiser(config: .init(dataDim: 2, condDim: 8), rng: RandomGenerator(seed: 3))
    }

    static func fisorActorTrainStep(warmup: Int, repeats: Int) -> BenchResult {
        let actor = fisorActor(), opt = Adam(actor, learningRate: 3e-4), rng = RandomGenerator(seed: 4)
        let objective = DiffusionObjective.discrete(schedule: .vp(), steps: 5, prediction: .epsilon)
        return Bench.measure("fisor_actor_train_step", warmup: warmup, repeats: repeats) {
            let obs = rng.normal([1024, 8]), act = rng.uniform([1024, 2], low: -1, high: 1)
            let weights = rng.uniform([1024], low: 0, high: 3)
            let loss = objective.loss(actor.network(condition: obs), x0: act, rng: rng, sampleWeights: weights)
            opt.minimize(loss)
        }
    }

    /// FISOR action selection: 16 candidates per state by 5-step VP DDPM (x ← (x − β/√(1 − ᾱ)·ε̂)/√α
    /// + √β·z, clipped to [−1, 1] — diffusers' fixed_large variance), EMA weights, no grad; then the
    /// candidate with the smallest max over a 2-member Q_h ensemble (256-256 ReLU MLPs).
    static func fisorSelectAction(states: Int, warmup: Int, repeats: Int) -> BenchResult {
        let actor = fisorActor()
        actor.eval()
        let critics = (0..<2).map { MLP([10, 256, 256, 1], rng: RandomGenerator(seed: 5 + UInt64($0))) }
        let sampler = DDPMSampler(scheduler: DDPMScheduler(trainSteps: 5, schedule: .vp(), variance: .fixedLarge, clipSample: false),
                                  clipAfterStep: -1...1)
        let rng = RandomGenerator(seed: 6)
        let obs = rng.normal([states, 8])
        return Bench.measure(states == 1 ? "fisor_select_action_1" : "fisor_select_action", warmup: warmup, repeats: repeats) {
            noGrad {
                let tiled = obs.unsqueezed(axis: 1).broadcast(to: [states, 16, 8]).reshaped([states * 16, 8])
                let actions = sampler.sample(actor.network(condition: tiled), shape: [states * 16, 2], rng: rng)
                let sa = Tensor.concat([tiled, actions], axis: 1)
                let qh = Tensor.maximum(critics[0](sa), critics[1](sa)).reshaped([states, 16])
                let choice = (-qh).argmax(axis: 1).scalars
                _ = actions.reshaped([states, 16, 2]).gather(axis: 1, IntTensor(choice.flatMap { [$0, $0] }, shape: [states, 1, 2]))
            }
        }
    }

    /// One full FISOR iteration (docs/fisor.md §7) at the reference sizes (`FISORSettings.paper`):
    /// two weighted actor steps of 1024 rows (weights from the target Q and current V networks) with
    /// EMA updates, then V_r, Q_r, V_h, Q_h Adam steps on 256 rows with Polyak updates; obs 8, act 2.
    static func fisorUpdate(warmup: Int, repeats: Int) -> BenchResult {
        var s = FISORSettings.paper
        s.schedule = .joint   // the reference's iteration: actor and critic steps in one update
        let n = s.batchSize
        let fisor = FISOR(networks: FISORNetworks(config: .init(observationDim: 8, actionDim: 2, settings: s), rng: RandomGenerator(seed: 12)),
                          settings: s, rng: RandomGenerator(seed: 13))
        let g = RandomGenerator(seed: 14)
        let batch = TransitionBatch(observations: g.normal([n, 8]), actions: g.uniform([n, 2], low: -1, high: 1), rewards: g.normal([n]),
                                    nextObservations: g.normal([n, 8]), dones: (g.uniform([n]) .> Tensor(0.99)), timeouts: Tensor(zeros: [n]),
                                    costs: (g.uniform([n]) .> Tensor(0.8)))
        return Bench.measure("fisor_update", warmup: warmup, repeats: repeats) { _ = fisor.update(batch) }
    }

    /// Diffuser's TemporalUnet (transition 23, horizon 32, dim 32, mults 1-2-4): x₀-prediction with
    /// Janner's cosine schedule (T = 20), MSE, Adam 2e-4; batch 64.
    static func unet1d() -> TemporalUNet { TemporalUNet(config: .init(transition: 23, horizon: 32), rng: RandomGenerator(seed: 7)) }

    static func unet1dTrainStep(warmup: Int, repeats: Int) -> BenchResult {
        let net = unet1d(), opt = Adam(net, learningRate: 2e-4), rng = RandomGenerator(seed: 8)
        let objective = DiffusionObjective.discrete(schedule: .jannerCosine(), steps: 20, prediction: .sample)
        return Bench.measure("unet1d_train_step", warmup: warmup, repeats: repeats) {
            let loss = objective.loss(net.network(), x0: rng.normal([64, 32, 23]), rng: rng)
            opt.minimize(loss)
        }
    }

    /// 100 DDPM ancestral steps (Janner cosine T = 100, x₀-prediction, fixed_small, no clipping) of
    /// the same U-Net with the first state inpainted (row 0, the 17 observation channels after the
    /// 6 action channels), batch 64, no grad.
    static func unet1dSample(warmup: Int, repeats: Int) -> BenchResult {
        let net = unet1d()
        net.eval()
        let sampler = DDPMSampler(scheduler: DDPMScheduler(trainSteps: 100, schedule: .jannerCosine(), prediction: .sample, clipSample: false))
        let rng = RandomGenerator(seed: 9)
        var mask = [Float](repeating: 0, count: 32 * 23)
        for c in 6..<23 { mask[c] = 1 }
        let inpainting = Inpainting(mask: Tensor(mask, shape: [1, 32, 23]), values: rng.normal([64, 32, 23]))
        return Bench.measure("unet1d_sample_100", warmup: warmup, repeats: repeats) {
            _ = sampler.sample(net.network(), shape: [64, 32, 23], guidance: nil, inpainting: inpainting, rng: rng)
        }
    }

    /// The digits U-Net 2D (docs/unet2d.md): 8×8×1, class-conditional, ε-prediction (linear, T = 1000),
    /// Adam 1e-3; batch 128.
    static func unet2dTrainStep(warmup: Int, repeats: Int) -> BenchResult {
        let net = UNet2D(config: .init(), rng: RandomGenerator(seed: 10)), opt = Adam(net, learningRate: 1e-3), rng = RandomGenerator(seed: 11)
        let objective = DiffusionObjective.discrete(schedule: .linear(), steps: 1000, prediction: .epsilon)
        return Bench.measure("unet2d_train_step", warmup: warmup, repeats: repeats) {
            let labels = rng.integers([128], high: 10).asTensor
            let loss = objective.loss(net.network(condition: labels), x0: rng.normal([128, 1, 8, 8]), rng: rng)
            opt.minimize(loss)
        }
    }

    /// docs/bench-workloads.md `conv1d` (64→64, k 5, pad 2, L 64, batch 64) and `conv2d` (32→32, 3×3, pad 1,
    /// 32×32, batch 64): forward, and forward+backward (gradients of input and weight).
    static func conv(twoD: Bool, warmup: Int, repeats: Int) -> [BenchResult] {
        let g = RandomGenerator(seed: 3)
        let x = twoD ? g.normal([64, 32, 32, 32]) : g.normal([64, 64, 64])
        let w = twoD ? g.normal([32, 32, 3, 3]) * 0.1 : g.normal([64, 64, 5]) * 0.1
        let b = g.normal([w.shape[0]])
        func run(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
            twoD ? Tensor.conv2d(x, weight: w, bias: b, padding: .symmetric(1)) : Tensor.conv1d(x, weight: w, bias: b, padding: .symmetric(2))
        }
        let name = twoD ? "conv2d" : "conv1d"
        let seed = noGrad { g.normal(run(x, w, b).shape) }
        return [
            Bench.measure("\(name)_forward", warmup: warmup, repeats: repeats) { _ = noGrad { run(x, w, b) } },
            Bench.measure("\(name)_forward_backward", warmup: warmup, repeats: repeats) {
                run(x.requiringGrad(), w.requiringGrad(), b).backward(seed: seed)
            },
        ]
    }

    /// `diffuse pgd generate`'s sampling (docs/bench-workloads.md `pgd_generate`, docs/pgd.md §3): the default
    /// trajectory model (temporal U-Net, dim 32, mults 1-2-4) on pointmaze-umaze rows (4 + 2 + 2 channels),
    /// 64 windows of 128 rows, EDM stochastic Heun with 16 steps (31 network evaluations), λ = 1
    /// toward a TD3+BC actor (closed-form gradient) — `TrajectoryModel.sampleWindows` as is. Layout
    /// statistics and the actor's normalizer are fixed random values (seeded), as a checkpoint holds them.
    static func pgdGenerate(warmup: Int, repeats: Int) -> BenchResult {
        let g = RandomGenerator(seed: 12)
        let (obs, act, width) = (4, 2, 8)
        let group = { (name: String, start: Int, count: Int) -> [String: Any] in ["name": name, "start": start, "count": count] }
        let json: [String: Any] = [
            "channels": ["groups": [group(TrajectoryLayout.observation, 0, obs), group(TrajectoryLayout.action, obs, act),
                                    group(TrajectoryLayout.reward, obs + act, 1), group(TrajectoryLayout.done, obs + act + 1, 1)]],
            "actionTransform": "atanh", "actionMap": ["shift": [0, 0], "scale": [1, 1]],  // pointmaze's action box [−1, 1]²
            "mean": g.normal([width]).scalars.map(Double.init), "std": g.uniform([width], low: 0.5, high: 2).scalars.map(Double.init),
            "horizon": 32, "stride": 8,
        ]
        let layout = try! JSONDecoder().decode(TrajectoryLayout.self, from: JSONSerialization.data(withJSONObject: json))
        let model = TrajectoryModel(config: .init(layout: layout), rng: RandomGenerator(seed: 13))
        let actor = AgentNetworks(config: .init(algorithm: .td3bc, observationDim: obs, actionDim: act), rng: RandomGenerator(seed: 14))
        let agent = AgentPolicy(networks: actor, observationNormalizer: AffineNormalizer(shift: g.normal([obs]).scalars,
                                                                                       scale: g.uniform([obs], low: 0.5, high: 1.5).scalars),
                                actionMap: layout.actionMap)
        let settings = SynthesisSettings(lambda: 1, length: 128, batch: 64, sampling: TrajectorySampling(steps: 16))
        var seed: UInt64 = 15
        return Bench.measure("pgd_generate", warmup: warmup, repeats: repeats) {
            seed += 1
            _ = try! model.sampleWindows(count: 64, policy: agent, settings: settings, seed: seed)
        }
    }

    /// One full offline-agent update as `diffuse train agent` runs it (docs/bench-workloads.md): CORL's
    /// networks (actor and twin critics, and IQL's value, MLPs with two hidden layers of 256, ReLU),
    /// HalfCheetah's shapes (observation 17, action 6), batch 256 of fixed random transitions; Polyak
    /// targets, the losses of TD3BC.swift / IQL.swift, one backward pass, Adam, the logged metrics.
    static func agentUpdate(_ kind: AgentAlgorithm, warmup: Int, repeats: Int) -> BenchResult {
        let batch = agentBatch()
        let networks = AgentNetworks(config: .init(algorithm: kind, observationDim: 17, actionDim: 6), rng: RandomGenerator(seed: 21))
        let algorithm = kind.make(networks: networks, hyperparameters: .defaults(for: kind), rng: RandomGenerator(seed: 22))
        return Bench.measure("\(kind.rawValue)_update", warmup: warmup, repeats: repeats) { _ = algorithm.update(batch) }
    }

    /// Every workload by group name (a group may yield several results, e.g. conv forward and
    /// forward+backward), in report order.
    static func groups(warmup w: Int, repeats r: Int) -> [(String, () -> [BenchResult])] {
        [("op_overhead", { opOverhead(warmup: w, repeats: r) }),
         ("sgemm_256", { [sgemm(n: 256, warmup: w, repeats: r)] }),
         ("sgemm_1024", { [sgemm(n: 1024, warmup: w, repeats: max(r / 3, 5))] }),
         ("mlp_train_step", { [mlpTrainStep(warmup: w, repeats: r)] }), ("mlp_sample_100", { [mlpSample(warmup: w, repeats: r)] }),
         ("fisor_actor_train_step", { [fisorActorTrainStep(warmup: w, repeats: r)] }),
         ("fisor_select_action", { [fisorSelectAction(states: 256, warmup: w, repeats: r)] }),
         ("fisor_select_action_1", { [fisorSelectAction(states: 1, warmup: w, repeats: r)] }),
         ("fisor_update", { [fisorUpdate(warmup: w, repeats: r)] }),
         ("unet1d_train_step", { [unet1dTrainStep(warmup: w, repeats: r)] }), ("unet1d_sample_100", { [unet1dSample(warmup: w, repeats: r)] }),
         ("conv1d", { conv(twoD: false, warmup: w, repeats: r) }), ("conv2d", { conv(twoD: true, warmup: w, repeats: r) }),
         ("unet2d_train_step", { [unet2dTrainStep(warmup: w, repeats: r)] }), ("pgd_generate", { [pgdGenerate(warmup: w, repeats: r)] }),
         ("td3bc_update", { [agentUpdate(.td3bc, warmup: w, repeats: r)] }), ("iql_update", { [agentUpdate(.iql, warmup: w, repeats: r)] }),
         ("seppo_dpo_step", { [seppoDPOStep(warmup: w, repeats: r)] })]
            + DiffusionAlgorithm.allCases.flatMap { algorithm in
                [("\(workloadName(algorithm))_update", { [diffusionPolicyUpdate(algorithm, warmup: w, repeats: r)] }),
                 ("\(workloadName(algorithm))_select_action_1", { [diffusionPolicySelect(algorithm, warmup: w, repeats: r)] })]
            }
    }
}
