import CZlib
import Foundation
import TensorCore

/// Why a PNG cannot be written.
public struct PNGError: Error, CustomStringConvertible {
    public var description: String
}

/// A minimal PNG codec (PNG specification, ISO/IEC 15948). The encoder writes 8 bits per channel, no
/// interlacing, filter type 0 on every scanline, one IDAT chunk compressed by the system zlib; the decoder
/// (PNGDecoder.swift) reads 8-bit grey, grey + alpha, RGB and RGBA with any filters and IDAT split.
public enum PNG {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes `pixels` (row-major, `width × height` grey values) as a PNG file.
    public static func encodeGray(_ pixels: [UInt8], width: Int, height: Int) throws -> Data {
        precondition(width > 0 && height > 0 && pixels.count == width * height, "PNG: \(pixels.count) pixels for \(width)×\(height)")
        return try encode(DecodedImage(width: width, height: height, channels: 1, pixels: pixels))
    }

    /// zlib stream (RFC 1950: header, deflate data, Adler-32) of `bytes` at the best compression.
    static func deflate(_ bytes: [UInt8]) throws -> Data {
        var length = compressBound(uLong(bytes.count))
        var buffer = [UInt8](repeating: 0, count: Int(length))
        let status = compress2(&buffer, &length, bytes, uLong(bytes.count), Z_BEST_COMPRESSION)
        guard status == Z_OK else { throw PNGError(description: "zlib compress2 failed (\(status))") }
        return Data(buffer[0..<Int(length)])
    }

    /// CRC-32 (ISO 3309) of chunk type + data, as PNG stores it.
    public static func crc(_ bytes: Data) -> UInt32 {
        bytes.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
    }
}

extension Data {
    mutating func appendBigEndian(_ v: UInt32) { append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]) }

    mutating func appendChunk(_ type: String, _ data: Data) {
        appendBigEndian(UInt32(data.count))
        let body = Data(type.utf8) + data
        append(body)
        appendBigEndian(PNG.crc(body))
    }
}

/// A grid of small grey images with a class label drawn above each (a 3×5 pixel font), for
/// `diffuse sample --png` and docs/seppo.md's base-vs-aligned figures.
public enum ImageGrid {
    /// 3×5 glyphs of the digits 0…9, rows top to bottom, 3 bits each (bit 2 = left column).
    static let glyphs: [[UInt8]] = [
        [7, 5, 5, 5, 7], [2, 6, 2, 2, 7], [7, 1, 7, 4, 7], [7, 1, 7, 1, 7], [5, 5, 7, 1, 1],
        [7, 4, 7, 1, 7], [7, 4, 7, 5, 7], [7, 1, 1, 1, 1], [7, 5, 7, 5, 7], [7, 5, 7, 1, 7],
    ]

    /// Renders images [N, C, S, S] (C = 1 grey or 3 RGB) with values in [−1, 1] into a grid of `columns`
    /// columns, each image scaled ×`scale`, with `labels` (class indices, drawn mod 10; optional) above it
    /// (glyphs scaled ×max(1, scale/2)). Pixels come back interleaved, C per pixel.
    public static func render(_ images: Tensor, labels: [Int]?, columns: Int, scale: Int = 4) -> (pixels: [UInt8], width: Int, height: Int, channels: Int) {
        precondition(images.rank == 4 && [1, 3].contains(images.shape[1]) && images.shape[2] == images.shape[3], "the grid draws [N, 1 or 3, S, S] images")
        precondition(columns > 0 && scale > 0, "columns and scale must be positive")
        let n = images.shape[0], c = images.shape[1], s = images.shape[2]
        let glyphScale = Swift.max(1, scale / 2)
        let labelHeight = labels == nil ? 0 : 5 * glyphScale + 2
        let pad = 2
        let cellW = s * scale + pad, cellH = s * scale + labelHeight + pad
        let rows = (n + columns - 1) / columns
        let width = columns * cellW + pad, height = rows * cellH + pad
        var px = [UInt8](repeating: 48, count: width * height * c)  // dark grey background between cells
        let v = images.scalars
        for i in 0..<n {
            let x0 = pad + (i % columns) * cellW, y0 = pad + (i / columns) * cellH
            if let labels {
                let glyph = glyphs[((labels[i] % 10) + 10) % 10]
                for y in 0..<(5 * glyphScale) { for x in 0..<(3 * glyphScale) where glyph[y / glyphScale] & (4 >> (x / glyphScale)) != 0 {
                    for k in 0..<c { px[((y0 + y) * width + x0 + x) * c + k] = 255 }
                } }
            }
            let top = y0 + labelHeight
            for y in 0..<(s * scale) { for x in 0..<(s * scale) { for k in 0..<c {
                let value = v[((i * c + k) * s + y / scale) * s + x / scale]
                px[((top + y) * width + x0 + x) * c + k] = UInt8((Swift.min(Swift.max((value + 1) / 2, 0), 1) * 255).rounded())
            } } }
        }
        return (px, width, height, c)
    }

    /// Writes the grid as a PNG, atomically (temporary file + rename).
    public static func writePNG(_ images: Tensor, labels: [Int]?, columns: Int, scale: Int = 4, to url: URL) throws {
        let g = render(images, labels: labels, columns: columns, scale: scale)
        try AtomicFile.write(try PNG.encode(DecodedImage(width: g.width, height: g.height, channels: g.channels, pixels: g.pixels)), to: url)
    }
}
