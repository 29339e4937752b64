import CZlib
import Foundation
import TensorCore

/// numpy's .npy format: version 1–3 headers read, version 1 written; little-endian, C order.
public enum NPY {
    static func descr(_ type: StoredType) -> String {
        switch type {
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .bool: return "|b1"
        case .int: return "<i8"
        case .uint: return "<u8"
        case .uint8: return "|u1"
        }
    }

    /// The bytes `np.save` would write for `array`.
    public static func encode(_ array: StoredArray) -> Data {
        let s = array.shape
        let shape = s.count == 1 ? "(\(s[0]),)" : "(" + s.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr(array.type))', 'fortran_order': False, 'shape': \(shape), }"
        // magic (6) + version (2) + length (2) + header, padded with spaces to 64 bytes, ending in \n.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        switch array.type {
        case .float32: array.values.withUnsafeBytes { d.append(contentsOf: $0) }
        case .float64: array.values.map(Double.init).withUnsafeBytes { d.append(contentsOf: $0) }
        case .bool: d.append(contentsOf: array.values.map { $0 != 0 ? UInt8(1) : 0 })
        case .int: array.values.map { Int64($0) }.withUnsafeBytes { d.append(contentsOf: $0) }
        case .uint: array.values.map { UInt64(Swift.max($0, 0)) }.withUnsafeBytes { d.append(contentsOf: $0) }
        case .uint8: d.append(contentsOf: array.values.map { UInt8(Swift.min(Swift.max($0, 0), 255)) })
        }
        return d
    }

    /// A tensor as float32 .npy bytes.
    public static func encode(_ t: Tensor) -> Data { encode(StoredArray(shape: t.shape, values: t.scalars)) }

    /// Parses .npy bytes; `name` is used in error messages.
    public static func decode(_ data: Data, name: String) throws -> StoredArray {
        let bytes = [UInt8](data)
        func bad(_ why: String) -> DataFileError { .corrupt(name, why) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw bad("no .npy magic") }
        let major = bytes[6]
        let headerLength: Int, start: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }; start = 12
        default: throw bad("unsupported .npy version \(major)")
        }
        guard bytes.count >= start + headerLength else { throw bad("truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let d = field("descr"), let q = d.first, q == "'" || q == "\"" else { throw bad("header has no descr") }
        let descr = String(d.dropFirst().prefix { $0 != q })
        if field("fortran_order")?.hasPrefix("True") == true { throw bad("Fortran-ordered arrays are not supported") }
        guard let s = field("shape"), s.first == "(", let close = s.firstIndex(of: ")") else { throw bad("header has no shape") }
        let dims = s[s.index(after: s.startIndex)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        let shape = try dims.map { t -> Int in
            guard let v = Int(t), v >= 0 else { throw bad("bad shape entry '\(t)'") }
            return v
        }
        // Declared sizes are checked before anything is allocated (no overflow traps; the payload's
        // length is checked per dtype below).
        if let why = MemoryBudget.refusal(elements: shape) { throw bad("shape \(shape), as 32-bit floats, \(why)") }
        let count = shape.reduce(1, *)
        let payload = bytes[(start + headerLength)...]
        guard descr.first != ">" else { throw bad("big-endian dtype \(descr) is not supported") }
        let code = String(descr.drop { $0 == "<" || $0 == "|" || $0 == "=" })
        func load<T>(_: T.Type, _ type: StoredType, _ convert: (T) -> Float) throws -> StoredArray {
            let (needed, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.size)
            guard !overflow, payload.count >= needed else {
                throw bad("data holds \(payload.count) bytes, shape \(shape) of \(descr) needs more")
            }
            let values = payload.withUnsafeBytes { raw in
                (0..<count).map { convert(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
            }
            return StoredArray(shape: shape, values: values, type: type)
        }
        switch code {
        case "f4": return try load(Float.self, .float32) { $0 }
        case "f8": return try load(Double.self, .float64) { Float($0) }
        case "b1": return try load(UInt8.self, .bool) { $0 != 0 ? 1 : 0 }
        case "i1": return try load(Int8.self, .int) { Float($0) }
        case "i2": return try load(Int16.self, .int) { Float($0) }
        case "i4": return try load(Int32.self, .int) { Float($0) }
        case "i8": return try load(Int64.self, .int) { Float($0) }
        case "u1": return try load(UInt8.self, .uint8) { Float($0) }
        case "u2": return try load(UInt16.self, .uint) { Float($0) }
        case "u4": return try load(UInt32.self, .uint) { Float($0) }
        case "u8": return try load(UInt64.self, .uint) { Float($0) }
        default: throw DataFileError.wrongType(name, found: descr)
        }
    }
}

/// numpy's .npz: a zip archive of .npy members (`np.savez` stores them, `np.savez_compressed`
/// deflates them; both read). Attributes travel in an `__attributes__.json` member.
public enum NPZ {
    static let attributesMember = "__attributes__.json"

    public static func read(_ url: URL) throws -> ArrayArchive {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else { throw DataFileError.notFound(path) }
        var archive = ArrayArchive()
        for (name, bytes) in try ZipArchive.members(of: data, path: path) {
            if name == attributesMember {
                let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: String]
                archive.attributes = object ?? [:]
            } else if name.hasSuffix(".npy") {
                let key = String(name.dropLast(4))
                archive.arrays[key] = try NPY.decode(bytes, name: "\(path): \(key)")
            }
        }
        return archive
    }

    public static func write(_ archive: ArrayArchive, to url: URL) throws {
        var members = archive.arrays.keys.sorted().map { ($0 + ".npy", NPY.encode(archive.arrays[$0]!)) }
        if !archive.attributes.isEmpty {
            let json = try JSONSerialization.data(withJSONObject: archive.attributes, options: [.sortedKeys])
            members.append((attributesMember, json))
        }
        let zip = try ZipArchive.stored(members, path: url.path)
        try AtomicFile.write(zip, to: url)
    }
}

/// The parts of the zip format that numpy uses: stored and deflated members, ZIP64 sizes/offsets.
enum ZipArchive {
    private static func u16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
    private static func u32(_ b: [UInt8], _ o: Int) -> Int { u16(b, o) | u16(b, o + 2) << 16 }
    /// A 64-bit field as a non-negative Int, or nil when it does not fit (a corrupt or hostile value).
    private static func u64(_ b: [UInt8], _ o: Int) -> Int? {
        let v = UInt64(u32(b, o)) | UInt64(u32(b, o + 4)) << 32
        return v <= UInt64(Int.max / 2) ? Int(v) : nil
    }

    static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw in
            UInt32(CZlib.crc32(0, raw.bindMemory(to: Bytef.self).baseAddress, uInt(raw.count)))
        }
    }

    /// Every member's name and uncompressed bytes, CRC-checked.
    static func members(of data: Data, path: String) throws -> [(String, Data)] {
        let b = [UInt8](data)
        func bad(_ why: String) -> DataFileError { .corrupt(path, why) }
        // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
        guard b.count >= 22 else { throw bad("too short for a zip archive") }
        var eocd = -1
        for o in stride(from: b.count - 22, through: Swift.max(0, b.count - 22 - 65_535), by: -1)
        where b[o] == 0x50 && b[o + 1] == 0x4B && b[o + 2] == 5 && b[o + 3] == 6 { eocd = o; break }
        guard eocd >= 0 else { throw bad("no zip end-of-directory record (truncated?)") }
        var entries = u16(b, eocd + 10)
        var cd = u32(b, eocd + 16)
        if (entries == 0xFFFF || cd == 0xFFFF_FFFF), eocd >= 20, u32(b, eocd - 20) == 0x0706_4B50 {
            guard let rec = u64(b, eocd - 20 + 8), rec + 56 <= b.count, u32(b, rec) == 0x0606_4B50,
                  let n = u64(b, rec + 32), let offset = u64(b, rec + 48) else { throw bad("bad ZIP64 directory record") }
            entries = n
            cd = offset
        }
        // Every entry takes at least 46 bytes of the directory: a larger count is a lie.
        guard entries <= b.count / 46 else { throw bad("the directory claims \(entries) entries") }
        var out: [(String, Data)] = []
        var o = cd
        for _ in 0..<entries {
            guard o + 46 <= b.count, u32(b, o) == 0x0201_4B50 else { throw bad("bad central directory entry") }
            let method = u16(b, o + 10)
            let crc = UInt32(u32(b, o + 16))
            var compressed = u32(b, o + 20), size = u32(b, o + 24)
            let nameLength = u16(b, o + 28), extraLength = u16(b, o + 30), commentLength = u16(b, o + 32)
            var local = u32(b, o + 42)
            guard o + 46 + nameLength + extraLength <= b.count else { throw bad("truncated central directory") }
            let name = String(decoding: b[(o + 46)..<(o + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extra field: the 64-bit values of whichever fields are saturated, in this order.
            var e = o + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(b, e), length = u16(b, e + 2)
                let fieldEnd = e + 4 + length
                guard fieldEnd <= extraEnd else { throw bad("\(name) has a truncated extra field") }
                if id == 1 {
                    // Each 64-bit value must lie inside this field.
                    var p = e + 4
                    func next() throws -> Int {
                        guard p + 8 <= fieldEnd, let v = u64(b, p) else { throw bad("\(name) has a bad ZIP64 extra field") }
                        p += 8
                        return v
                    }
                    if size == 0xFFFF_FFFF { size = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if local == 0xFFFF_FFFF { local = try next() }
                }
                e = fieldEnd
            }
            o = extraEnd + commentLength
            guard local <= b.count - 30, u32(b, local) == 0x0403_4B50 else { throw bad("bad local header for \(name)") }
            let start = local + 30 + u16(b, local + 26) + u16(b, local + 28)
            guard start <= b.count, compressed <= b.count - start else { throw bad("\(name) is truncated") }
            // Deflate expands at most 1032:1, so a larger declared size is corrupt; checked before allocating.
            guard method != 8 || size <= compressed * 1032 + 1024, method != 0 || size == compressed else {
                throw bad("\(name) declares \(size) bytes from \(compressed) compressed")
            }
            let raw = Data(b[start..<(start + compressed)])
            let bytes: Data
            switch method {
            case 0: bytes = raw
            case 8: bytes = try inflate(raw, size: size, name: name, path: path)
            default: throw bad("\(name) uses zip compression method \(method) (numpy writes 0 or 8)")
            }
            guard bytes.count == size, crc32(bytes) == crc else { throw bad("\(name) fails its CRC check (corrupt)") }
            out.append((name, bytes))
        }
        return out
    }

    private static func inflate(_ data: Data, size: Int, name: String, path: String) throws -> Data {
        var out = [UInt8](repeating: 0, count: Swift.max(size, 1))
        var input = [UInt8](data)
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataFileError.corrupt(path, "zlib init failed")
        }
        defer { inflateEnd(&stream) }
        let status: Int32 = input.withUnsafeMutableBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { outp in
                stream.next_in = inp.baseAddress
                stream.avail_in = uInt(inp.count)
                stream.next_out = outp.baseAddress
                stream.avail_out = uInt(outp.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw DataFileError.corrupt(path, "\(name) does not inflate (corrupt deflate data)")
        }
        return Data(out.prefix(size))
    }

    /// An uncompressed archive of `members` (sizes must fit 32 bits: < 4 GiB).
    static func stored(_ members: [(String, Data)], path: String) throws -> Data {
        var out = Data()
        var directory = Data()
        func put16(_ d: inout Data, _ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        func put32(_ d: inout Data, _ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { d.append(contentsOf: $0) } }
        for (name, bytes) in members {
            guard bytes.count < 0xFFFF_FFFF, out.count < 0xFFFF_FFFF else {
                throw DataFileError.writeFailed(path, "NPZ members above 4 GiB are not supported; use HDF5")
            }
            let nameBytes = Array(name.utf8)
            let crc = Int(crc32(bytes))
            let offset = out.count
            // Local header: signature, version 2.0, flags 0 (UTF-8 names are ASCII here), stored, no time.
            put32(&out, 0x0403_4B50); put16(&out, 20); put16(&out, 0); put16(&out, 0); put16(&out, 0); put16(&out, 0x21)
            put32(&out, crc); put32(&out, bytes.count); put32(&out, bytes.count); put16(&out, nameBytes.count); put16(&out, 0)
            out.append(contentsOf: nameBytes)
            out.append(bytes)
            put32(&directory, 0x0201_4B50); put16(&directory, 20); put16(&directory, 20); put16(&directory, 0); put16(&directory, 0)
            put16(&directory, 0); put16(&directory, 0x21); put32(&directory, crc); put32(&directory, bytes.count)
            put32(&directory, bytes.count); put16(&directory, nameBytes.count); put16(&directory, 0); put16(&directory, 0)
            put16(&directory, 0); put16(&directory, 0); put32(&directory, 0); put32(&directory, offset)
            directory.append(contentsOf: nameBytes)
        }
        let cdOffset = out.count
        out.append(directory)
        put32(&out, 0x0605_4B50); put16(&out, 0); put16(&out, 0); put16(&out, members.count); put16(&out, members.count)
        put32(&out, directory.count); put32(&out, cdOffset); put16(&out, 0)
        return out
    }
}
