import Foundation
import PolicyDiffusion

/// `diffuse dataset shapes`: the project's RGB shapes images (issue #31), and their exact judge.
struct DatasetShapesCommand: Command {
    static let path = ["dataset", "shapes"]
    static let abstract = "draw RGB shapes images (circle / square / triangle of random colours) as an npz, or judge samples' warmth"
    static let discussion = """
    Writes uint8 images [N, side, side, 3] (numpy's layout), their classes (`labels`: 0 circle, 1 square, 2 \
    triangle) and `warm` (red leads green and blue by 0.25: the preferred attribute, about one in eight \
    random colours) to an npz that `diffuse train image` and `seppo align --preferred` read. --warm-only draws \
    warm shapes only (a preferred set). --judge FILE prints the warm fraction of images in FILE (a .npy of \
    samples in [−1, 1], as `diffuse sample -o` writes, or any image file `diffuse train image` reads).
    """
    static let output = Option("--output", "-o", value: "FILE", help: "npz to write")
    static let count = Option("-n", "--count", value: "N", default: "2000", help: "images")
    static let side = Option("--side", value: "S", default: "16", help: "image side in pixels (8 … 64)")
    static let warmOnly = Option("--warm-only", help: "draw warm shapes only (the preferred set)")
    static let judge = Option("--judge", value: "FILE", help: "print the warm fraction of these images instead of drawing")
    static let options = [output, count, side, warmOnly, judge, .seed, .json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        if let path = args.string(judge) {
            let images: Tensor
            // `diffuse sample -o` writes model-space samples [N, 3, S, S], unclipped: values a little past ±1,
            // which ImageSet's range detection would refuse, are taken as they are.
            if path.lowercased().hasSuffix(".npy"), let data = FileManager.default.contents(atPath: path),
               let array = try? NPY.decode(data, name: path), array.shape.count == 4, array.shape[1] == 3 {
                images = Tensor(array.values, shape: array.shape)
            } else {
                images = try SePPOInputs.images(path).images
            }
            guard images.shape[1] == 3 else { throw CLIError("\(path): warmth is judged on RGB images, these have \(images.shape[1]) channel(s)") }
            let fraction = Shapes.warmFraction(images)
            console.summary(args, json: ["file": path, "images": images.shape[0], "warm_fraction": fraction],
                            text: String(format: "%d images, warm fraction %.3f", images.shape[0], fraction))
            return
        }
        let url = URL(fileURLWithPath: try args.required(output))
        let n = try args.int(count, range: 1...1_000_000)!, s = try args.int(side, range: 8...64)!
        let made = Shapes.make(count: n, side: s, seed: try args.seed(), warmOnly: args.flag(warmOnly))
        // [N, 3, S, S] in [−1, 1] → uint8 [N, S, S, 3].
        let v = made.images.scalars
        var bytes = [Float](repeating: 0, count: v.count)
        for i in 0..<n { for k in 0..<3 { for p in 0..<(s * s) {
            bytes[(i * s * s + p) * 3 + k] = PixelRange.bytes.fromModel(v[(i * 3 + k) * s * s + p]).rounded()
        } } }
        let archive = ArrayArchive(arrays: ["images": StoredArray(shape: [n, s, s, 3], values: bytes, type: .uint8),
                                            "labels": StoredArray(shape: [n], values: made.labels.map(Float.init), type: .int),
                                            "warm": StoredArray(shape: [n], values: made.warm.map { $0 ? 1 : 0 }, type: .bool)],
                                   attributes: ["classes": Shapes.classes.joined(separator: ","), "command": args.invocation])
        try archive.write(to: url, format: .npz)
        let warm = made.warm.filter { $0 }.count
        console.summary(args, json: ["output": url.path, "images": n, "side": s, "warm": warm],
                        text: "\(n) shapes \(s)×\(s) (\(warm) warm) → \(url.path)")
    }
}
