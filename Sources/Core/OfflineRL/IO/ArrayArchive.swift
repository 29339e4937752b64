import Foundation

/// Element type of an array as a file stores it (kept so errors and `dataset info` can name it).
public enum StoredType: String, Sendable, Codable {
    /// `uint8` is numpy's image dtype (written as `|u1`); `uint` the wider unsigned integers (written as `<u8`).
    case float32, float64, bool, int, uint, uint8
}

/// One named numeric array read from (or written to) a data file, held as Float32 like every
/// tensor of the library; `type` records what the file holds.
public struct StoredArray: Sendable {
    public var shape: [Int]
    public var values: [Float]
    public var type: StoredType

    public init(shape: [Int], values: [Float], type: StoredType = .float32) {
        precondition(shape.reduce(1, *) == values.count, "StoredArray: \(values.count) values for shape \(shape)")
        self.shape = shape; self.values = values; self.type = type
    }

    public var rows: Int { shape.first ?? 1 }
    /// Elements per row (1 for a vector).
    public var width: Int { shape.dropFirst().reduce(1, *) }
}

/// A file's arrays by path (`observations`, `infos/goal`) plus string attributes: the one in-memory
/// form that HDF5 and NPZ files are read into and written from, so datasets need one converter.
public struct ArrayArchive: Sendable {
    public var arrays: [String: StoredArray] = [:]
    public var attributes: [String: String] = [:]
    public init(arrays: [String: StoredArray] = [:], attributes: [String: String] = [:]) {
        self.arrays = arrays; self.attributes = attributes
    }

    /// Reads an HDF5 (.hdf5/.h5) or NPZ (.npz) file, chosen by its first bytes, not its name.
    public static func read(_ url: URL) throws -> ArrayArchive {
        guard FileManager.default.fileExists(atPath: url.path) else { throw DataFileError.notFound(url.path) }
        let head = (try? FileHandle(forReadingFrom: url).read(upToCount: 8)) ?? Data()
        if head.starts(with: [0x89, 0x48, 0x44, 0x46]) { return try HDF5.read(url) }
        if head.starts(with: [0x50, 0x4B]) { return try NPZ.read(url) }
        // HDF5 also allows a user block before the signature; let libhdf5 decide.
        if url.pathExtension.lowercased() == "npz" { throw DataFileError.corrupt(url.path, "not a zip archive") }
        return try HDF5.read(url)
    }

    public enum Format: String, Sendable { case hdf5, npz }

    /// Writes atomically (temporary file + rename) in `format`.
    public func write(to url: URL, format: Format) throws {
        switch format {
        case .hdf5: try HDF5.write(self, to: url)
        case .npz: try NPZ.write(self, to: url)
        }
    }
}

/// Why a data file cannot be used: each case names the file, key or row at fault.
public enum DataFileError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case corrupt(String, String)
    case missingKey(String, file: String)
    case wrongRank(String, expected: String, found: [Int])
    case wrongType(String, found: String)
    case lengthMismatch(String, expected: Int, found: Int)
    case nonFinite(String, row: Int)
    case writeFailed(String, String)
    case unsupported(String)

    public var description: String { rawDescription.oneLine() }

    private var rawDescription: String {
        switch self {
        case let .notFound(p): return "\(p): no such file"
        case let .corrupt(p, why): return "\(p) is not a readable data file: \(why)"
        case let .missingKey(k, f): return "\(f) has no '\(k)' array"
        case let .wrongRank(k, e, f): return "'\(k)' has shape \(f), expected \(e)"
        case let .wrongType(k, f): return "'\(k)' holds \(f), expected numbers"
        case let .lengthMismatch(k, e, f): return "'\(k)' has \(f) rows, expected \(e) (as observations)"
        case let .nonFinite(k, row): return "'\(k)' has a NaN or infinite value at row \(row)"
        case let .writeFailed(p, why): return "cannot write \(p): \(why)"
        case let .unsupported(why): return why
        }
    }
}
