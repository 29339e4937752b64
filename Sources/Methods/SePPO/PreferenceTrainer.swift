import Diffusion
import Foundation
import NN
import TensorCore

/// The alignment methods compared in docs/seppo.md §6.
public enum AlignmentMethod: String, CaseIterable, Codable, Sendable {
    /// SePPO (Zhang et al. 2024): reference from the bank, its sample as the companion, AAF.
    case seppo
    /// Diffusion-DPO (Wallace et al. 2023) on oracle pairs, reference = the frozen base model.
    case dpo
    /// Supervised fine-tuning: the denoising loss on the preferred set only.
    case sft
    /// SPIN-Diffusion (Yuan et al. 2024): reference = the latest snapshot, its samples always losers.
    case spin
}

/// Alignment settings (CleanRL style: one struct, every default documented with its source).
public struct AlignmentSettings: Codable, Sendable, Equatable {
    public var method: AlignmentMethod = .seppo
    /// SePPO's reference strategy; SPIN always uses `latest`, Diffusion-DPO `initial` (docs/seppo.md §3, §5).
    public var reference: ReferenceStrategy = .random
    /// SePPO's flipper; SPIN and Diffusion-DPO never flip (docs/seppo.md §3, step 4).
    public var flip: FlipMode = .sign
    /// β in the code's scale (mean error, β/2): 2000, SePPO's and Diffusion-DPO's SD1.5 value
    /// (docs/seppo.md §2; §6 suggests sweeping 100 … 5000).
    public var beta: Float = 2000
    /// Optimizer updates. 210 = the paper's N·K = 30·7 ([inf], docs/seppo.md §3).
    public var steps = 210
    /// A snapshot is appended to the bank every N updates (paper: N = 30, docs/seppo.md §3).
    public var bankEvery = 30
    /// Preferred digits per update. The paper's effective batch is 2048; 32 keeps one run on one core
    /// in minutes (docs/seppo.md, "Implementation in this repo").
    public var batchSize = 32
    /// AdamW learning rate. The paper's is not recovered; docs/seppo.md §6 suggests 1e-4 … 1e-5 for
    /// small models (the SD1.5 recipe is 2.048e-5 at batch 2048).
    public var learningRate: Float = 1e-4
    /// AdamW weight decay 1e-2 and gradient clipping at norm 1 (Diffusion-DPO's train.py, docs/seppo.md §2).
    public var weightDecay: Float = 1e-2
    public var gradientClip: Float = 1
    /// DDIM steps to draw a reference sample x^ref (docs/seppo.md §6: 20–50).
    public var samplingSteps = 20
    public var seed: UInt64 = 0

    public init() {}

    /// The reference strategy the method uses.
    public var effectiveReference: ReferenceStrategy {
        switch method {
        case .seppo: return reference
        case .spin: return .latest
        case .dpo, .sft: return .initial
        }
    }

    /// The flipper the method uses.
    public var effectiveFlip: FlipMode { method == .seppo ? flip : .off }

    /// Whether the bank grows (self-play methods) or stays [θ₀].
    public var growsBank: Bool { method == .seppo || method == .spin }
}

/// Aligns a generator (digits U-Net, trajectory model) with one of `AlignmentMethod` (docs/seppo.md
/// §2–§5). Resumable: the model, the checkpoint bank (θ₀ included), AdamW, the minibatch sampler, the
/// noise stream and the step.
public final class PreferenceTrainer<Generator: AlignableGenerator>: Trainer {
    public let settings: AlignmentSettings
    public let objective: DiffusionObjective
    public let model: Generator
    public let bank: CheckpointBank<Generator>
    /// The preferred set D_w.
    public let winners: PreferenceSet
    /// Oracle losers row-aligned with `winners` (Diffusion-DPO only).
    public let losers: Tensor?
    let optimizer: Adam
    let sampler: MinibatchSampler
    let rng: RandomGenerator
    public var step = 0

