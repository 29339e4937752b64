import Foundation
import Imaging
import OfflineRL
import TensorCore

/// Why a set of images cannot be used.
public struct ImageSetError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ path: String, _ why: String) { description = "\(path): \(why)".oneLine() }
}

/// The affine map from a file's pixel values to the model's [−1, 1]: x = (v − low) / (high − low) · 2 − 1.
/// It travels in the checkpoint, so samples can be written back in the data's own range.
public struct PixelRange: Codable, Equatable, Sendable {
    public var low: Float
    public var high: Float
    public init(low: Float, high: Float) { self.low = low; self.high = high }

    public static let bytes = PixelRange(low: 0, high: 255)
    public static let unit = PixelRange(low: 0, high: 1)
    public static let signed = PixelRange(low: -1, high: 1)

    public func toModel(_ v: Float) -> Float { (v - low) / (high - low) * 2 - 1 }
    public func fromModel(_ x: Float) -> Float { (x + 1) / 2 * (high - low) + low }
}

/// Small images the way the Python ecosystem hands them over (issue #31): images [N, C, H, W] in [−1, 1] with
/// optional class labels, read from
/// - a `.npy` array of uint8 or float images `[N, H, W]`, `[N, H, W, C]` (numpy / torchvision-to-numpy) or
///   `[N, C, H, W]`, with labels from a second `.npy` of N integers;
/// - a `.npz` holding the images (`images`, `x`, or its only array of rank 3–4) and optionally `labels` / `y`;
/// - a folder of PNG files (8-bit grey / RGB / RGBA; alpha is dropped), or of one sub-folder per class
///   (torchvision's ImageFolder layout: the sorted sub-folder names are classes 0, 1, …).
/// Sides up to `maxSide`, 1–3 channels, every image the same size. Integer data must lie in 0…255; float data
/// in [0, 1], [−1, 1] or 0…255 — the range found is the `PixelRange` recorded with the set.
public struct ImageSet {
    public static let maxSide = 64
    public static let maxChannels = 3
    /// Checkpoint metadata key of the `PixelRange` a model was trained with.
    public static let rangeKey = "pixel_range"

    public var images: Tensor
    public var labels: [Int]?
    /// Class names when the source names them (ImageFolder sub-folders); otherwise nil.
    public var classNames: [String]?
    public var range: PixelRange

    public var count: Int { images.shape[0] }
    public var channels: Int { images.shape[1] }
    public var side: (height: Int, width: Int) { (images.shape[2], images.shape[3]) }
    public var classes: Int { labels.map { ($0.max() ?? -1) + 1 } ?? 0 }

    public init(images: Tensor, labels: [Int]?, classNames: [String]? = nil, range: PixelRange) {
        precondition(images.rank == 4, "an image set holds [N, C, H, W] images")
        precondition(labels.map { $0.count == images.shape[0] } ?? true, "one label per image")
        self.images = images
        self.labels = labels
        self.classNames = classNames
        self.range = range
    }

