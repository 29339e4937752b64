import Foundation

/// Errors reading or writing safetensors files: each names what is wrong and where.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case truncated(String)
    case badHeader(String)
    case badEntry(name: String, reason: String)
    case missingTensor(String)
    case dtypeMismatch(name: String, expected: String, found: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case writeFailed(path: String, reason: String)

    public var description: String { rawDescription.oneLine() }

    private var rawDescription: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .truncated(detail): return "truncated safetensors file: \(detail)"
        case let .badHeader(detail): return "bad safetensors header: \(detail)"
        case let .badEntry(name, reason): return "bad safetensors entry '\(name)': \(reason)"
        case let .missingTensor(name): return "tensor '\(name)' is missing from the checkpoint"
        case let .dtypeMismatch(name, expected, found): return "tensor '\(name)' has dtype \(found), expected \(expected)"
        case let .shapeMismatch(name, expected, found): return "tensor '\(name)' has shape \(found), expected \(expected)"
        case let .writeFailed(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}

/// Element types this library reads and writes (the safetensors names).
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f64, .i64, .u64: return 8
        case .bool: return 1
        }
    }
}

/// One stored array: dtype, shape and its raw little-endian bytes.
public struct SafeTensor: Equatable, Sendable {
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    public var data: Data

    public init(dtype: SafeTensorsDType, shape: [Int], data: Data) {
        precondition(data.count == shape.reduce(1, *) * dtype.byteSize, "byte count does not match \(dtype) \(shape)")
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    public init(_ t: Tensor) {
        self.init(dtype: .f32, shape: t.shape, data: t.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    public init(float64 values: [Double], shape: [Int]) {
        self.init(dtype: .f64, shape: shape, data: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    public init(int64 values: [Int64], shape: [Int]) {
        self.init(dtype: .i64, shape: shape, data: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    public init(uint64 values: [UInt64], shape: [Int]) {
        self.init(dtype: .u64, shape: shape, data: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    public init(bool values: [Bool], shape: [Int]) {
        self.init(dtype: .bool, shape: shape, data: Data(values.map { $0 ? 1 : 0 }))
    }

    private func decode<T>(_: T.Type) -> [T] {
        data.withUnsafeBytes { raw in (0..<(data.count / MemoryLayout<T>.size)).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
    }

    /// The values as a Float32 tensor (F64 is narrowed; other dtypes are an error).
    public func tensor(name: String = "") throws -> Tensor {
        switch dtype {
        case .f32: return Tensor(decode(Float.self), shape: shape)
        case .f64: return Tensor(decode(Double.self).map { Float($0) }, shape: shape)
        default: throw SafeTensorsError.dtypeMismatch(name: name, expected: "F32", found: dtype.rawValue)
        }
    }

    public var float64s: [Double]? { dtype == .f64 ? decode(Double.self) : nil }
    public var int64s: [Int64]? { dtype == .i64 ? decode(Int64.self) : nil }
    public var uint64s: [UInt64]? { dtype == .u64 ? decode(UInt64.self) : nil }
    public var bools: [Bool]? { dtype == .bool ? data.map { $0 != 0 } : nil }
}

/// A safetensors file: named arrays plus the `__metadata__` string map.
/// Layout: u64 little-endian header length N, N bytes of JSON, then the data buffer.
public struct SafeTensorsFile: Equatable, Sendable {
    public var tensors: [String: SafeTensor]
    public var metadata: [String: String]

    public init(tensors: [String: SafeTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    // MARK: reading

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        try self.init(data: data)
    }

    public init(data: Data) throws {
        guard data.count >= 8 else { throw SafeTensorsError.truncated("\(data.count) bytes, the 8-byte header length is missing") }
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(data.count - 8) else { throw SafeTensorsError.truncated("header claims \(n) bytes but the file has \(data.count - 8) after the length") }
        let headerBytes = data.subdata(in: 8..<(8 + Int(n)))
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw SafeTensorsError.badHeader("not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw SafeTensorsError.badHeader("not a JSON object") }
        let buffer = data.subdata(in: (8 + Int(n))..<data.count)
        var tensors: [String: SafeTensor] = [:]
        var metadata: [String: String] = [:]
        var spans: [(Int, Int, String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafeTensorsError.badHeader("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw SafeTensorsError.badHeader("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw SafeTensorsError.badEntry(name: name, reason: "not an object") }
            guard let dt = entry["dtype"] as? String else { throw SafeTensorsError.badEntry(name: name, reason: "missing dtype") }
            guard let dtype = SafeTensorsDType(rawValue: dt) else { throw SafeTensorsError.badEntry(name: name, reason: "unsupported dtype \(dt)") }
            guard let rawShape = entry["shape"] as? [Any], let shape = SafeTensorsFile.integers(rawShape), shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError.badEntry(name: name, reason: "shape is not a list of non-negative integers")
            }
            guard let rawOffsets = entry["data_offsets"] as? [Any], let offsets = SafeTensorsFile.integers(rawOffsets), offsets.count == 2 else {
                throw SafeTensorsError.badEntry(name: name, reason: "data_offsets is not [begin, end]")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= buffer.count else {
                throw SafeTensorsError.badEntry(name: name, reason: "data_offsets [\(begin), \(end)] outside the \(buffer.count)-byte data buffer")
            }
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d); return (p, acc.1 || o)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: dtype.byteSize) == (end - begin, false) else {
                throw SafeTensorsError.badEntry(name: name, reason: "\(end - begin) bytes do not hold \(dt) \(shape)")
            }
            spans.append((begin, end, name))
            tensors[name] = SafeTensor(dtype: dtype, shape: shape, data: buffer.subdata(in: begin..<end))
        }
        // Entries must tile the buffer without overlap (as the reference implementation checks).
        spans.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var cursor = 0
        for (b, e, name) in spans {
            guard b == cursor else { throw SafeTensorsError.badEntry(name: name, reason: b < cursor ? "overlaps another tensor" : "leaves a gap in the data buffer") }
            cursor = e
        }
        guard cursor == buffer.count else { throw SafeTensorsError.truncated("data buffer has \(buffer.count - cursor) trailing bytes not covered by any tensor") }
        self.init(tensors: tensors, metadata: metadata)
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in values {
            guard let n = v as? Int else { return nil }
            out.append(n)
        }
        return out
    }

    // MARK: writing

    /// The serialised bytes: header JSON (keys sorted, padded with spaces to 8 bytes) then data.
    public func serialized() throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.data.count]] as [String: Any]
            offset += t.data.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names { out.append(tensors[name]!.data) }
        return out
    }

    /// Writes atomically: a temporary file in the same folder, flushed, then renamed over `url`.
    public func write(to url: URL) throws {
        try AtomicFile.write(try serialized(), to: url)
    }
}

extension String {
    /// The text as one printable line: control characters (newlines from a corrupt file's bytes, say)
    /// escaped, and at most `limit` characters, so every error message stays one line.
    public func oneLine(limit: Int = 400) -> String {
        var out = ""
        for u in unicodeScalars {
            if u.properties.generalCategory == .control || u.properties.generalCategory == .lineSeparator
                || u.properties.generalCategory == .paragraphSeparator {
                out += u.escaped(asASCII: true)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out.count > limit ? String(out.prefix(limit)) + "…" : out
    }
}

/// Atomic whole-file writes (temporary file + fsync + rename): a crash never leaves half a file.
public enum AtomicFile {
    /// Lets `body` write a temporary file beside `url` (by any means, e.g. libhdf5), then syncs it,
    /// renames it over `url` and syncs the directory, so that after a crash or SIGKILL at any point
    /// `url` holds either its old content or the complete new one. On any failure the temporary file
    /// is removed and `url` is untouched. Temporary files left by killed writers of the same
    /// destination are removed first.
    public static func write(to url: URL, using body: (URL) throws -> Void) throws {
        let dir = url.deletingLastPathComponent()
        removeStaleTemporaries(of: url)
        let tmp = dir.appendingPathComponent("\(temporaryPrefix(of: url))\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try body(tmp)
            try sync(tmp.path, for: url)
            guard rename(tmp.path, url.path) == 0 else {
                throw SafeTensorsError.writeFailed(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(tmp.path)
            throw error
        }
        // The rename is durable only once the directory entry is on disk.
        try sync(dir.path, for: url)
    }

    /// ".name.tmp-": temporary files of `url` are this prefix, the writer's PID and a random number.
    static func temporaryPrefix(of url: URL) -> String { ".\(url.lastPathComponent).tmp-" }

    /// Removes temporary files of `url` whose writing process no longer exists.
    public static func removeStaleTemporaries(of url: URL) {
        let dir = url.deletingLastPathComponent(), prefix = temporaryPrefix(of: url)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(dir.appendingPathComponent(name).path) }
        }
    }

    private static func sync(_ path: String, for url: URL) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafeTensorsError.writeFailed(path: url.path, reason: String(cString: strerror(errno))) }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced else { throw SafeTensorsError.writeFailed(path: url.path, reason: String(cString: strerror(errno))) }
    }

    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { tmp in
            let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            guard fd >= 0 else { throw SafeTensorsError.writeFailed(path: url.path, reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            try data.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                    guard n > 0 else { throw SafeTensorsError.writeFailed(path: url.path, reason: String(cString: strerror(errno))) }
                    done += n
                }
            }
        }
    }
}
