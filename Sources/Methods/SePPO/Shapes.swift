import Foundation
import TensorCore

/// A second image task made by the project (issue #31): RGB shapes — a filled circle, square or triangle
/// (the class) of a random colour, size and position on a dark background. The preferred attribute is
/// the colour: a shape is *warm* when its red channel leads green and blue by a margin, which about one in eight
/// of the random colours are. A base model learns every colour; alignment toward the warm shapes can be judged
/// exactly by `warmFraction`, with no learned scorer.
public enum Shapes {
    public static let classes = ["circle", "square", "triangle"]
    /// Red must exceed both green and blue by this much (in 0…1 intensities) for a warm colour.
    public static let warmMargin: Float = 0.25

    /// `count` images [N, 3, side, side] in [−1, 1], their classes and whether each is warm. `warmOnly`
    /// draws only warm colours (the preferred set).
    public static func make(count: Int, side: Int = 16, seed: UInt64, warmOnly: Bool = false) -> (images: Tensor, labels: [Int], warm: [Bool]) {
        precondition(count > 0 && (8...64).contains(side), "shapes: count > 0, side 8…64")
        let rng = RandomGenerator(seed: seed)
        var pixels = [Float](), labels = [Int](), warm = [Bool]()
        pixels.reserveCapacity(count * 3 * side * side)
        for _ in 0..<count {
            let shape = rng.nextInt(below: classes.count)
            var colour: [Float]
            repeat { colour = (0..<3).map { _ in Float(0.15 + 0.85 * rng.nextDouble()) } } while warmOnly && !isWarm(colour)
            let s = Float(side)
            let radius = s * Float(0.22 + 0.12 * rng.nextDouble())
            let cx = radius + Float(rng.nextDouble()) * (s - 2 * radius), cy = radius + Float(rng.nextDouble()) * (s - 2 * radius)
            for k in 0..<3 { for y in 0..<side { for x in 0..<side {
                let inside = covers(shape, x: Float(x) + 0.5 - cx, y: Float(y) + 0.5 - cy, radius: radius)
                pixels.append((inside ? colour[k] : 0.05) * 2 - 1)
            } } }
            labels.append(shape)
            warm.append(isWarm(colour))
        }
        return (Tensor(pixels, shape: [count, 3, side, side]), labels, warm)
    }

    static func covers(_ shape: Int, x: Float, y: Float, radius r: Float) -> Bool {
        switch shape {
        case 0: return x * x + y * y <= r * r
        case 1: return abs(x) <= r * 0.85 && abs(y) <= r * 0.85
        default: return y <= r * 0.8 && y >= -r && abs(x) <= (y + r) * 0.6   // apex up, base at the bottom
        }
    }

    public static func isWarm(_ rgb: [Float]) -> Bool { rgb[0] - Swift.max(rgb[1], rgb[2]) >= warmMargin }

    /// The fraction of images [N, 3, S, S] (in [−1, 1]) whose shape is warm: the mean colour of the pixels
    /// brighter than the background (any channel above 0.3) must be warm; an image with no such pixel is not.
    public static func warmFraction(_ images: Tensor) -> Double {
        precondition(images.rank == 4 && images.shape[1] == 3, "warmth is judged on RGB images")
        let n = images.shape[0], area = images.shape[2] * images.shape[3]
        let v = images.scalars
        var warmCount = 0
        for i in 0..<n {
            var sum: [Float] = [0, 0, 0], count: Float = 0
            for p in 0..<area {
                let rgb = (0..<3).map { (v[(i * 3 + $0) * area + p] + 1) / 2 }
                if rgb.max()! > 0.3 { for k in 0..<3 { sum[k] += rgb[k] }; count += 1 }
            }
            if count > 0 && isWarm(sum.map { $0 / count }) { warmCount += 1 }
        }
        return Double(warmCount) / Double(n)
    }
}