    /// Reads images (and labels) from `url`: a `.npy`, a `.npz` or a folder of PNG files; `labels` is a `.npy`
    /// of N integers (not with an ImageFolder layout, which labels itself).
    public static func load(_ url: URL, labels labelURL: URL? = nil) throws -> ImageSet {
        let path = url.path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw ImageSetError(path, "no such file or folder") }
        var set: ImageSet
        if isFolder.boolValue {
            set = try folder(url)
        } else {
            switch url.pathExtension.lowercased() {
            case "npy":
                let data = try contents(url)
                set = try fromArray(try wrap(path) { try NPY.decode(data, name: path) }, path: path)
            case "npz":
                let archive = try wrap(path) { try NPZ.read(url) }
                let named = ["images", "x"].compactMap { archive.arrays[$0] }.first
                let candidates = archive.arrays.filter { (3...4).contains($0.value.shape.count) }
                guard let array = named ?? (candidates.count == 1 ? candidates.first?.value : nil) else {
                    throw ImageSetError(path, "no image array (name it 'images' or 'x'; found \(archive.arrays.keys.sorted().joined(separator: ", ")))")
                }
                set = try fromArray(array, path: path)
                if let l = ["labels", "y"].compactMap({ archive.arrays[$0] }).first { set.labels = try labelList(l, count: set.count, path: path) }
            case "png":
                set = try fromPNGs([url], labels: nil, classNames: nil)
            default:
                throw ImageSetError(path, "images come as .npy, .npz, .png or a folder of PNG files")
            }
        }
        if let labelURL {
            guard set.classNames == nil else { throw ImageSetError(labelURL.path, "the folder's sub-folders already label the images") }
            let data = try contents(labelURL)
            set.labels = try labelList(try wrap(labelURL.path) { try NPY.decode(data, name: labelURL.path) }, count: set.count, path: labelURL.path)
        }
        return set
    }

    /// The rows `indices`, in that order.
    public func rows(_ indices: [Int]) -> ImageSet {
        ImageSet(images: images.indexSelect(axis: 0, indices), labels: labels.map { l in indices.map { l[$0] } }, classNames: classNames, range: range)
    }

    // MARK: - Arrays

    /// Images from one array: [N, H, W], [N, H, W, C] or [N, C, H, W] (channels 1–3 at the end unless only the
    /// second axis can be channels).
    static func fromArray(_ array: StoredArray, path: String) throws -> ImageSet {
        let s = array.shape
        let n: Int, c: Int, h: Int, w: Int, channelsLast: Bool
        switch s.count {
        case 3: (n, h, w, c, channelsLast) = (s[0], s[1], s[2], 1, true)
        case 4:
            let lastIsChannels = (1...maxChannels).contains(s[3]), secondIsChannels = (1...maxChannels).contains(s[1])
            if lastIsChannels && !(secondIsChannels && s[3] > s[1] && s[2] == s[3]) {
                (n, h, w, c, channelsLast) = (s[0], s[1], s[2], s[3], true)
            } else if secondIsChannels {
                (n, c, h, w, channelsLast) = (s[0], s[1], s[2], s[3], false)
            } else {
                throw ImageSetError(path, "shape \(s): 1–\(maxChannels) channels expected as the last axis ([N, H, W, C]) or the second ([N, C, H, W])")
            }
        default:
            throw ImageSetError(path, "shape \(s) is not images ([N, H, W], [N, H, W, C] or [N, C, H, W])")
        }
        try checkSize(n: n, h: h, w: w, path: path)
        let range = try pixelRange(array, path: path)
        var out = [Float](repeating: 0, count: n * c * h * w)
        let v = array.values
        for i in 0..<n { for y in 0..<h { for x in 0..<w { for k in 0..<c {
            let src = channelsLast ? ((i * h + y) * w + x) * c + k : ((i * c + k) * h + y) * w + x
            out[((i * c + k) * h + y) * w + x] = range.toModel(v[src])
        } } } }
        return ImageSet(images: Tensor(out, shape: [n, c, h, w]), labels: nil, range: range)
    }

    /// The value range of the data: integers 0…255, floats in [0, 1], [−1, 1] or 0…255.
    static func pixelRange(_ array: StoredArray, path: String) throws -> PixelRange {
        guard let lo = array.values.min(), let hi = array.values.max() else { throw ImageSetError(path, "holds no pixels") }
        guard lo.isFinite && hi.isFinite else { throw ImageSetError(path, "holds NaN or infinite pixel values") }
        switch array.type {
        case .bool: return .unit
        case .int, .uint, .uint8:
            guard lo >= 0 && hi <= 255 else { throw ImageSetError(path, "integer pixels span \(lo)…\(hi); 0…255 expected") }
            return .bytes
        case .float32, .float64:
            if lo >= 0 && hi <= 1 { return .unit }
            if lo >= -1 && hi <= 1 { return .signed }
            if lo >= 0 && hi <= 255 { return .bytes }
            throw ImageSetError(path, "float pixels span \(lo)…\(hi); [0, 1], [−1, 1] or 0…255 expected")
        }
    }

    static func labelList(_ array: StoredArray, count: Int, path: String) throws -> [Int] {
        guard array.shape == [count] || array.shape == [count, 1] else {
            throw ImageSetError(path, "labels have shape \(array.shape); one per image ([\(count)]) expected")
        }
        return try array.values.map { v in
            guard v.isFinite, v >= 0, v == v.rounded(), v < 100_000 else { throw ImageSetError(path, "label \(v) is not a class index 0, 1, …") }
            return Int(v)
        }
    }

    static func checkSize(n: Int, h: Int, w: Int, path: String) throws {
        guard n > 0 else { throw ImageSetError(path, "holds no images") }
        guard (1...maxSide).contains(h), (1...maxSide).contains(w) else {
            throw ImageSetError(path, "images of \(h)×\(w) pixels (each side must be 1…\(maxSide))")
        }
    }

    // MARK: - PNG folders

    static func folder(_ url: URL) throws -> ImageSet {
        let fm = FileManager.default
        let entries = try wrap(url.path) { try fm.contentsOfDirectory(at: url, includingPropertiesForKeys: [.isDirectoryKey]) }
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let pngs = entries.filter { $0.pathExtension.lowercased() == "png" }
        let classes = entries.filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
        if !pngs.isEmpty {
            return try fromPNGs(pngs, labels: nil, classNames: nil)
        }
        guard !classes.isEmpty else { throw ImageSetError(url.path, "holds no PNG files and no class sub-folders of them") }
        var files: [URL] = [], labels: [Int] = []
        for (k, dir) in classes.enumerated() {
            let inside = try wrap(dir.path) { try fm.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil) }
                .filter { $0.pathExtension.lowercased() == "png" && !$0.lastPathComponent.hasPrefix(".") }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            guard !inside.isEmpty else { throw ImageSetError(dir.path, "class folder holds no PNG files") }
            files += inside
            labels += Array(repeating: k, count: inside.count)
        }
        return try fromPNGs(files, labels: labels, classNames: classes.map(\.lastPathComponent))
    }

    /// PNG files of one size; alpha is dropped (grey + alpha → grey, RGBA → RGB).
    static func fromPNGs(_ files: [URL], labels: [Int]?, classNames: [String]?) throws -> ImageSet {
        var first: DecodedImage?
        var out: [Float] = []
        for file in files {
            let data = try contents(file)
            let image = try wrap(file.path) { try PNG.decode(data, name: file.path) }
            if let f = first {
                guard image.width == f.width, image.height == f.height, colourChannels(image) == colourChannels(f) else {
                    throw ImageSetError(file.path, "\(image.width)×\(image.height)×\(colourChannels(image)) differs from \(files[0].lastPathComponent)'s \(f.width)×\(f.height)×\(colourChannels(f))")
                }
            } else {
                try checkSize(n: files.count, h: image.height, w: image.width, path: file.path)
                first = image
            }
            let c = colourChannels(image)
            for k in 0..<c { for p in 0..<(image.width * image.height) {
                out.append(PixelRange.bytes.toModel(Float(image.pixels[p * image.channels + k])))
            } }
        }
        guard let f = first else { throw ImageSetError("<folder>", "holds no PNG files") }
        return ImageSet(images: Tensor(out, shape: [files.count, colourChannels(f), f.height, f.width]), labels: labels, classNames: classNames, range: .bytes)
    }

    static func colourChannels(_ image: DecodedImage) -> Int { image.channels == 2 || image.channels == 4 ? image.channels - 1 : image.channels }

    static func contents(_ url: URL) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ImageSetError(url.path, "cannot be read") }
        return data
    }

    /// Any error of a reader as this type's one line (the reader's message already names the file).
    static func wrap<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ImageSetError { throw e } catch {
            throw ImageSetError(path, "\(error)".replacingOccurrences(of: "\(path): ", with: ""))
        }
    }
}
