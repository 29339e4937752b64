import CZlib
import Foundation
import Imaging
import OfflineRL
@testable import SePPO
import TensorCore
import Testing

/// Fixtures written by Pillow with the pixels Pillow decodes from them (dev/make_image_fixtures.py).
func imageFixture(_ name: String) -> URL { Bundle.module.url(forResource: "Fixtures/images/\(name)", withExtension: nil)! }

func pillowPixels(_ name: String) throws -> StoredArray {
    try NPY.decode(Data(contentsOf: imageFixture(name)), name: name)
}

@Suite("PNG decoder")
struct PNGDecoderTests {
    /// Our decode of Pillow's files equals Pillow's decode, for grey, grey + alpha, RGB, RGBA and a file whose
    /// rows use every filter type (0–4) and whose data is split over two IDAT chunks.
    @Test(arguments: ["gray", "gray-alpha", "rgb", "rgba", "all-filters"])
    func decodesLikePillow(_ name: String) throws {
        let image = try PNG.decode(Data(contentsOf: imageFixture("\(name).png")), name: name)
        let reference = try pillowPixels("\(name).pixels.npy")
        #expect([image.height, image.width, image.channels] == reference.shape)
        #expect(image.pixels.map(Float.init) == reference.values)
    }

    @Test(arguments: [1, 2, 3, 4])
    func encodeThenDecodeIsTheIdentity(_ channels: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let image = DecodedImage(width: 5, height: 3, channels: channels, pixels: (0..<(15 * channels)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        #expect(try PNG.decode(PNG.encode(image)) == image)
    }

    func refusal(_ data: Data) -> String {
        do { _ = try PNG.decode(data, name: "x.png"); return "decoded" } catch { return "\(error)" }
    }

    /// The IHDR of gray.png with one byte changed (and its CRC recomputed).
    func patchedHeader(offset: Int, value: UInt8) throws -> Data {
        var bytes = [UInt8](try Data(contentsOf: imageFixture("gray.png")))
        bytes[16 + offset] = value
        let crc = UInt32(crc32(0, Array(bytes[12..<29]), 17))
        bytes.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
        return Data(bytes)
    }

    @Test func unsupportedKindsAreRefusedInOneLine() throws {
        #expect(refusal(try Data(contentsOf: imageFixture("refused-palette.png"))).contains("palette PNGs are not supported"))
        #expect(refusal(try Data(contentsOf: imageFixture("refused-16bit.png"))).contains("bit depth 16 is not supported"))
        #expect(refusal(try patchedHeader(offset: 12, value: 1)).contains("interlaced (Adam7) PNGs are not supported"))
        #expect(refusal(try patchedHeader(offset: 9, value: 5)).contains("colour type 5"))
        let good = try Data(contentsOf: imageFixture("gray.png"))
        #expect(refusal(good.prefix(good.count - 20)).contains("truncated"))
        var flipped = [UInt8](good)
        flipped[40] ^= 0xFF
        #expect(refusal(Data(flipped)).contains("fails its CRC check"))
        #expect(refusal(Data("hello".utf8)).contains("not a PNG file"))
        for message in [refusal(good.prefix(good.count - 20)), refusal(Data(flipped))] { #expect(!message.contains("\n")) }
    }

    /// A header declaring 8192 × 8192 RGBA pixels over a few bytes of data is refused before allocating.
    @Test func declaredSizeBeyondTheDataIsRefused() throws {
        let tiny = try PNG.encode(DecodedImage(width: 1, height: 1, channels: 4, pixels: [1, 2, 3, 4]))
        var bytes = [UInt8](tiny)
        bytes.replaceSubrange(16..<24, with: [0, 0, 0x20, 0, 0, 0, 0x20, 0])
        let crc = UInt32(crc32(0, Array(bytes[12..<29]), 17))
        bytes.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
        #expect(refusal(Data(bytes)).contains("8192×8192 pixels declared over"))
    }
}

@Suite("image sets")
struct ImageSetTests {
    /// The uint8 [N, H, W, C] images of the npz, in [−1, 1] as [N, C, H, W].
    func reference() throws -> (values: [Float], shape: [Int]) {
        let archive = try NPZ.read(imageFixture("rgb-nhwc.npz"))
        let a = try #require(archive.arrays["images"])
        let (n, h, w, c) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
        var out = [Float](repeating: 0, count: a.values.count)
        for i in 0..<n { for y in 0..<h { for x in 0..<w { for k in 0..<c {
            out[((i * c + k) * h + y) * w + x] = a.values[((i * h + y) * w + x) * c + k] / 127.5 - 1
        } } } }
        return (out, [n, c, h, w])
    }

    @Test func npzChannelsLastWithLabels() throws {
        let set = try ImageSet.load(imageFixture("rgb-nhwc.npz"))
        let ref = try reference()
        #expect(set.images.shape == ref.shape && set.images.scalars == ref.values)
        #expect(set.labels == [0, 1, 2, 1] && set.classes == 3 && set.range == .bytes)
    }

    @Test func npyChannelsFirstInUnitRange() throws {
        let set = try ImageSet.load(imageFixture("rgb-nchw-unit.npy"))
        let ref = try reference()
        #expect(set.images.shape == ref.shape && set.range == .unit && set.labels == nil)
        #expect(zip(set.images.scalars, ref.values).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func greyArrayWithASeparateLabelFile() throws {
        let set = try ImageSet.load(imageFixture("gray-nhw.npy"), labels: imageFixture("labels.npy"))
        let ref = try reference()
        #expect(set.images.shape == [4, 1, 9, 7] && set.labels == [3, 0, 1, 2])
        // The red channel of the npz's images.
        #expect((0..<4).allSatisfy { i in Array(set.images.scalars[(i * 63)..<((i + 1) * 63)]) == Array(ref.values[(i * 189)..<(i * 189 + 63)]) })
    }

    /// torchvision's ImageFolder layout: sorted sub-folders are the classes.
    @Test func pngFolderPerClass() throws {
        let set = try ImageSet.load(imageFixture("folder"))
        let ref = try reference()
        #expect(set.images.shape == ref.shape && set.images.scalars == ref.values)
        #expect(set.labels == [0, 0, 1, 1] && set.classNames == ["circle", "square"])
    }

    /// RGBA and grey + alpha drop their alpha channel.
    @Test func alphaIsDropped() throws {
        let set = try ImageSet.load(imageFixture("rgba.png"))
        let pixels = try pillowPixels("rgba.pixels.npy")
        #expect(set.images.shape == [1, 3, 13, 11])
        // Channel k of pixel 0 sits at k × 143 ([C, H, W]) and at k in Pillow's [H, W, 4].
        #expect((0..<3).allSatisfy { k in set.images.scalars[k * 143] == pixels.values[k] / 127.5 - 1 })
    }

    func refusal(_ body: () throws -> ImageSet) -> String {
        do { _ = try body(); return "loaded" } catch { return "\(error)" }
    }

    @Test func badInputIsOneLineError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pd-imageset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func npy(_ name: String, _ array: StoredArray) throws -> URL {
            let url = dir.appendingPathComponent(name)
            try NPY.encode(array).write(to: url)
            return url
        }
        let vector = try npy("vector.npy", StoredArray(shape: [5], values: [0, 1, 2, 3, 4]))
        #expect(refusal { try ImageSet.load(vector) }.contains("shape [5] is not images"))
        let big = try npy("big.npy", StoredArray(shape: [1, 65, 8], values: [Float](repeating: 0, count: 520)))
        #expect(refusal { try ImageSet.load(big) }.contains("each side must be 1…64"))
        let wide = try npy("wide.npy", StoredArray(shape: [1, 7, 8, 5], values: [Float](repeating: 0, count: 280)))
        #expect(refusal { try ImageSet.load(wide) }.contains("channels expected"))
        let hot = try npy("hot.npy", StoredArray(shape: [1, 2, 2], values: [0, 1, 2, 300]))
        #expect(refusal { try ImageSet.load(hot) }.contains("float pixels span 0.0…300.0"))
        #expect(refusal { try ImageSet.load(imageFixture("gray-nhw.npy"), labels: vector) }.contains("labels have shape [5]; one per image ([4]) expected"))
        #expect(refusal { try ImageSet.load(dir.appendingPathComponent("missing.npy")) }.contains("no such file or folder"))
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(refusal { try ImageSet.load(empty) }.contains("holds no PNG files"))
        let text = dir.appendingPathComponent("notes.txt")
        try Data("x".utf8).write(to: text)
        #expect(refusal { try ImageSet.load(text) }.contains("images come as .npy, .npz, .png or a folder"))
    }
}

@Suite("feature-space metrics for user images")
struct ImageFeatureTests {
    /// Images whose pixels all move along one direction: one component keeps all the variance, and the
    /// fitting data's mean encodes to 0.
    @Test func pcaFindsTheOneDirection() throws {
        let direction: [Float] = (0..<48).map { Float($0 % 5) - 2 }
        let n = 20
        let images = Tensor((0..<n).flatMap { i in direction.map { $0 * Float(i - 10) / 10 } }, shape: [n, 3, 4, 4])
        let pca = try PCAFeatures(fitting: images, dimensions: 3)
        #expect(abs(pca.explainedVariance - 1) < 1e-6 && pca.pool == 1)
        let f = pca.encode(images).scalars
        // Feature 0 is linear in i (up to sign), the others vanish.
        let first = (0..<n).map { Double(f[$0 * 3]) }
        #expect(zip(first, first.dropFirst()).allSatisfy { abs(($1 - $0) - (first[1] - first[0])) < 1e-4 })
        #expect((0..<n).allSatisfy { abs(f[$0 * 3 + 1]) < 1e-3 && abs(f[$0 * 3 + 2]) < 1e-3 })
    }

    /// 32×32 images pool by 2 to 16×16 before the projection.
    @Test func largeImagesArePooled() throws {
        let rng = RandomGenerator(seed: 1)
        let images = rng.normal([10, 1, 32, 32])
        let pca = try PCAFeatures(fitting: images, dimensions: 4)
        #expect(pca.pool == 2 && pca.mean.count == 256 && pca.encode(images).shape == [10, 4])
    }

    @Test func precisionAndRecallOnKnownSets() {
        let rng = RandomGenerator(seed: 2)
        let real = rng.normal([60, 2])
        #expect(ManifoldPrecisionRecall.measure(real: real, generated: real) == (1, 1))
        let far = real + Tensor([Float](repeating: 100, count: 120), shape: [60, 2])
        #expect(ManifoldPrecisionRecall.measure(real: real, generated: far) == (0, 0))
        // Samples collapsed onto one real point (mode collapse): precise, but they cover almost none of the real set.
        let collapsed = real.indexSelect(axis: 0, [Int](repeating: 0, count: 8)) + rng.normal([8, 2]) * 0.001
        let (p, r) = ManifoldPrecisionRecall.measure(real: real, generated: collapsed)
        #expect(p == 1 && r < 0.1)
    }
}
