import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing
import TestSupport

/// `diffuse train image` on the user's own images (issue #31).
@Suite("diffuse train image", .serialized)
struct ImageCLITests {
    /// 12 RGB 8×8 images (uint8, [N, H, W, C]) with 3 classes in an npz, as numpy users save them.
    func writeImages() throws -> String {
        let rng = RandomGenerator(seed: 3)
        let n = 12, s = 8
        var pixels = [Float]()
        for i in 0..<n { for y in 0..<s { for x in 0..<s { for k in 0..<3 {
            pixels.append(Float((i % 3 == k ? 200 : 30) + (x + y) % 4 * 10 + rng.nextInt(below: 5)))
        } } } }
        let archive = ArrayArchive(arrays: ["images": StoredArray(shape: [n, s, s, 3], values: pixels, type: .uint8),
                                            "labels": StoredArray(shape: [n], values: (0..<n).map { Float($0 % 3) }, type: .int)])
        let path = tempPath("rgb.npz")
        try archive.write(to: URL(fileURLWithPath: path), format: .npz)
        return path
    }

    /// Conditional training (stopped and resumed: equal to a straight run), the pixel map in the checkpoint,
    /// an RGB PNG grid from `diffuse sample`; unlabelled data gives an unconditional model.
    @Test func trainsResumesAndSamplesRGB() throws {
        let data = try writeImages()
        let straight = tempPath("img-straight.safetensors"), resumed = tempPath("img-resumed.safetensors")
        let common = ["train", "image", "--data", data, "--steps", "6", "--batch-size", "4", "--width", "8", "--checkpoint-every", "2"]
        var r = runCLI(common + ["-o", straight, "--json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains { $0.contains("12 images 8×8×3, 3 classes") }, "\(r.err)")
        #expect(runCLI(common + ["-o", resumed, "--stop-after", "4"]).status == 0)
        r = runCLI(common + ["-o", resumed, "--resume"])
        #expect(r.status == 0, "\(r.err)")
        let a = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: straight)), b = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: resumed))
        #expect(a.tensors == b.tensors)
        #expect(a.metadata["pixel_range"] == canonicalJSON(PixelRange.bytes))

        let png = tempPath("rgb-grid.png")
        r = runCLI(["sample", "--model", straight, "-n", "6", "--sampler", "ddim", "--steps", "2", "--png", png])
        #expect(r.status == 0, "\(r.err)")
        let image = try PNG.decode(Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(image.channels == 3 && image.width > 3 * 8 * 4)
        // Classifier-free guidance changes the samples; w = 1 is the conditional model itself.
        func samples(_ extra: [String]) throws -> [Float] {
            let npy = tempPath("cfg.npy")
            #expect(runCLI(["sample", "--model", straight, "-n", "3", "--sampler", "ddim", "--steps", "2", "-o", npy] + extra).status == 0)
            return try NPY.decode(Data(contentsOf: URL(fileURLWithPath: npy)), name: npy).values
        }
        let plainSamples = try samples([])
        #expect(try samples(["--cfg", "1"]) == plainSamples && (try samples(["--cfg", "3"])) != plainSamples)

        // Aligned toward the user's preferred images (here: the class-0 images, red), SePPO with the bank.
        let preferredSet = tempPath("preferred.npz")
        let all = try ArrayArchive.read(URL(fileURLWithPath: data))
        let keep = (0..<12).filter { $0 % 3 == 0 }
        let img = all.arrays["images"]!
        try ArrayArchive(arrays: ["images": StoredArray(shape: [keep.count, 8, 8, 3], values: keep.flatMap { Array(img.values[($0 * 192)..<(($0 + 1) * 192)]) }, type: .uint8),
                                  "labels": StoredArray(shape: [keep.count], values: keep.map { _ in 0 }, type: .int)])
            .write(to: URL(fileURLWithPath: preferredSet), format: .npz)
        let aligned = tempPath("img-aligned.safetensors")
        r = runCLI(["seppo", "align", "--base", straight, "--preferred", preferredSet, "--steps", "4", "--bank-every", "2", "--batch-size", "2",
                    "--sampling-steps", "2", "-o", aligned, "--json"])
        #expect(r.status == 0 && r.err.contains { $0.contains("4 preferred images") }, "\(r.err)")
        r = runCLI(["seppo", "score", "--model", aligned, "--preferred", preferredSet, "--images", data, "--per-class", "4", "--steps", "2", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let score = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
        #expect((score["frechet_preferred"] as? Double)?.isFinite == true && (score["precision"] as? Double).map { (0...1).contains($0) } == true)
        #expect(score["samples"] as? Int == 12)
        r = runCLI(["seppo", "align", "--base", straight, "--preferred", preferredSet, "--method", "dpo", "--steps", "2", "-o", tempPath("no.safetensors")])
        #expect(r.status != 0 && r.err.count == 1 && r.err[0].contains("oracle losers"), "\(r.err)")

        // Without labels: unconditional (the null class only), sampled without a class.
        let plain = tempPath("plain.npy")
        try NPY.encode(StoredArray(shape: [4, 8, 8], values: (0..<256).map { Float($0 % 7) / 6 })).write(to: URL(fileURLWithPath: plain))
        let uncond = tempPath("uncond.safetensors")
        r = runCLI(["train", "image", "--data", plain, "--steps", "2", "--batch-size", "4", "--width", "8", "-o", uncond])
        #expect(r.status == 0 && r.err.contains { $0.contains("unconditional") }, "\(r.err)")
        r = runCLI(["sample", "--model", uncond, "-n", "3", "--sampler", "ddim", "--steps", "2", "--png", tempPath("grey.png"), "--json"])
        #expect(r.status == 0, "\(r.err)")
        r = runCLI(["sample", "--model", uncond, "-n", "3", "--cfg", "2", "--png", tempPath("grey.png")])
        #expect(r.status != 0 && r.err.count == 1 && r.err[0].contains("--cfg applies to class-conditional"), "\(r.err)")
    }

    /// The shapes task: uint8 [N, S, S, 3] images with classes and the warm attribute; the judge agrees with the
    /// drawn attribute (all warm for --warm-only, the drawn fraction within a sample's rounding otherwise).
    @Test func shapesDatasetAndItsJudge() throws {
        let all = tempPath("shapes.npz"), warm = tempPath("warm.npz")
        #expect(runCLI(["dataset", "shapes", "-n", "200", "--seed", "0", "-o", all]).status == 0)
        #expect(runCLI(["dataset", "shapes", "-n", "30", "--seed", "1", "--warm-only", "-o", warm]).status == 0)
        let archive = try ArrayArchive.read(URL(fileURLWithPath: all))
        #expect(archive.arrays["images"]?.shape == [200, 16, 16, 3] && archive.arrays["images"]?.type == .uint8)
        let drawn = archive.arrays["warm"]!.values.reduce(0, +) / 200
        func judged(_ path: String) throws -> Double {
            let r = runCLI(["dataset", "shapes", "--judge", path, "--json"])
            let json = try JSONSerialization.jsonObject(with: Data(r.out.joined().utf8)) as! [String: Any]
            return json["warm_fraction"] as! Double
        }
        #expect(try judged(warm) == 1)
        #expect(abs(try judged(all) - Double(drawn)) <= 0.01 && drawn > 0.05)
    }

    @Test func badImagesAreOneLineErrors() throws {
        var r = runCLI(["train", "image", "--data", tempPath("missing.npz"), "-o", tempPath("x.safetensors")])
        #expect(r.status != 0 && r.err.count == 1 && r.err[0].contains("no such file or folder"), "\(r.err)")
        let wide = tempPath("wide.npy")
        try NPY.encode(StoredArray(shape: [8, 8, 6], values: [Float](repeating: 0.5, count: 384))).write(to: URL(fileURLWithPath: wide))
        r = runCLI(["train", "image", "--data", wide, "--batch-size", "4", "-o", tempPath("x.safetensors")])
        #expect(r.status != 0 && r.err.count == 1 && r.err[0].contains("square images"), "\(r.err)")
        r = runCLI(["train", "image", "--data", try writeImages(), "--uncond", "2", "-o", tempPath("x.safetensors")])
        #expect(r.status != 0 && r.err.count == 1 && r.err[0].contains("--uncond"), "\(r.err)")
    }
}
