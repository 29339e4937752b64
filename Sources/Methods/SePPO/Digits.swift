import Foundation
import NN
import TensorCore

/// Why a digits file cannot be used.
public enum DigitsError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badRow(path: String, line: Int, reason: String)
    case empty(path: String)

    public var description: String { rawDescription.oneLine() }

    private var rawDescription: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read digits file \(path): \(reason)"
        case let .badRow(path, line, reason): return "\(path):\(line): \(reason)"
        case let .empty(path): return "\(path) holds no digits"
        }
    }
}

/// A labelled set of 8×8 grey digits: images [N, 1, 8, 8] scaled to [−1, 1] and class labels 0…9
/// (data/README.md: the UCI / scikit-learn digits).
public struct DigitsData {
    public static let side = 8
    public static let classes = 10
    /// The CSV's pixel range 0…16.
    public static let maxPixel: Float = 16

    public var images: Tensor
    public var labels: [Int]

    public init(images: Tensor, labels: [Int]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count, "digits need [N, 1, 8, 8] images and one label each")
        self.images = images
        self.labels = labels
    }

    public var count: Int { labels.count }

    /// Parses CSV text: one digit a line, 64 pixels 0…16 (row-major) then the label 0…9.
    /// Blank lines are skipped; anything else malformed is an error naming the line.
    public static func parse(_ text: String, path: String = "<text>") throws -> DigitsData {
        var pixels: [Float] = []
        var labels: [Int] = []
        let pixelCount = side * side
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == pixelCount + 1 else {
                throw DigitsError.badRow(path: path, line: i + 1, reason: "expected \(pixelCount + 1) comma-separated values (64 pixels and a label), found \(fields.count)")
            }
            for (j, f) in fields.prefix(pixelCount).enumerated() {
                guard let v = Float(f), v.isFinite, v >= 0, v <= maxPixel else {
                    throw DigitsError.badRow(path: path, line: i + 1, reason: "pixel \(j + 1) is '\(f)', not a number in 0…16")
                }
                pixels.append(v / (maxPixel / 2) - 1)
            }
            guard let label = Int(fields[pixelCount]), (0..<classes).contains(label) else {
                throw DigitsError.badRow(path: path, line: i + 1, reason: "label is '\(fields[pixelCount])', not a class 0…9")
            }
            labels.append(label)
        }
        guard !labels.isEmpty else { throw DigitsError.empty(path: path) }
        return DigitsData(images: Tensor(pixels, shape: [labels.count, 1, side, side]), labels: labels)
    }

    /// Reads a digits CSV file (data/digits.csv).
    public static func load(_ url: URL) throws -> DigitsData {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw DigitsError.unreadable(path: url.path, reason: (error as NSError).localizedDescription) }
        guard let text = String(data: data, encoding: .utf8) else { throw DigitsError.unreadable(path: url.path, reason: "not UTF-8 text") }
        return try parse(text, path: url.path)
    }

    /// The rows `indices`, in that order.
    public func rows(_ indices: [Int]) -> DigitsData {
        DigitsData(images: images.indexSelect(axis: 0, indices), labels: indices.map { labels[$0] })
    }

    /// The labels as the float class condition the U-Net takes.
    public var labelTensor: Tensor { Tensor(labels.map(Float.init)) }

    /// The three disjoint splits every SePPO experiment uses (docs/seppo.md, "Implementation in this
    /// repo"): a fixed permutation (seed 0x5E990) cut 50 / 30 / 20 %. `generator` trains the base model
    /// and is the preferred set; `scorer` trains the held-out scorer only; `evaluation` is the clean
    /// reference for the Fréchet distance and trains a sweep's validation judge (`seppo train-scorer
    /// --split evaluation`), which the test judge never sees. The split depends only on the row count.
    public enum Split: String, CaseIterable, Sendable {
        case generator, scorer, evaluation
    }

    public func split(_ s: Split) -> DigitsData {
        let order = RandomGenerator(seed: 0x5E990).permutation(count)
        let a = count / 2, b = count * 8 / 10
        switch s {
        case .generator: return rows(Array(order[0..<a]))
        case .scorer: return rows(Array(order[a..<b]))
        case .evaluation: return rows(Array(order[b...]))
        }
    }
}

/// The degradations that make the base model's training mix worse than the preferred set
/// (docs/seppo.md §6, Setup A). Each works on intensities u = (x + 1)/2 ∈ [0, 1], background 0,
/// and maps back to [−1, 1]:
/// - `blur`: the 3×3 binomial kernel [1 2 1]ᵀ[1 2 1]/16, zero padding (strokes spread and fade);
/// - `shift`: translation by (dy, dx) with max(|dy|, |dx|) = 2, zero fill (parts leave the frame);
/// - `noise`: salt and pepper, each pixel set to 0 or 1 with probability 0.15.
public enum Degradation: String, CaseIterable, Codable, Sendable {
    case blur, shift, noise

    static let saltProbability = 0.15

    /// One degraded copy of a single 8×8 image (64 values in [−1, 1]).
    public func apply(_ image: [Float], rng: RandomGenerator) -> [Float] {
        let n = DigitsData.side
        precondition(image.count == n * n, "a digit has \(n * n) pixels")
        let u = image.map { ($0 + 1) / 2 }
        var out = u
        func at(_ y: Int, _ x: Int) -> Float { (0..<n).contains(y) && (0..<n).contains(x) ? u[y * n + x] : 0 }
        switch self {
        case .blur:
            let k: [Float] = [1, 2, 1]
            for y in 0..<n { for x in 0..<n {
                var s: Float = 0
                for dy in -1...1 { for dx in -1...1 { s += k[dy + 1] * k[dx + 1] * at(y + dy, x + dx) } }
                out[y * n + x] = s / 16
            } }
        case .shift:
            var dy = 0, dx = 0
            while Swift.max(abs(dy), abs(dx)) != 2 { dy = rng.nextInt(below: 5) - 2; dx = rng.nextInt(below: 5) - 2 }
            for y in 0..<n { for x in 0..<n { out[y * n + x] = at(y - dy, x - dx) } }
        case .noise:
            for i in 0..<(n * n) where rng.nextDouble() < Self.saltProbability { out[i] = rng.nextDouble() < 0.5 ? 0 : 1 }
        }
        return out.map { $0 * 2 - 1 }
    }

    /// Each image degraded by a kind drawn uniformly from `kinds`; returns the images and kinds.
    public static func degrade(_ images: Tensor, kinds: [Degradation] = allCases, rng: RandomGenerator) -> (images: Tensor, kinds: [Degradation]) {
        let size = DigitsData.side * DigitsData.side
        let all = images.scalars
        var out: [Float] = []
        out.reserveCapacity(all.count)
        var used: [Degradation] = []
        for i in 0..<images.shape[0] {
            let kind = kinds[rng.nextInt(below: kinds.count)]
            out += kind.apply(Array(all[(i * size)..<((i + 1) * size)]), rng: rng)
            used.append(kind)
        }
        return (Tensor(out, shape: images.shape), used)
    }
}
