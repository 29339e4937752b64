import CZlib
import Foundation

/// A decoded 8-bit image: row-major pixels, `channels` interleaved values (0…255) per pixel.
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA), as stored.
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "an image of \(width)×\(height)×\(channels) needs that many values")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

extension PNG {
    /// The largest side `decode` accepts: far past the small images the library trains on, small enough that a
    /// header cannot make it allocate gigabytes.
    public static let maxSide = 8192

    /// Decodes a PNG (ISO/IEC 15948) of the kinds our writer and common tools produce: bit depth 8, colour type
    /// grey (0), RGB (2), grey + alpha (4) or RGBA (6), not interlaced. Palette images, 16-bit or sub-byte depths
    /// and Adam7 interlacing are refused in one line, as are bad CRCs, truncated or oversized data.
    public static func decode(_ data: Data, name: String = "<png>") throws -> DecodedImage {
        let bytes = [UInt8](data)
        func fail(_ why: String) -> PNGError { PNGError(description: "\(name): \(why)") }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw fail("not a PNG file (no PNG signature)") }
        func u32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var at = 8
        var header: (width: Int, height: Int, channels: Int)?
        var compressed = [UInt8]()
        var ended = false
        while !ended {
            guard at + 12 <= bytes.count else { throw fail("truncated (a chunk runs past the end of the file)") }
            let length = u32(at)
            guard length <= bytes.count - at - 12 else { throw fail("truncated (a chunk runs past the end of the file)") }
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            let body = (at + 8)..<(at + 8 + length)
            let stored = UInt32(u32(body.upperBound))
            guard crc(Data(bytes[(at + 4)..<body.upperBound])) == stored else { throw fail("chunk \(type) fails its CRC check") }
            switch type {
            case "IHDR":
                guard header == nil, length == 13 else { throw fail("malformed IHDR chunk") }
                let i = body.lowerBound
                let (width, height) = (u32(i), u32(i + 4))
                let (depth, colour, compression, filter, interlace) = (bytes[i + 8], bytes[i + 9], bytes[i + 10], bytes[i + 11], bytes[i + 12])
                guard (1...maxSide).contains(width), (1...maxSide).contains(height) else {
                    throw fail("\(width)×\(height) pixels (each side must be 1…\(maxSide))")
                }
                let channels: Int
                switch colour {
                case 0: channels = 1
                case 2: channels = 3
                case 4: channels = 2
                case 6: channels = 4
                case 3: throw fail("palette PNGs are not supported (save as grey, RGB or RGBA)")
                default: throw fail("colour type \(colour) is not a PNG colour type")
                }
                guard depth == 8 else { throw fail("bit depth \(depth) is not supported (8 bits per channel only)") }
                guard compression == 0, filter == 0 else { throw fail("unknown compression or filter method") }
                guard interlace == 0 else { throw fail("interlaced (Adam7) PNGs are not supported") }
                header = (width, height, channels)
            case "IDAT":
                guard header != nil else { throw fail("IDAT before IHDR") }
                compressed += bytes[body]
            case "IEND":
                ended = true
            default:
                // Critical chunks we do not know (first letter upper case) change the meaning of the image.
                if let first = type.unicodeScalars.first, first.properties.isUppercase, type != "PLTE" {
                    throw fail("unknown critical chunk \(type)")
                }
            }
            at = body.upperBound + 4
        }
        guard let (width, height, channels) = header else { throw fail("no IHDR chunk") }
        guard !compressed.isEmpty else { throw fail("no image data (IDAT)") }
        let stride = width * channels
        // DEFLATE expands at most 1,032-fold: a header declaring more than that is refused before allocating.
        guard height * (stride + 1) <= compressed.count * 1032 + 64 else {
            throw fail("\(width)×\(height) pixels declared over \(compressed.count) bytes of image data")
        }
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var produced = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { uncompress(out.baseAddress, &produced, $0.baseAddress, uLong($0.count)) }
        }
        guard status == Z_OK, Int(produced) == raw.count else {
            throw fail(status == Z_BUF_ERROR ? "image data longer than \(width)×\(height) pixels" : "image data is not a complete zlib stream (zlib status \(status))")
        }
        return DecodedImage(width: width, height: height, channels: channels,
                            pixels: try unfilter(raw, height: height, stride: stride, bytesPerPixel: channels, fail: fail))
    }

    /// Reverses the per-scanline filters (PNG specification §9.2: None, Sub, Up, Average, Paeth).
    static func unfilter(_ raw: [UInt8], height: Int, stride: Int, bytesPerPixel bpp: Int, fail: (String) -> PNGError) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let src = y * (stride + 1) + 1, row = y * stride, above = row - stride
            for x in 0..<stride {
                let a = x >= bpp ? Int(out[row + x - bpp]) : 0                 // left
                let b = y > 0 ? Int(out[above + x]) : 0                         // up
                let c = (y > 0 && x >= bpp) ? Int(out[above + x - bpp]) : 0    // upper left
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw fail("scanline \(y) has filter type \(filter) (0…4 only)")
                }
                out[row + x] = UInt8(truncatingIfNeeded: Int(raw[src + x]) + predictor)
            }
        }
        return out
    }

    /// Encodes 8-bit grey (1), grey + alpha (2), RGB (3) or RGBA (4) pixels; the grey writer above is the
    /// one-channel case.
    public static func encode(_ image: DecodedImage) throws -> Data {
        let colour: UInt8
        switch image.channels {
        case 1: colour = 0
        case 2: colour = 4
        case 3: colour = 2
        case 4: colour = 6
        default: throw PNGError(description: "PNG: \(image.channels) channels (1–4 only)")
        }
        var out = Data(signature)
        var header = Data()
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        header.append(contentsOf: [8, colour, 0, 0, 0])
        out.appendChunk("IHDR", header)
        let stride = image.width * image.channels
        var raw = [UInt8]()
        raw.reserveCapacity((stride + 1) * image.height)
        for y in 0..<image.height {
            raw.append(0)
            raw += image.pixels[(y * stride)..<((y + 1) * stride)]
        }
        out.appendChunk("IDAT", try deflate(raw))
        out.appendChunk("IEND", Data())
        return out
    }
}
