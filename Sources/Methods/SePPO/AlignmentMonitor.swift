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
    /// Draws `count` preferred samples, a reference by the method's strategy, one sample of the
    /// reference and one of the current model per preferred sample's label (same sampler noise), and
    /// the anchor test's sign on fresh pair noise. Uses its own generator (`seed`), so training is unaffected.
    public func probe(count: Int, seed: UInt64) -> FlipProbe {
        let rng = RandomGenerator(seed: seed)
        let batch = winners.rows((0..<count).map { _ in rng.nextInt(below: winners.count) })
        let r = settings.effectiveReference.select(count: bank.count, rng: rng)
        let reference = bank[r]
        let sampleSeed = rng.nextUInt64()
        let referenceSamples = reference.generate(labels: batch.labels, objective: objective, steps: settings.samplingSteps,
                                                  rng: RandomGenerator(seed: sampleSeed))
        model.eval()
        defer { model.train() }
        let modelSamples = model.generate(labels: batch.labels, objective: objective, steps: settings.samplingSteps,
                                          rng: RandomGenerator(seed: sampleSeed))
        let labels = batch.labels + batch.labels
        let errors = noGrad {
            PreferenceLoss.pairErrors(objective, model: model.denoiser(labels: labels), reference: reference.denoiser(labels: labels),
                                      winners: batch.samples, others: referenceSamples,
                                      noise: PreferenceLoss.pairNoise(objective, like: batch.samples, rng: rng))
        }
        return FlipProbe(labels: batch.labels, signs: FlipMode.sign.factors(anchorAdvantage: errors.anchorAdvantage),
                         referenceSamples: referenceSamples, modelSamples: modelSamples, referenceIndex: r)
    }
}

/// Held-out diagnostics during alignment: the score-vs-step curve of the current model (fixed
/// sampling noise, one sample per curve label) and the flipper's precision,
/// P(S(x^ref) > S(x_θ) | sign = −1) against the same given sign = +1 (docs/seppo.md §6, Report 3–4).
/// The score S never enters a loss.
public final class AlignmentMonitor {
    /// S per sample, given the samples and their labels.
    public let score: (Tensor, [Int]) -> [Float]
    /// The labels of the curve's samples.
    public let curveLabels: [Int]
    public let probeSize: Int
    public let seed: UInt64
    /// (step, mean held-out score) per evaluation.
    public private(set) var curve: [(step: Int, score: Float)] = []
    /// Probe rows with sign −1 (flipped) and +1 (kept), and how many of each had S(x^ref) > S(x_θ).
    public private(set) var flipped = 0, flippedReferenceBetter = 0
    public private(set) var kept = 0, keptReferenceBetter = 0

    public init(curveLabels: [Int], probeSize: Int = 32, seed: UInt64, score: @escaping (Tensor, [Int]) -> [Float]) {
        self.curveLabels = curveLabels; self.probeSize = probeSize; self.seed = seed; self.score = score
    }

    /// Digits: the held-out classifier's log p(c | x), `perClass` samples of each class.
    public convenience init(scorer: DigitScorer, perClass: Int = 10, probeSize: Int = 32, seed: UInt64) {
        self.init(curveLabels: (0..<(perClass * DigitsData.classes)).map { $0 % DigitsData.classes }, probeSize: probeSize, seed: seed) {
            scorer.score($0, labels: $1)
        }
    }

    /// Evaluates the trainer's current model and probes its flipper (at the trainer's step).
    public func record<G>(_ trainer: PreferenceTrainer<G>) {
        trainer.model.eval()
        let samples = trainer.model.generate(labels: curveLabels, objective: trainer.objective, steps: trainer.settings.samplingSteps,
                                             rng: RandomGenerator(seed: seed))
        trainer.model.train()
        let scores = score(samples, curveLabels)
        curve.append((trainer.step, scores.reduce(0, +) / Float(scores.count)))
        guard trainer.settings.method != .sft else { return }
        let p = trainer.probe(count: probeSize, seed: seed &+ UInt64(trainer.step) &* 0x9E37_79B9)
        let sRef = score(p.referenceSamples, p.labels), sModel = score(p.modelSamples, p.labels)
        for i in p.labels.indices {
            let better = sRef[i] > sModel[i] ? 1 : 0
            if p.signs[i] < 0 { flipped += 1; flippedReferenceBetter += better } else { kept += 1; keptReferenceBetter += better }
        }
    }
}
