import Diffusion
import Foundation
import NN
import OfflineRL
import TensorCore

/// How synthetic data is drawn from a trajectory model (docs/pgd.md §3–§4).
public struct SynthesisSettings: Codable, Sendable, Equatable {
    /// Guidance coefficient λ (0: unguided diffusion; the reference's default is 0, the paper's value
    /// is not published — docs/pgd.md §3).
    public var lambda: Float = 0
    /// The schedule's sine bump (docs/pgd.md §3: 0.3).
    public var bump: Float = 0.3
    /// g ← g/‖g‖ per window (the reference's --normalize_action_guidance).
    public var normalizeGradient = false
    /// Read s and u from x (default) or from the denoised estimate (--denoised_guidance).
    public var target: GuidanceTarget = .sample
    /// Rows per sampled window L; transitions per window L − 1. A multiple of the network's
    /// length multiple (the reference's 129 does not fit a U-Net that halves the length; 128 does).
    /// nil: the model's own length (`TrajectoryModel.defaultLength`).
    public var length: Int?
    /// Windows per sampler call; nil: 8,192 rows' worth (64 windows of 128 rows; 4,096 one-transition windows).
    public var batch: Int?
    public var sampling = TrajectorySampling()

    public init(lambda: Float = 0, length: Int? = nil, batch: Int? = nil, sampling: TrajectorySampling = TrajectorySampling()) {
        self.lambda = lambda; self.length = length; self.batch = batch; self.sampling = sampling
    }
}

public enum SynthesisError: Error, Equatable, CustomStringConvertible {
    case badLength(Int, multiple: Int)
    case fixedLength(Int, model: Int)
    case guidanceWithoutPolicy
    /// A diffusion policy has no tractable log π(a | s) to guide toward (docs/pgd.md §3).
    case guidanceNeedsLikelihood
    case nonFinite(batch: Int)

    public var description: String {
        switch self {
        case let .badLength(l, m): return "window length \(l) must be a positive multiple of \(m) (the network halves the length at each level) and at least 2"
        case let .fixedLength(l, m): return "window length \(l) differs from the \(m) rows this model's MLP was trained on (it samples only that length)"
        case .guidanceWithoutPolicy: return "a guidance coefficient λ ≠ 0 needs a target policy"
        case .guidanceNeedsLikelihood:
            return "guidance (λ ≠ 0) needs an actor with a log-likelihood (td3bc, iql); a diffusion policy trains on unguided pools (λ = 0) or world-model rollouts"
        case let .nonFinite(b): return "sampling produced NaN or infinite values in batch \(b)"
        }
    }
}

extension TrajectoryModel {
    /// Rows per sampled window when the settings leave it open: the MLP's fixed length, else PGD's 128
    /// (docs/pgd.md §3).
    public var defaultLength: Int { config.network.fixedLength ?? 128 }

    /// The window length `settings` sample, checked against the network.
    public func windowLength(_ settings: SynthesisSettings) throws -> Int {
        let length = settings.length ?? defaultLength
        if let fixed = config.network.fixedLength, length != fixed { throw SynthesisError.fixedLength(length, model: fixed) }
        let multiple = config.network.lengthMultiple
        guard length >= 2, length % multiple == 0 else { throw SynthesisError.badLength(length, multiple: multiple) }
        return length
    }

    /// Windows per sampler call for windows of `length` rows.
    func windowsPerCall(_ settings: SynthesisSettings, length: Int) -> Int { settings.batch ?? Swift.max(1, 8192 / length) }

