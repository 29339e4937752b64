import Foundation
import NN
import Imaging
import TensorCore

/// The held-out judge of the digits setup (docs/seppo.md §6, Setup A), trained only on the `scorer`
/// split, never used in training: a classifier MLP 64 → 128 → 64 → 10 (SiLU) whose log p(c | x) is the
/// score S and whose 64-d last hidden layer gives the features of the Fréchet distance, plus a
/// degradation detector MLP 64 → 64 → 1 that estimates p(degraded | x).
public final class DigitScorer: Module, ConfigurableModule {
    public struct Config: Codable, Sendable, Equatable {
        public var hidden = 128
        public var features = 64
        public var detectorHidden = 64
        public init(hidden: Int = 128, features: Int = 64, detectorHidden: Int = 64) {
            self.hidden = hidden; self.features = features; self.detectorHidden = detectorHidden
        }
    }

    public let config: Config
    public let layer1: Linear
    public let layer2: Linear
    public let head: Linear
    public let detector1: Linear
    public let detectorHead: Linear

    public init(config c: Config, rng: RandomGenerator) {
        config = c
        let pixels = DigitsData.side * DigitsData.side
        layer1 = Linear(pixels, c.hidden, activation: .silu, rng: rng)
        layer2 = Linear(c.hidden, c.features, activation: .silu, rng: rng)
        head = Linear(c.features, DigitsData.classes, rng: rng)
        detector1 = Linear(pixels, c.detectorHidden, activation: .silu, rng: rng)
        detectorHead = Linear(c.detectorHidden, 1, rng: rng)
    }

    private func flat(_ images: Tensor) -> Tensor { images.reshaped([images.shape[0], -1]) }

    /// Classifier features [N, features].
    public func features(_ images: Tensor) -> Tensor { layer2(layer1(flat(images))) }

    /// Class logits [N, 10].
    public func logits(_ images: Tensor) -> Tensor { head(features(images)) }

    /// Detector logit [N] (> 0: degraded).
    public func degradationLogit(_ images: Tensor) -> Tensor { detectorHead(detector1(flat(images))).reshaped([images.shape[0]]) }

    /// S(x, c) = log p(c | x) per image.
    public func score(_ images: Tensor, labels: [Int]) -> [Float] {
        noGrad {
            let lp = logits(images).logSoftmax(axis: 1).scalars
            return labels.enumerated().map { lp[$0.offset * DigitsData.classes + $0.element] }
        }
    }

    /// p(degraded | x) per image.
    public func degradationProbability(_ images: Tensor) -> [Float] { noGrad { degradationLogit(images).sigmoid().scalars } }

    /// The most likely class per image.
    public func predictedClasses(_ images: Tensor) -> [Int] {
        noGrad { logits(images).argmax(axis: 1).scalars.map { Int($0) } }
    }

    /// Settings of `train` (small and fast: one core, seconds).
    public struct Training: Codable, Sendable, Equatable {
        public var steps = 3000
        public var batchSize = 64
        public var learningRate: Float = 1e-3
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Trains classifier and detector on `data` (the `scorer` split). The detector sees each clean
    /// digit and a degraded copy (a fresh `Degradation` each step).
    public static func train(on data: DigitsData, settings: Training = Training(), log: ((String) -> Void)? = nil) -> DigitScorer {
        let rng = RandomGenerator(seed: settings.seed)
        let scorer = DigitScorer(config: Config(), rng: rng.fork())
        let optimizer = Adam(scorer, learningRate: settings.learningRate)
        let sampler = MinibatchSampler(count: data.count, batchSize: Swift.min(settings.batchSize, data.count), seed: rng.nextUInt64())
        for step in 0..<settings.steps {
            let batch = data.rows(sampler.next())
            let b = batch.count
            let degraded = Degradation.degrade(batch.images, rng: rng).images
            let classLoss = Loss.crossEntropy(logits: scorer.logits(batch.images), labels: IntTensor(batch.labels))
            let detectorLogits = scorer.degradationLogit(Tensor.concat([batch.images, degraded], axis: 0))
            let targets = Tensor([Float](repeating: 0, count: b) + [Float](repeating: 1, count: b))
            // Binary cross-entropy with logits: softplus(l) − y·l.
            let detectorLoss = (detectorLogits.softplus() - detectorLogits * targets).mean()
            let loss = classLoss + detectorLoss
            optimizer.minimize(loss)
            if let log, (step + 1) % 1000 == 0 {
                log(String(format: "scorer step %d: classifier %.4f, detector %.4f", step + 1, Double(classLoss.item), Double(detectorLoss.item)))
            }
        }
        scorer.eval()
        return scorer
    }
}

/// What the held-out scorer says about a set of class-conditional samples (docs/seppo.md §6, Report).
public struct SampleReport: Codable, Sendable {
    /// S(x, c) = log p(c | x) per sample (for paired win rates), and its mean.
    public var scores: [Float]
    public var meanScore: Float
    /// Fraction of samples the classifier assigns to their condition's class.
    public var accuracy: Float
    /// Fraction the detector calls degraded (p > 0.5), and the mean p(degraded).
    public var degradedFraction: Float
    public var meanDegradation: Float
    /// Mean over classes of the mean pairwise Euclidean distance between that class's samples (pixels in [−1, 1]).
    public var diversity: Float
    /// Number of classes whose samples are classified as that class at least once.
    public var coverage: Int
    /// Fréchet distance of the classifier features to the clean `evaluation` digits.
    public var frechet: Double

    public static func measure(_ samples: Tensor, labels: [Int], scorer: DigitScorer, reference: DigitsData) throws -> SampleReport {
        let scores = scorer.score(samples, labels: labels)
        let predicted = scorer.predictedClasses(samples)
        let degraded = scorer.degradationProbability(samples)
        let n = Float(labels.count)
        let hits = zip(predicted, labels).filter { $0 == $1 }
        let covered = Set(hits.map(\.0)).count
        let frechet = try noGrad { try FrechetDistance.distance(scorer.features(samples), scorer.features(reference.images)) }
        return SampleReport(scores: scores, meanScore: scores.reduce(0, +) / n, accuracy: Float(hits.count) / n,
                            degradedFraction: Float(degraded.filter { $0 > 0.5 }.count) / n, meanDegradation: degraded.reduce(0, +) / n,
                            diversity: meanPairwiseDistance(samples, labels: labels), coverage: covered, frechet: frechet)
    }

    /// Per-class mean pairwise distance, averaged over the classes with at least two samples.
    public static func meanPairwiseDistance(_ samples: Tensor, labels: [Int]) -> Float {
        let d = samples.count / Swift.max(labels.count, 1)
        let v = samples.scalars
        var total: Double = 0
        var classes = 0
        for c in Set(labels).sorted() {
            let rows = labels.indices.filter { labels[$0] == c }
            guard rows.count >= 2 else { continue }
            var sum: Double = 0
            var pairs = 0
            for i in 0..<rows.count { for j in (i + 1)..<rows.count {
                var s: Double = 0
                for k in 0..<d { let e = Double(v[rows[i] * d + k] - v[rows[j] * d + k]); s += e * e }
                sum += s.squareRoot()
                pairs += 1
            } }
            total += sum / Double(pairs)
            classes += 1
        }
        return classes == 0 ? 0 : Float(total / Double(classes))
    }
}