    public init(base: Generator, objective: DiffusionObjective, winners: PreferenceSet, losers: Tensor? = nil, settings: AlignmentSettings) throws {
        guard winners.count >= settings.batchSize else { throw SePPOTrainingError.tooFewSamples(train: winners.count, batch: settings.batchSize) }
        if settings.method == .dpo {
            guard let losers else { throw SePPOTrainingError.losersMissing }
            guard losers.shape == winners.samples.shape else {
                throw SePPOTrainingError.shapeMismatch("losers \(losers.shape) do not match winners \(winners.samples.shape)")
            }
        }
        func dims(_ shape: some Collection<Int>) -> String { shape.map(String.init).joined(separator: "×") }
        guard Array(winners.samples.shape.dropFirst()) == base.sampleShape else {
            throw SePPOTrainingError.shapeMismatch("the model generates \(dims(base.sampleShape)) samples; the preferred set holds \(dims(winners.samples.shape.dropFirst()))")
        }
        self.settings = settings
        self.objective = objective
        self.winners = winners
        self.losers = losers
        model = base.clone()
        model.unfreeze()
        model.train()
        bank = CheckpointBank(initial: base)
        rng = RandomGenerator(seed: settings.seed)
        optimizer = Adam(parameters: model.trainableParameters(),
                         config: .init(learningRate: settings.learningRate, weightDecay: settings.weightDecay, decoupled: true,
                                       maxGradientNorm: settings.gradientClip))
        sampler = MinibatchSampler(count: winners.count, batchSize: settings.batchSize, seed: rng.nextUInt64())
    }

    /// One update; returns its metrics: loss, implicit accuracy, flip rate, the model's and the
    /// reference's error on the winners, and the reference's bank index.
    public func trainStep() -> [String: Float] {
        let indices = sampler.next()
        let batch = winners.rows(indices)
        var metrics: [String: Float] = [:]
        let loss: Tensor
        if settings.method == .sft {
            // The objective's loss: in a data-parallel run, each rank's shard of the batch.
            loss = objective.loss(model.denoiser(labels: batch.labels), x0: batch.samples, rng: rng)
            metrics["mse_model"] = loss.item
        } else {
            let r = settings.effectiveReference.select(count: bank.count, rng: rng)
            let reference = bank[r]
            let others: Tensor
            if settings.method == .dpo {
                others = losers!.indexSelect(axis: 0, indices)
            } else {
                others = reference.generate(labels: batch.labels, objective: objective, steps: settings.samplingSteps, rng: rng)
            }
            var noise = PreferenceLoss.pairNoise(objective, like: batch.samples, rng: rng)
            var (pairs, companions) = (batch, others)
            if let group = ProcessGroup.parallel {
                // Data parallel: every rank drew the same batch, references and noise; each takes its
                // shard of the pairs (rows i and B + i of the noise belong to pair i).
                let b = batch.count, mine = Array(group.shard(b))
                precondition(b % group.size == 0, "a batch of \(b) pairs does not split evenly over \(group.size) ranks")
                (pairs, companions) = (batch.rows(mine), others.indexSelect(axis: 0, mine))
                noise = noise.rows(mine + mine.map { $0 + b })
            }
            let labels = pairs.labels + pairs.labels
            let errors = PreferenceLoss.pairErrors(objective, model: model.denoiser(labels: labels), reference: reference.denoiser(labels: labels),
                                                   winners: pairs.samples, others: companions, noise: noise)
            let result = PreferenceLoss.evaluate(errors, beta: settings.beta, factors: settings.effectiveFlip.factors(anchorAdvantage: errors.anchorAdvantage))
            loss = result.loss
            metrics["implicit_acc"] = result.implicitAccuracy
            metrics["flip_rate"] = result.flipRate
            metrics["mse_model"] = errors.modelWinner.mean().item
            metrics["mse_ref"] = errors.referenceWinner.mean().item
            metrics["ref_index"] = Float(r)
        }
        metrics["loss"] = loss.item
        optimizer.minimize(loss)   // clips at settings.gradientClip
        step += 1
        if settings.growsBank && step % settings.bankEvery == 0 { bank.append(model) }
        return metrics
    }

    // Trainer: the aligned model, with the bank in its state.
    public var savedModule: any ConfigurableModule { model }
    public var resumableParts: [(String, any Resumable)] {
        [("optimizer", optimizer), ("sampler", sampler), ("noise", rng), ("bank", bank)]
    }
    public var resumeSettings: [String: String] {
        var s = ["seppo_settings": canonicalJSON(settings), "seppo_winners": winners.fingerprint]
        if let losers { s["seppo_losers"] = PreferenceSet.fingerprint(losers, labels: []) }
        return s
    }
    public var checkpointMetadata: [String: String] { model.checkpointMetadata(objective: objective) }
}

extension PreferenceTrainer where Generator == UNet2D {
    /// A digits trainer on a labelled digits set.
    public convenience init(base: UNet2D, objective: DiffusionObjective, winners: DigitsData, losers: Tensor? = nil, settings: AlignmentSettings) throws {
        try self.init(base: base, objective: objective, winners: PreferenceSet(winners), losers: losers, settings: settings)
    }
}
