import Diffusion
import Foundation
import NN
import TensorCore

/// What the flipper's test says on one probe batch, beside samples of the reference and of the
/// current model drawn from the same noise (docs/seppo.md §6, Report 4: the flip's precision).
public struct FlipProbe {
    public var labels: [Int]
    /// The `sign` flipper's factor per row (−1: the reference looks better on the anchor), whatever
    /// flipper the method trains with.
    public var signs: [Float]
    public var referenceSamples: Tensor
    public var modelSamples: Tensor
    public var referenceIndex: Int
}

extension PreferenceTrainer {
    /// Draws `count` preferred digits, a reference by the method's strategy, one sample of the
    /// reference and one of the current model per digit's class (same DDIM noise), and the anchor
    /// test's sign on fresh pair noise. Uses its own generator (`seed`), so training is unaffected.
    public func probe(count: Int, seed: UInt64) -> FlipProbe {
        let rng = RandomGenerator(seed: seed)
        let batch = winners.rows((0..<count).map { _ in rng.nextInt(below: winners.count) })
        let r = settings.effectiveReference.select(count: bank.count, rng: rng)
        let reference = bank[r]
        let sampleSeed = rng.nextUInt64()
        let referenceSamples = DigitModel.sample(reference, labels: batch.labels, objective: objective, steps: settings.samplingSteps,
                                                 rng: RandomGenerator(seed: sampleSeed))
        model.eval()
        defer { model.train() }
        let modelSamples = DigitModel.sample(model, labels: batch.labels, objective: objective, steps: settings.samplingSteps,
                                             rng: RandomGenerator(seed: sampleSeed))
        let condition = Tensor((batch.labels + batch.labels).map(Float.init))
        let errors = noGrad {
            PreferenceLoss.pairErrors(objective, model: model.network(condition: condition), reference: reference.network(condition: condition),
                                      winners: batch.images, others: referenceSamples,
                                      noise: PreferenceLoss.pairNoise(objective, like: batch.images, rng: rng))
        }
        return FlipProbe(labels: batch.labels, signs: FlipMode.sign.factors(anchorAdvantage: errors.anchorAdvantage),
                         referenceSamples: referenceSamples, modelSamples: modelSamples, referenceIndex: r)
    }
}

/// Held-out diagnostics during alignment: the score-vs-step curve of the current model (fixed
/// sampling noise, `perClass` samples of each class) and the flipper's precision,
/// P(S(x^ref) > S(x_θ) | sign = −1) against the same given sign = +1 (docs/seppo.md §6, Report 3–4).
public final class AlignmentMonitor {
    public let scorer: DigitScorer
    public let perClass: Int
    public let probeSize: Int
    public let seed: UInt64
    /// (step, mean held-out score) per evaluation.
    public private(set) var curve: [(step: Int, score: Float)] = []
    /// Probe rows with sign −1 (flipped) and +1 (kept), and how many of each had S(x^ref) > S(x_θ).
    public private(set) var flipped = 0, flippedReferenceBetter = 0
    public private(set) var kept = 0, keptReferenceBetter = 0

    public init(scorer: DigitScorer, perClass: Int = 10, probeSize: Int = 32, seed: UInt64) {
        self.scorer = scorer; self.perClass = perClass; self.probeSize = probeSize; self.seed = seed
    }

    /// Evaluates the trainer's current model and probes its flipper (at the trainer's step).
    public func record(_ trainer: PreferenceTrainer) {
        let labels = (0..<(perClass * DigitsData.classes)).map { $0 % DigitsData.classes }
        trainer.model.eval()
        let samples = DigitModel.sample(trainer.model, labels: labels, objective: trainer.objective, steps: trainer.settings.samplingSteps,
                                        rng: RandomGenerator(seed: seed))
        trainer.model.train()
        let scores = scorer.score(samples, labels: labels)
        curve.append((trainer.step, scores.reduce(0, +) / Float(scores.count)))
        guard trainer.settings.method != .sft else { return }
        let p = trainer.probe(count: probeSize, seed: seed &+ UInt64(trainer.step) &* 0x9E37_79B9)
        let sRef = scorer.score(p.referenceSamples, labels: p.labels), sModel = scorer.score(p.modelSamples, labels: p.labels)
        for i in p.labels.indices {
            let better = sRef[i] > sModel[i] ? 1 : 0
            if p.signs[i] < 0 { flipped += 1; flippedReferenceBetter += better } else { kept += 1; keptReferenceBetter += better }
        }
    }
}
