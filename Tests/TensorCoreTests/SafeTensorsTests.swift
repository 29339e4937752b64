import Foundation
import Testing
import TensorCore
import TestSupport

@Suite("safetensors")
struct SafeTensorsTests {
    static func tempURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("pd-\(UUID().uuidString)-\(name)")
    }

    static var fixture: URL { Bundle.module.url(forResource: "Fixtures/python_written", withExtension: "safetensors")! }

    @Test func loadsFileWrittenByPython() throws {
        let f = try SafeTensorsFile(contentsOf: Self.fixture)
        #expect(f.metadata == ["source": "safetensors-python", "config": "{\"hidden\": 256}"])
        let w = try f.tensors["weights.f32"]!.tensor()
        #expect(w.shape == [2, 3] && w.scalars == [-1, -0.5, 0, 0.5, 1, 1.5])
        #expect(f.tensors["values.f64"]!.float64s == [0.5, -1.25, 3e-300])
        #expect(f.tensors["steps.i64"]!.int64s == [-3, 7, 1 << 40])
        #expect(f.tensors["state.u64"]!.uint64s == [(UInt64(1) << 63) + 5])
        #expect(f.tensors["mask.bool"]!.bools == [true, false, true] && f.tensors["mask.bool"]!.shape == [1, 3])
        #expect(f.tensors["empty.f32"]!.shape == [0, 4])
    }

    @Test func roundTripsEveryDtypeAndMetadata() throws {
        var f = SafeTensorsFile(metadata: ["config": "{\"a\":1}", "command": "diffuse train --seed 3"])
        f.tensors["w"] = SafeTensor(Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2]))
        f.tensors["d"] = SafeTensor(float64: [1e-300, -2], shape: [2])
        f.tensors["i"] = SafeTensor(int64: [-1, Int64.max], shape: [2, 1])
        f.tensors["u"] = SafeTensor(uint64: [UInt64.max], shape: [1])
        f.tensors["b"] = SafeTensor(bool: [false, true], shape: [2])
        f.tensors["scalar"] = SafeTensor(Tensor(3.5))
        let url = Self.tempURL("rt.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try f.write(to: url)
        #expect(try SafeTensorsFile(contentsOf: url) == f)
        // Header is 8-byte aligned, as the reference writer pads it.
        let data = try Data(contentsOf: url)
        #expect(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } % 8 == 0)
    }

    /// Our files load in Python's safetensors with the same names, dtypes, shapes and values
    /// (runs where python3 has safetensors; .ci/run installs it).
    @Test(.enabled(if: PythonCheck.available("safetensors", "numpy"))) func pythonReadsOurFiles() throws {
        var f = SafeTensorsFile(metadata: ["config": "{\"hidden\":8}"])
        f.tensors["layer.weight"] = SafeTensor(Tensor([0.25, -1, 3, 4], shape: [2, 2]))
        f.tensors["steps"] = SafeTensor(int64: [5, -6], shape: [2])
        f.tensors["rng"] = SafeTensor(uint64: [12345678901234], shape: [1])
        f.tensors["mask"] = SafeTensor(bool: [true, false], shape: [2])
        f.tensors["values"] = SafeTensor(float64: [0.1], shape: [1])
        let url = Self.tempURL("py.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try f.write(to: url)
        let expected = """
        {"__metadata__": {"config": "{\\"hidden\\":8}"}, "layer.weight": ["float32", [2, 2], [0.25, -1, 3, 4]],
         "steps": ["int64", [2], [5, -6]], "rng": ["uint64", [1], [12345678901234]], "mask": ["bool", [2], [true, false]],
         "values": ["float64", [1], [0.1]]}
        """
        let (status, out) = try PythonCheck.run(devScript: "check_safetensors.py", [url.path, expected])
        #expect(status == 0, "python check failed: \(out)")
    }

    // MARK: corrupt files: each gives a typed error, never a crash

    static func header(_ json: String, data: [UInt8] = []) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(json.utf8))
        d.append(contentsOf: data)
        return d
    }

    struct Corrupt: Sendable, CustomStringConvertible {
        let name: String
        let bytes: @Sendable () -> Data
        var description: String { name }
    }

    static let corrupt: [Corrupt] = [
        Corrupt(name: "empty file") { Data() },
        Corrupt(name: "shorter than the length field") { Data([1, 2, 3]) },
        Corrupt(name: "header longer than file") { var d = Data(); withUnsafeBytes(of: UInt64(1000).littleEndian) { d.append(contentsOf: $0) }; d.append(contentsOf: [0x7b, 0x7d]); return d },
        Corrupt(name: "header length overflow") { Data([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7b]) },
        Corrupt(name: "bad JSON") { header("{\"w\": {\"dtype\": ") },
        Corrupt(name: "JSON array") { header("[1, 2]") },
        Corrupt(name: "unknown dtype") { header(#"{"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}"#, data: [0]) },
        Corrupt(name: "negative shape") { header(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]) },
        Corrupt(name: "offsets beyond data") { header(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]) },
        Corrupt(name: "offsets reversed") { header(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]) },
        Corrupt(name: "size mismatch") { header(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)) },
        Corrupt(name: "overlap") { header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]) },
        Corrupt(name: "truncated data") { header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: [UInt8](repeating: 0, count: 12)) },
        Corrupt(name: "metadata not strings") { header(#"{"__metadata__":{"a":1}}"#) },
        Corrupt(name: "missing offsets") { header(#"{"w":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]) },
        Corrupt(name: "huge shape overflow") { header(#"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]) },
    ]

    @Test(arguments: corrupt) func corruptFileGivesError(_ c: Corrupt) {
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(data: c.bytes()) }
    }

    @Test func truncatedRealFileGivesError() throws {
        let data = try Data(contentsOf: Self.fixture)
        for cut in [4, 20, data.count - 1] {
            #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(data: data.prefix(cut)) }
        }
    }

    @Test func missingFileGivesError() {
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "/nonexistent/x.safetensors")) }
    }

    @Test func wrongDtypeForTensorIsError() throws {
        let f = try SafeTensorsFile(contentsOf: Self.fixture)
        #expect(throws: SafeTensorsError.dtypeMismatch(name: "steps.i64", expected: "F32", found: "I64")) {
            try f.tensors["steps.i64"]!.tensor(name: "steps.i64")
        }
    }

    @Test func atomicWriteLeavesNoTemporaryFiles() throws {
        let dir = Self.tempURL("dir")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a.safetensors")
        try SafeTensorsFile(tensors: ["x": SafeTensor(Tensor([1]))]).write(to: url)
        try SafeTensorsFile(tensors: ["x": SafeTensor(Tensor([2]))]).write(to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["a.safetensors"])
        #expect(try SafeTensorsFile(contentsOf: url).tensors["x"]!.tensor().scalars == [2])
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile().write(to: URL(fileURLWithPath: "/nonexistent/dir/x.safetensors")) }
    }
}
