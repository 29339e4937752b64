import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// The network behind a trajectory model: Diffuser's temporal U-Net (the default on a few cores),
/// the PGD paper's U-Net (docs/pgd.md §2), a named preset of the same parts, or a residual MLP over the
/// whole window (SynthER-style transitions at horizon 2, docs/pgd.md §2.1).
public enum TrajectoryNetwork: Codable, Sendable, Equatable {
    case temporalUNet(TemporalUNet.Config)
    case pgdUNet(PGDUNet.Config)
    case windowMLP(WindowMLP.Config)

    /// Window lengths must be multiples of this (the U-Net halves the length at each level but the last).
    public var lengthMultiple: Int {
        switch self {
        case let .temporalUNet(c): return 1 << (c.mults.count - 1)
        case let .pgdUNet(c): return 1 << (c.levels - 1)
        case .windowMLP: return 1
        }
    }

    /// The only window length the network takes (an MLP over the flattened window); nil: any multiple
    /// of `lengthMultiple` (the U-Nets are convolutional along the window).
    public var fixedLength: Int? {
        if case let .windowMLP(c) = self { return c.horizon }
        return nil
    }

    /// EDM sampler steps when none are asked for: PGD's 256 for the U-Nets (docs/pgd.md §3); 64 for the
    /// window MLP, whose fidelity is flat from 64 to 256 steps at a quarter of the cost
    /// (docs/fidelity-results.md, sampler knobs).
    public var defaultEDMSteps: Int { fixedLength == nil ? Self.pgdEDMSteps : 64 }
    /// PGD's EDM sampler steps (docs/pgd.md §3).
    public static let pgdEDMSteps = 256

    func build(rng: RandomGenerator) -> any Denoiser {
        switch self {
        case let .temporalUNet(c): return TemporalUNet(config: c, rng: rng)
        case let .pgdUNet(c): return PGDUNet(config: c, rng: rng)
        case let .windowMLP(c): return WindowMLP(config: c, rng: rng)
        }
    }
}

/// An unconditional diffusion model of trajectory windows [B, L, D] under a `TrajectoryLayout`
/// (docs/pgd.md §1–§2): what PGD samples synthetic data from. Checkpoints store the EMA weights
/// (what sampling uses) and the layout, so a loaded model decodes its own samples.
public final class TrajectoryModel: Module, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var layout: TrajectoryLayout
        public var network: TrajectoryNetwork
        /// EDM (PGD's default) or a discrete DDPM/DDIM objective; the sampler follows it.
        public var objective: DiffusionObjective

        public init(layout: TrajectoryLayout, network: TrajectoryNetwork? = nil, objective: DiffusionObjective = .edm(EDM())) {
            self.layout = layout
            self.network = network ?? .temporalUNet(TemporalUNet.Config(transition: layout.width, horizon: layout.horizon))
            self.objective = objective
        }
    }

    public let config: Config
    public let network: any Denoiser

    public init(config: Config, rng: RandomGenerator) {
        self.config = config
        network = config.network.build(rng: rng)
    }

    public var layout: TrajectoryLayout { config.layout }

    /// The network as samplers call it.
    public func denoisingNetwork() -> DenoisingNetwork { network.network() }

    /// The denoising loss of normalized windows x0 [B, H, D] (mean over rows and elements).
    public func loss(_ x0: Tensor, rng: RandomGenerator) -> Tensor {
        config.objective.loss(network.network(), x0: x0, rng: rng)
    }
}

/// How windows are sampled: the sampler follows the model's objective (EDM: the stochastic Heun
/// sampler with PGD's settings; discrete: DDPM or DDIM over the training schedule).
public struct TrajectorySampling: Codable, Sendable, Equatable {
    /// EDM steps N (nil: the network's default, docs/pgd.md §3: 256 for the U-Nets, 64 for the window
    /// MLP), or discrete inference steps (nil: all training steps).
    public var steps: Int?
    /// Discrete objectives only: deterministic DDIM instead of ancestral DDPM.
    public var ddim = false
    /// EDM: Euler step from the pre-churn x (PGD's reference code) instead of x̂ (Algorithm 2).
    public var eulerFromPreNoise = false
    /// EDM: S_churn, the noise re-injected per step (nil: the model's, PGD's 80; 0: deterministic Heun).
    public var churn: Float?

    public init(steps: Int? = nil, ddim: Bool = false, eulerFromPreNoise: Bool = false, churn: Float? = nil) {
        self.steps = steps; self.ddim = ddim; self.eulerFromPreNoise = eulerFromPreNoise; self.churn = churn
    }

    /// The sampler for `objective`; `defaultEDMSteps` when `steps` is nil (`TrajectoryNetwork.defaultEDMSteps`).
    public func sampler(for objective: DiffusionObjective, defaultEDMSteps: Int = TrajectoryNetwork.pgdEDMSteps) -> Sampler {
        switch objective {
        case var .edm(edm):
            edm.eulerFromPreNoise = eulerFromPreNoise
            if let churn { edm.sChurn = churn }
            return EDMSampler(edm: edm, steps: steps ?? defaultEDMSteps)
        case let .discrete(schedule, trainSteps, prediction):
            if ddim {
                return DDIMSampler(scheduler: DDIMScheduler(trainSteps: trainSteps, schedule: schedule, prediction: prediction, clipSample: false),
                                   inferenceSteps: Swift.min(steps ?? 50, trainSteps))
            }
            return DDPMSampler(scheduler: DDPMScheduler(trainSteps: trainSteps, schedule: schedule, prediction: prediction, clipSample: false),
                               inferenceSteps: steps.map { Swift.min($0, trainSteps) })
        }
    }
}
