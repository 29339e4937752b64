import Foundation
import Testing
@testable import OfflineRL
import NN
import TensorCore
import TestSupport

/// Seeded mutation fuzzing of every file parser on the data path (issue J; docs/conventions.md,
/// Errors and files): thousands of corrupted variants of valid files must each parse or fail with
/// a typed error whose message is one line — never trap, never allocate what the file cannot hold.
/// Deterministic (fixed seeds); a failure names the seed and iteration to replay.
@Suite("parser fuzzing")
struct FuzzTests {
    static func fixture(_ name: String) -> Data {
        try! Data(contentsOf: Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!)
    }

    /// Runs `parse` on `iterations` mutants of `seed`; returns how many parsed (the rest threw).
    static func fuzz(_ seedData: Data, seed: UInt64, iterations: Int, parse: (Data) throws -> Void) -> Int {
        let m = Mutator(seed: seed)
        var parsed = 0
        for i in 0..<iterations {
            let input = m.mutate(seedData)
            do {
                try parse(input)
                parsed += 1
            } catch {
                let message = String(describing: error)
                #expect(!message.isEmpty && !message.contains("\n"), "seed \(seed) iteration \(i): \(message)")
                #expect(error is DataFileError || error is SafeTensorsError, "seed \(seed) iteration \(i): untyped \(type(of: error))")
            }
        }
        return parsed
    }

    @Test func npyHeadersAndPayloads() throws {
        let valid = NPY.encode(Tensor((0..<24).map(Float.init), shape: [2, 3, 4]))
        let parsed = Self.fuzz(valid, seed: 1, iterations: 4000) { _ = try NPY.decode($0, name: "x.npy") }
        #expect(parsed < 4000)  // the mutations do break files; what breaks must fail cleanly
    }

    @Test func declaredSizesOverTheMemoryBudgetAreErrors() throws {
        // A 10-byte header declaring 2⁴⁰ floats: refused before allocating, naming the budget.
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }"
        var npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0])
        npy.append(Data(header.utf8))
        #expect { _ = try NPY.decode(npy, name: "huge.npy") } throws: { "\($0)".contains("over the memory budget") }
    }

    @Test(arguments: [("numpy_tiny.npz", UInt64(2)), ("stored", 3)])
    func zipArchives(_ name: String, _ seed: UInt64) throws {
        // numpy's own (compressed) archive, and one we write (stored, with an attributes member).
        let valid: Data
        if name == "stored" {
            let url = temporaryURL("fuzz-\(UUID().uuidString).npz")
            defer { try? FileManager.default.removeItem(at: url) }
            try tinyDataset().save(to: url)
            valid = try Data(contentsOf: url)
        } else {
            valid = Self.fixture(name)
        }
        _ = Self.fuzz(valid, seed: seed, iterations: 3000) { data in
            for (member, bytes) in try ZipArchive.members(of: data, path: "x.npz") where member.hasSuffix(".npy") {
                _ = try NPY.decode(bytes, name: member)
            }
        }
    }

    /// ZIP64 fields that claim more than the file holds (the cases a reading of the code found).
    @Test func hostileZip64Fields() throws {
        var eocd = [UInt8](repeating: 0, count: 22)
        eocd[0...3] = [0x50, 0x4B, 5, 6]
        eocd[10] = 0xFF; eocd[11] = 0xFF  // entries 0xFFFF → look for ZIP64
        var locator = [UInt8](repeating: 0, count: 20)
        locator[0...3] = [0x50, 0x4B, 6, 7]
        for offset: UInt64 in [0xFFFF_FFFF_FFFF_FFF0, 0x7FFF_FFFF_FFFF_FFFF, 1 << 62] {
            var l = locator
            for k in 0..<8 { l[8 + k] = UInt8((offset >> (8 * UInt64(k))) & 0xFF) }
            #expect(throws: DataFileError.self) { _ = try ZipArchive.members(of: Data(l + eocd), path: "z.npz") }
        }
    }

    @Test func safetensorsFiles() throws {
        var file = SafeTensorsFile(metadata: ["format": "x", "config": "{\"a\": [1, 2]}"])
        file.tensors["w"] = SafeTensor(Tensor((0..<12).map(Float.init), shape: [3, 4]))
        file.tensors["b"] = SafeTensor(Tensor([1, 2, 3]))
        let valid = try file.serialized()
        _ = Self.fuzz(valid, seed: 4, iterations: 4000) { data in
            let f = try SafeTensorsFile(data: data)
            for (name, t) in f.tensors { _ = try t.tensor(name: name) }
        }
    }

    /// Checkpoints: the safetensors layer, then the config JSON and metadata a loader decodes.
    @Test func agentCheckpoints() throws {
        let networks = AgentNetworks(config: .init(algorithm: .td3bc, observationDim: 3, actionDim: 1, hidden: [4]), rng: RandomGenerator(seed: 1))
        let url = temporaryURL("fuzz-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(networks, to: url, metadata: ["observation_normalizer": "{\"shift\": [0, 0, 0], \"scale\": [1, 1, 1]}"])
        let valid = try Data(contentsOf: url)
        let m = Mutator(seed: 6)
        for i in 0..<600 {
            try m.mutate(valid).write(to: url)
            do { _ = try Checkpoint.load(AgentNetworks.self, from: url) } catch {
                let message = String(describing: error)
                #expect(!message.contains("\n"), "iteration \(i): \(message)")
                #expect(error is Checkpoint.Error || error is SafeTensorsError, "iteration \(i): untyped \(type(of: error))")
            }
        }
    }

    /// HDF5 goes through libhdf5, whose own robustness against hostile bytes is not ours to fix;
    /// our import layer must turn whatever it returns — truncated files, mismatched or missing
    /// datasets — into typed errors.
    @Test func hdf5TruncationsAndStructure() throws {
        let valid = Self.fixture("d4rl_tiny.hdf5")
        let url = temporaryURL("fuzz-\(UUID().uuidString).hdf5")
        defer { try? FileManager.default.removeItem(at: url) }
        for cut in stride(from: 0, to: valid.count, by: Swift.max(valid.count / 40, 1)) {
            try valid.prefix(cut).write(to: url)
            #expect(throws: DataFileError.self) { _ = try OfflineDataset.load(url) }
        }
    }
}
