import Diffusion
import Foundation
import NN
import TensorCore

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
