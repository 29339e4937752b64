import Diffusion
import Foundation
import NN
import TensorCore

/// A diffusion generator the preference trainers can align (docs/seppo.md, "Implementation in this
/// repo"): the digits U-Net (class labels) and the trajectory model (unconditional; labels ignored).
/// Rows carry an integer label each, so one trainer serves both.
public protocol AlignableGenerator: ConfigurableModule {
    /// The shape of one sample (digits: [1, 8, 8]; trajectory windows: [H, D]).
    var sampleShape: [Int] { get }
    /// The denoiser as the objective calls it, for rows labelled `labels`.
    func denoiser(labels: [Int]) -> DenoisingNetwork
    /// One sample per label, without gradient, with `steps` sampler steps: [labels.count] + sampleShape.
    func generate(labels: [Int], objective: DiffusionObjective, steps: Int, rng: RandomGenerator) -> Tensor
    /// Metadata a checkpoint of this generator needs to be loaded for sampling (e.g. its objective).
    func checkpointMetadata(objective: DiffusionObjective) -> [String: String]
}

/// A preferred set D_w: samples [N] + sampleShape with one label each (digits: the class; trajectory
/// windows: 0).
public struct PreferenceSet {
    public var samples: Tensor
    public var labels: [Int]

    public init(samples: Tensor, labels: [Int]? = nil) {
        let n = samples.shape.first ?? 0
        precondition(labels == nil || labels!.count == n, "one label per sample")
        self.samples = samples
        self.labels = labels ?? [Int](repeating: 0, count: n)
    }

    public init(_ digits: DigitsData) { self.init(samples: digits.images, labels: digits.labels) }

    public var count: Int { labels.count }

    public func rows(_ indices: [Int]) -> PreferenceSet {
        PreferenceSet(samples: samples.indexSelect(axis: 0, indices), labels: indices.map { labels[$0] })
    }

    /// A short fingerprint (row count and a checksum of values and labels): a resumed run must see
    /// the same data.
    public var fingerprint: String { Self.fingerprint(samples, labels: labels) }

    public static func fingerprint(_ x: Tensor, labels: [Int]) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for v in x.scalars { h = (h ^ UInt64(v.bitPattern)) &* 0x100000001b3 }
        for l in labels { h = (h ^ UInt64(l)) &* 0x100000001b3 }
        return "\(labels.count):\(String(h, radix: 16))"
    }
}

extension UNet2D: AlignableGenerator {
    public var sampleShape: [Int] { [config.channels, config.size, config.size] }
    public func denoiser(labels: [Int]) -> DenoisingNetwork { network(condition: Tensor(labels.map(Float.init))) }
    public func generate(labels: [Int], objective: DiffusionObjective, steps: Int, rng: RandomGenerator) -> Tensor {
        DigitModel.sample(self, labels: labels, objective: objective, steps: steps, rng: rng)
    }
    public func checkpointMetadata(objective: DiffusionObjective) -> [String: String] { DigitModel.metadata(objective: objective) }
}
