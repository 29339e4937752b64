import Foundation

/// Which rows stop bootstrapping: `terminals` only (D4RL, PGD's agents: a timeout is not an end of
/// the MDP), or `terminals OR timeouts` (FISOR's reference code). docs/conventions.md, Data and spaces.
public enum Bootstrapping: String, Codable, Sendable, CaseIterable {
    case terminalsOnly = "terminals"
    case terminalsOrTimeouts = "terminals-or-timeouts"
}

/// Hyperparameters of the offline agents, with the defaults of PGD's agents (docs/pgd.md §5,
/// reference code EmptyJackson/policy-guided-diffusion) unless noted.
public struct AgentHyperparameters: Codable, Sendable, Equatable {
    /// Adam learning rate, constant (pgd.md §5: 3e-4 since the Jul-2024 commit).
    public var learningRate: Float = 3e-4
    /// Adam ε (pgd.md §5).
    public var adamEps: Float = 1e-5
    /// Minibatch size (pgd.md §4: 256).
    public var batchSize = 256
    /// Discount γ (pgd.md §5).
    public var discount: Float = 0.99
    /// Polyak rate τ, applied at the start of each step (pgd.md §5).
    public var polyak: Float = 0.005
    /// TD3+BC α: the actor maximises α/mean|Q| · Q − (π(s) − a)² (Fujimoto & Gu 2021; pgd.md §5).
    public var td3Alpha: Float = 2.5
    /// TD3 target-policy smoothing: noise N(0, σ²) clipped to ±c (Fujimoto et al. 2018).
    public var targetNoise: Float = 0.2
    public var targetNoiseClip: Float = 0.5
    /// IQL expectile τ (Kostrikov et al. 2022, locomotion; pgd.md §5).
    public var expectile: Float = 0.7
    /// IQL inverse temperature β of the advantage weights exp(β u), capped at 100 (pgd.md §5).
    public var iqlBeta: Float = 3
    public var iqlMaxWeight: Float = 100
    /// IQL: the Q target uses V before this step's update (pgd.md §5) or after it (the IQL paper's code).
    public var iqlUpdatedValueForQ = false
    /// Rewards are multiplied by rewardScale / (max − min episode return) when > 0 (IQL's locomotion
    /// recipe uses 1000); 0 leaves rewards as they are (TD3+BC).
    public var rewardScale: Float = 0
    /// z-score observations with the dataset's statistics, (s − m) / (sd + 1e-3) (pgd.md §5, optional there).
    public var normalizeObservations = true
    public var bootstrapping: Bootstrapping = .terminalsOnly

    public init() {}

    /// The defaults for `algorithm`: IQL normalizes rewards by the return range (×1000).
    public static func defaults(for algorithm: AgentAlgorithm) -> AgentHyperparameters {
        var h = AgentHyperparameters()
        if algorithm == .iql { h.rewardScale = 1000 }
        return h
    }
}
