import CHDF5IO
import Foundation
import TensorCore

/// HDF5 files in the D4RL / DSRL layout through libhdf5's C API (via the CHDF5IO facade). Files
/// are written with library-version bounds earliest…v110, so HDF5 1.10 and h5py read them.
public enum HDF5 {
    /// The serial libhdf5 is not thread-safe: one call at a time.
    private static let lock = NSLock()

    private static func lastError() -> String {
        let s = String(cString: pd_h5_last_error())
        return s.isEmpty ? "libhdf5 reported an error" : s
    }

    private static func names(_ fill: (UnsafeMutablePointer<CChar>?, Int) -> Int64) throws -> [String] {
        let needed = fill(nil, 0)
        guard needed >= 0 else { throw DataFileError.unsupported(lastError()) }
        var buffer = [CChar](repeating: 0, count: Int(needed) + 1)
        _ = buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress, $0.count) }
        let text = cString(buffer)
        return text.isEmpty ? [] : text.split(separator: "\n").map(String.init)
    }

    private static func cString(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func read(_ url: URL) throws -> ArrayArchive {
        lock.lock(); defer { lock.unlock() }
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw DataFileError.notFound(path) }
        // A malformed file can crash libhdf5 1.10.8 itself: a child process reads it first (docs/conventions.md).
        var why = [CChar](repeating: 0, count: 256)
        guard pd_h5_read_survives(path, Int64(MemoryBudget.bytes), &why, why.count) == 0 else {
            throw DataFileError.corrupt(path, cString(why))
        }
        guard pd_h5_is_hdf5(path) == 1 else { throw DataFileError.corrupt(path, "no HDF5 signature") }
        let file = pd_h5_open(path, 0)
        guard file >= 0 else { throw DataFileError.corrupt(path, lastError()) }
        defer { _ = pd_h5_close(file) }
        var archive = ArrayArchive()
        let datasetNames: [String]
        do { datasetNames = try names { pd_h5_list_datasets(file, $0, $1) } } catch {
            throw DataFileError.corrupt(path, lastError())
        }
        for name in datasetNames {
            var rank: Int32 = 0, kind: Int32 = 0, size: Int32 = 0
            var dims = [Int64](repeating: 0, count: Int(PD_H5_MAX_RANK))
            guard pd_h5_dataset_info(file, name, &rank, &dims, &kind, &size) == 0 else {
                throw DataFileError.corrupt(path, "\(name): \(lastError())")
            }
            let shape = dims.prefix(Int(rank)).map { Int($0) }
            let type: StoredType
            switch Int(kind) {
            case Int(PD_H5_FLOAT): type = size == 8 ? .float64 : .float32
            case Int(PD_H5_INT): type = .int
            case Int(PD_H5_UINT): type = size == 1 ? .uint8 : .uint
            case Int(PD_H5_BOOL): type = .bool
            default: continue  // strings and compounds (e.g. metadata) are not arrays we use
            }
            if let why = MemoryBudget.refusal(elements: shape) { throw DataFileError.corrupt(path, "\(name) declares shape \(shape), which \(why)") }
            var values = [Float](repeating: 0, count: shape.reduce(1, *))
            let status = values.withUnsafeMutableBufferPointer { pd_h5_read_f32(file, name, $0.baseAddress) }
            guard status == 0 else { throw DataFileError.corrupt(path, "\(name): \(lastError())") }
            archive.arrays[name] = StoredArray(shape: shape, values: values, type: type)
        }
        for key in (try? names { pd_h5_list_attrs(file, $0, $1) }) ?? [] {
            let n = pd_h5_read_attr(file, key, nil, 0)
            guard n >= 0 else { continue }  // non-string attributes are ignored
            var buffer = [CChar](repeating: 0, count: Int(n) + 1)
            _ = buffer.withUnsafeMutableBufferPointer { pd_h5_read_attr(file, key, $0.baseAddress, $0.count) }
            archive.attributes[key] = cString(buffer)
        }
        return archive
    }

    /// Writes every array (bools as h5py bools, float64 kept, the rest float32), gzip-compressed.
    public static func write(_ archive: ArrayArchive, to url: URL, gzip: Int = 4) throws {
        try AtomicFile.write(to: url) { tmp in
            lock.lock(); defer { lock.unlock() }
            let file = pd_h5_open(tmp.path, 1)
            guard file >= 0 else { throw DataFileError.writeFailed(url.path, lastError()) }
            var closed = false
            defer { if !closed { _ = pd_h5_close(file) } }
            for name in archive.arrays.keys.sorted() {
                let a = archive.arrays[name]!
                let dims = a.shape.map { Int64($0) }
                let status: Int32
                switch a.type {
                case .bool:
                    let bytes = a.values.map { Int8($0 != 0 ? 1 : 0) }
                    status = pd_h5_write(file, name, Int32(dims.count), dims, Int32(PD_H5_WRITE_BOOL), bytes, Int32(gzip))
                case .float64:
                    let doubles = a.values.map(Double.init)
                    status = pd_h5_write(file, name, Int32(dims.count), dims, Int32(PD_H5_WRITE_F64), doubles, Int32(gzip))
                case .int, .uint, .uint8:
                    let ints = a.values.map { Int64($0) }
                    status = pd_h5_write(file, name, Int32(dims.count), dims, Int32(PD_H5_WRITE_I64), ints, Int32(gzip))
                case .float32:
                    status = pd_h5_write(file, name, Int32(dims.count), dims, Int32(PD_H5_WRITE_F32), a.values, Int32(gzip))
                }
                guard status == 0 else { throw DataFileError.writeFailed(url.path, "\(name): \(lastError())") }
            }
            for (k, v) in archive.attributes.sorted(by: { $0.key < $1.key }) {
                guard pd_h5_write_attr(file, k, v) == 0 else { throw DataFileError.writeFailed(url.path, "attribute \(k): \(lastError())") }
            }
            closed = true
            guard pd_h5_close(file) == 0 else { throw DataFileError.writeFailed(url.path, lastError()) }
        }
    }
}