    /// Normalized windows [count, L, D] sampled with optional policy guidance. Batch k draws from
    /// its own stream (the seed's counter offset by k·2⁴⁰), so work split by batch index (threads,
    /// processes) reproduces the same windows for the same batch size.
    /// `batches`: only these batch indices (a rank's share of a sharded run; nil: all).
    public func sampleWindows(count: Int, policy: (any DifferentiablePolicy)?, settings: SynthesisSettings, seed: UInt64,
                              batches: Range<Int>? = nil, progress: ((Int) -> Void)? = nil) throws -> Tensor {
        let length = try windowLength(settings)
        guard settings.lambda == 0 || policy != nil else { throw SynthesisError.guidanceWithoutPolicy }
        let guidance = policy.map {
            PolicyGuidance(layout: layout, policy: $0, target: settings.target)
                .config(lambda: settings.lambda, bump: settings.bump, normalizeGradient: settings.normalizeGradient)
        }
        let sampler = settings.sampling.sampler(for: config.objective, defaultEDMSteps: config.network.defaultEDMSteps)
        eval()
        let network = denoisingNetwork()
        var parts: [Tensor] = []
        var done = 0
        let batch = windowsPerCall(settings, length: length)
        for (k, start) in stride(from: 0, to: count, by: batch).enumerated() where batches?.contains(k) ?? true {
            let rows = Swift.min(batch, count - start)
            let rng = RandomGenerator(seed: seed, counter: UInt64(k) << 40)
            let x = sampler.sample(network, shape: [rows, length, layout.width], guidance: settings.lambda == 0 ? nil : guidance,
                                   inpainting: nil, rng: rng)
            guard x.isFinite else { throw SynthesisError.nonFinite(batch: k) }
            parts.append(x)
            done += rows
            progress?(done)
        }
        if parts.isEmpty { return Tensor(zeros: [0, length, layout.width]) }
        return parts.count == 1 ? parts[0] : Tensor.concat(parts, axis: 0)
    }

    /// `transitions` synthetic transitions in environment units (D4RL layout): windows decoded by
    /// the layout, the last window cut to size (its last kept row becomes a timeout).
    public func synthesize(transitions n: Int, policy: (any DifferentiablePolicy)?, settings: SynthesisSettings, seed: UInt64,
                           progress: ((Int) -> Void)? = nil) throws -> OfflineDataset {
        precondition(n >= 1, "synthesize needs at least one transition")
        let perWindow = try windowLength(settings) - 1
        let windows = (n + perWindow - 1) / perWindow
        let x = try sampleWindows(count: windows, policy: policy, settings: settings, seed: seed, progress: progress.map { p in { p(Swift.min($0 * perWindow, n)) } })
        return try transitions(n, of: x)
    }

    /// `synthesize` split over the ranks of a data-parallel job (docs/distributed.md): rank r samples a
    /// contiguous share of the batches (each batch has its own random stream, so the windows are
    /// those one process samples), the windows are gathered to rank 0 in order and decoded there.
    /// The same dataset as `synthesize` with the same seed, on rank 0; nil on the others.
    public func synthesizeSharded(transitions n: Int, policy: (any DifferentiablePolicy)?, settings: SynthesisSettings, seed: UInt64,
                                  group: ProcessGroup, progress: ((Int) -> Void)? = nil) throws -> OfflineDataset? {
        precondition(n >= 1, "synthesize needs at least one transition")
        let length = try windowLength(settings), perWindow = length - 1
        let windows = (n + perWindow - 1) / perWindow
        let batch = windowsPerCall(settings, length: length)
        let batchCount = (windows + batch - 1) / batch
        let x = try sampleWindows(count: windows, policy: policy, settings: settings, seed: seed, batches: group.shard(batchCount),
                                  progress: progress.map { p in { p(Swift.min($0 * perWindow, n)) } })
        let bytes = x.scalars.withUnsafeBufferPointer { Data(buffer: $0) }
        guard let parts = group.gather(bytes) else { return nil }
        let all = parts.flatMap { part in part.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        return try transitions(n, of: Tensor(all, shape: [windows, length, layout.width]))
    }

    /// The first n transitions of decoded windows; the last kept row becomes a timeout.
    private func transitions(_ n: Int, of x: Tensor) throws -> OfflineDataset {
        var data = try layout.decode(x)
        if data.count > n {
            data = data.subset(Array(0..<n))
            if data.terminals.scalars[n - 1] == 0 {
                var t = data.timeouts.scalars
                t[n - 1] = 1
                data.timeouts = Tensor(t)
            }
        }
        return data
    }
}
