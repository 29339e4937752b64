import Diffusion
import Foundation
import OfflineRL

/// The diffusion-policy algorithms of `diffuse train agent --algo` (docs/offline-agents.md).
public enum DiffusionAlgorithm: String, Codable, Sendable, CaseIterable {
    /// Behaviour cloning with the diffusion actor: the denoising loss on dataset actions.
    case diffusionBC = "diffusion-bc"
    /// Implicit Diffusion Q-learning (Hansen-Estruch et al. 2023).
    case idql
    /// Diffusion-QL (Wang et al. 2023).
    case dql

    /// IDQL and Diffusion-QL learn critics from rewards.
    public var needsRewards: Bool { self != .diffusionBC }
}

/// How one action is chosen among the N candidates the EMA actor samples for a state.
public enum DiffusionSelection: String, Codable, Sendable, CaseIterable {
    /// The first candidate (diffusion BC: a plain sample of the behaviour policy).
    case sample
    /// argmax_i Q(s, a_i), Q = min of the twin critics (IDQL's greedy selector; "IDQL-A" is not this).
    case argmaxQ = "argmax-q"
    /// IDQL's energy re-sampling (Hansen-Estruch et al. 2023, §4.2 with the expectile critic): draw
    /// candidate i with probability ∝ w(s, a_i) = |τ − 1(Q − V < 0)| / |Q − V|.
    case expectileWeights = "expectile-weights"
    /// Diffusion-QL's action selection (reference code `sample_action`): draw i with probability
    /// softmax_i(Q(s, a_i)).
    case softmaxQ = "softmax-q"
}

/// Hyperparameters of the diffusion policies, one struct for the three algorithms. Defaults are the
/// papers' D4RL locomotion settings (Diffusion-QL: Wang et al. 2023, App. D / Table 6 and the
/// reference code Zhendong-Wang/Diffusion-Policies-for-Offline-RL; IDQL: Hansen-Estruch et al. 2023,
/// App. B and philippe-eecs/IDQL), recalled, not re-read in this session — where a value is a
/// reduction of ours it says so.
public struct DiffusionPolicySettings: Codable, Sendable, Equatable {
    public var algorithm: DiffusionAlgorithm
    /// Diffusion steps T (both papers: 5 for locomotion).
    public var diffusionSteps = 5
    /// Clip x̂₀ at every reverse step instead of the sample (Diffusion-QL's reference sampler; see
    /// `DiffusionActorSampler`); IDQL and diffusion BC use FISOR's and IDQL's per-step clamp.
    public var clipPrediction = false
    /// Actor ε-network (Diffusion IO's residual MLP, docs/fisor.md §5): width, hidden, blocks,
    /// dropout. IDQL: LN-ResNet width 256, 3 blocks, dropout 0.1; Diffusion-QL's reference is a
    /// 3-layer 256 Mish MLP — here the same residual network with dropout 0, for one shared actor.
    public var actorWidth = 256
    public var actorHidden = 256
    public var actorBlocks = 3
    public var dropout: Float = 0.1
    /// Critic MLP hidden sizes (both papers: 256-256; ReLU here, Diffusion-QL uses Mish).
    public var criticHidden = [256, 256]
    /// Adam learning rates (both papers: 3e-4).
    public var actorLearningRate: Float = 3e-4
    public var criticLearningRate: Float = 3e-4
    /// Minibatch size (both papers: 256).
    public var batchSize = 256
    /// Discount γ and Polyak rate τ of the target critics (both papers: 0.99, 0.005).
    public var discount: Float = 0.99
    public var polyak: Float = 0.005
    /// EMA rate of the actor copy that samples actions (Diffusion-QL: decay 0.995 → rate 0.005;
    /// IDQL: 0.005). Applied every step (Diffusion-QL's code: every 5 steps after 1000 — simplified).
    public var actorEMA: Float = 0.005
    /// IQL expectile τ of IDQL's value (IDQL: 0.7 for locomotion).
    public var expectile: Float = 0.7
    /// Diffusion-QL's η of the Q term, normalized by mean|Q| (Eq. 3; locomotion η = 1.0 for the
    /// medium(-replay) tasks).
    public var eta: Float = 1
    /// Diffusion-QL's max-Q backup (sample `backupSamples` next actions and back up the max; the paper
    /// uses it for AntMaze only, so off here).
    public var maxQBackup = false
    public var backupSamples = 10
    /// Candidates per state at action time (IDQL: N = 32 for locomotion; Diffusion-QL: 50).
    public var candidates = 32
    public var selection: DiffusionSelection = .expectileWeights
    /// Rewards × rewardScale / (return range) when > 0 (IQL's locomotion recipe, IDQL follows it); 0 keeps them.
    public var rewardScale: Float = 0
    public var normalizeObservations = true
    public var bootstrapping: Bootstrapping = .terminalsOnly

    public init(algorithm: DiffusionAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .diffusionBC:
            candidates = 1
            selection = .sample
        case .idql:
            rewardScale = 1000
        case .dql:
            dropout = 0
            clipPrediction = true
            candidates = 50
            selection = .softmaxQ
        }
    }

    /// The actor's sampler for these settings.
    public var sampler: DiffusionActorSampler { DiffusionActorSampler(steps: diffusionSteps, clipsPrediction: clipPrediction) }

    /// nil, or why these settings cannot train.
    public func validationError() -> String? {
        if diffusionSteps < 1 { return "diffusion steps must be positive" }
        if candidates < 1 { return "candidates must be positive" }
        if batchSize < 1 { return "the batch size must be positive" }
        if backupSamples < 1 { return "backup samples must be positive" }
        if selection != .sample && algorithm == .diffusionBC { return "diffusion-bc has no critic to select candidates with" }
        if selection == .expectileWeights && algorithm != .idql { return "expectile-weight selection needs IDQL's value network" }
        return nil
    }
}
