import Foundation
import Testing
@testable import OfflineRL
import TensorCore
import TestSupport

/// A small dataset with every field, including infos and costs.
func tinyDataset(rows n: Int = 9) throws -> OfflineDataset {
    let obs = Tensor((0..<(n * 3)).map { Float($0) * 0.5 - 2 }, shape: [n, 3])
    return try OfflineDataset(observations: obs, actions: Tensor((0..<(n * 2)).map { Float($0) / 20 - 0.4 }, shape: [n, 2]),
                              rewards: Tensor((0..<n).map { Float($0) - 1 }), nextObservations: obs + 0.25,
                              terminals: Tensor((0..<n).map { $0 == 3 ? 1 : 0 }), timeouts: Tensor((0..<n).map { $0 == n - 1 ? 1 : 0 }),
                              costs: Tensor((0..<n).map { Float($0 % 3 == 0 ? 1 : 0) }),
                              infos: ["goal": Tensor((0..<(n * 2)).map { Float($0) }, shape: [n, 2])],
                              attributes: ["env": "pendulum", "quality": "mixed"])
}

func temporaryURL(_ name: String) -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pd-offline-\(getpid())", isDirectory: true)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name)
}

func expectSameData(_ a: OfflineDataset, _ b: OfflineDataset) {
    #expect(a.observations.scalars == b.observations.scalars && a.observations.shape == b.observations.shape)
    #expect(a.actions.scalars == b.actions.scalars && a.actions.shape == b.actions.shape)
    #expect(a.rewards.scalars == b.rewards.scalars)
    #expect(a.nextObservations.scalars == b.nextObservations.scalars)
    #expect(a.terminals.scalars == b.terminals.scalars)
    #expect(a.timeouts.scalars == b.timeouts.scalars)
    #expect(a.costs?.scalars == b.costs?.scalars)
    #expect(a.infos.mapValues(\.scalars) == b.infos.mapValues(\.scalars))
    #expect(a.attributes == b.attributes)
}

@Suite struct DataIOTests {
    static func fixture(_ name: String) -> URL { Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)! }

    @Test(arguments: ["round.hdf5", "round.npz"]) func roundTrip(_ name: String) throws {
        let d = try tinyDataset()
        let url = temporaryURL(name)
        try d.save(to: url)
        expectSameData(try OfflineDataset.load(url), d)
    }

    @Test func hdf5KeepsTypes() throws {
        let url = temporaryURL("types.hdf5")
        try tinyDataset().save(to: url)
        let a = try ArrayArchive.read(url)
        #expect(a.arrays["terminals"]?.type == .bool)
        #expect(a.arrays["observations"]?.type == .float32)
        #expect(a.arrays["infos/goal"]?.shape == [9, 2])
    }

    /// The closed forms of dev/make_offline_fixtures.py.
    func checkFixture(_ d: OfflineDataset) {
        let n = 7
        #expect(d.count == n && d.observationDim == 3 && d.actionDim == 2)
        let expectedObservations: [Float] = (0..<(n * 3)).map { Float($0) * 0.25 - 1 }
        #expect(d.observations.scalars == expectedObservations)
        #expect(d.nextObservations.scalars == expectedObservations.map { $0 + 0.5 })
        let expectedActions: [Float] = (0..<(n * 2)).map { Float(Double($0) / 10 - 0.5) }
        #expect(d.actions.scalars == expectedActions)
        let expectedRewards: [Float] = (0..<n).map { Float($0) - 2 }
        let expectedCosts: [Float] = (0..<n).map { Float($0 % 2) }
        #expect(d.rewards.scalars == expectedRewards)
        #expect(d.costs?.scalars == expectedCosts)
        #expect(d.terminals.scalars == [0, 0, 1, 0, 0, 0, 0])
        #expect(d.timeouts.scalars == [0, 0, 0, 0, 0, 0, 1])
        let expectedGoals: [Float] = (0..<n).flatMap { [Float($0), -Float($0)] }
        #expect(d.infos["goal"]?.scalars == expectedGoals)
        #expect(d.episodes == [0..<3, 3..<7])
    }

    @Test func loadsH5pyFixture() throws {
        let d = try OfflineDataset.load(Self.fixture("d4rl_tiny.hdf5"))
        checkFixture(d)
        #expect(d.attributes["env"] == "fixture-env")
        let a = try ArrayArchive.read(Self.fixture("d4rl_tiny.hdf5"))
        #expect(a.arrays["actions"]?.type == .float64 && a.arrays["terminals"]?.type == .bool)
        #expect(a.arrays["metadata/algorithm"] == nil)  // strings are skipped, not misread
    }

    /// libFuzzer's find (docs/conventions.md, coverage-guided fuzzing): one of our own datasets with its
    /// 'quality' attribute's character size mutated to 4,294,705,153 bytes, which libhdf5 1.10 would expand
    /// into gigabytes. The attribute is refused (skipped like any non-string one); the arrays and the
    /// other attributes load.
    @Test func attributeWithHugeCharactersIsSkipped() throws {
        let d = try OfflineDataset.load(Self.fixture("fuzz_vlen_char_size.hdf5"))
        #expect(d.attributes["quality"] == nil && d.attributes["env"] != nil && d.attributes["seed"] != nil)
        #expect(d.count > 0 && d.observations.scalars.allSatisfy(\.isFinite))
    }

    /// libFuzzer's second find: a 5 kB file whose `observations` declares 1,560,281,093 × 3 floats (18.7 GB, under
    /// the memory budget) over 60 stored bytes. Refused in one line before anything is allocated: no compression
    /// turns 60 bytes into that.
    @Test func declaredShapeBeyondItsStorageIsRefused() throws {
        #expect {
            try OfflineDataset.load(Self.fixture("fuzz_declared_shape.hdf5"))
        } throws: { error in
            "\(error)".contains("observations: declares 18723373116 bytes but stores 60")
        }
    }

    /// Six files from libFuzzer on which Debian's libhdf5 1.10.8 itself dereferences a bad pointer — alone in a
    /// fresh process; after other files, libhdf5's state can turn some crashes into plain errors. The read in a
    /// child process (a copy of this one's state) meets any crash first, so loading each is a one-line error,
    /// never a dead process.
    @Test func filesThatCrashLibHDF5AreRefused() throws {
        let folder = Self.fixture("libhdf5-crashes")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        #expect(files.count == 6)
        for file in files {
            #expect {
                try OfflineDataset.load(file)
            } throws: { error in
                let message = "\(error)"
                return !message.contains("\n") && (message.contains("libhdf5 crashed reading it") || message.contains(file.lastPathComponent))
            }
        }
    }

    @Test func loadsNumpyFixture() throws {
        checkFixture(try OfflineDataset.load(Self.fixture("numpy_tiny.npz")))
    }

    /// h5py and numpy read our files with D4RL keys and dtypes (.ci/run installs them).
    @Test(.enabled(if: PythonCheck.available("h5py", "numpy")), arguments: ["py.hdf5", "py.npz"]) func pythonReadsOurFiles(_ name: String) throws {
        let url = temporaryURL(name)
        try tinyDataset().save(to: url)
        let (status, out) = try PythonCheck.run(devScript: "check_offline_files.py", [url.path, "9", "3", "2"])
        #expect(status == 0, "python check failed: \(out)")
    }

    @Test func missingNextObservationsAreDerived() throws {
        var a = try tinyDataset().archive()
        a.arrays["next_observations"] = nil
        let d = try OfflineDataset(archive: a, path: "x")
        // Row 3 is terminal (kept, s′ unused); row 8 is a timeout (dropped): rows 0…7 remain.
        #expect(d.count == 8)
        let obs = try tinyDataset().observations
        #expect(d.nextObservations.slice(axis: 0, 0..<3).scalars == obs.slice(axis: 0, 1..<4).scalars)
        #expect(d.timeouts.scalars[7] == 1)  // the row before the dropped timeout ends its episode
        #expect(d.episodes.count == 2)
    }
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

@Suite struct DataErrorTests {
    func archive() throws -> ArrayArchive { try tinyDataset().archive() }

    @Test func missingKey() throws {
        var a = try archive()
        a.arrays["rewards"] = nil
        #expect(throws: DataFileError.missingKey("rewards", file: "f")) { try OfflineDataset(archive: a, path: "f") }
    }

    @Test func mismatchedLengths() throws {
        var a = try archive()
        a.arrays["actions"] = StoredArray(shape: [8, 2], values: .init(repeating: 0, count: 16))
        #expect(throws: DataFileError.lengthMismatch("actions", expected: 9, found: 8)) { try OfflineDataset(archive: a, path: "f") }
    }

    @Test func wrongRank() throws {
        var a = try archive()
        a.arrays["observations"] = StoredArray(shape: [9, 3, 1], values: .init(repeating: 0, count: 27))
        #expect(throws: DataFileError.wrongRank("observations", expected: "[N, dim]", found: [9, 3, 1])) { try OfflineDataset(archive: a, path: "f") }
        var b = try archive()
        b.arrays["rewards"] = StoredArray(shape: [9, 2], values: .init(repeating: 0, count: 18))
        #expect(throws: DataFileError.wrongRank("rewards", expected: "[N]", found: [9, 2])) { try OfflineDataset(archive: b, path: "f") }
    }

    @Test func flagsMustBeBinary() throws {
        var a = try archive()
        a.arrays["terminals"] = StoredArray(shape: [9], values: [0, 0, 2, 0, 0, 0, 0, 0, 0])
        #expect(throws: DataFileError.self) { try OfflineDataset(archive: a, path: "f") }
    }

    @Test func nanNamesTheRow() throws {
        var a = try archive()
        a.arrays["observations"]!.values[3 * 5 + 1] = .nan
        #expect(throws: DataFileError.nonFinite("observations", row: 5)) { try OfflineDataset(archive: a, path: "f") }
        var b = try archive()
        b.arrays["rewards"]!.values[7] = .infinity
        #expect(throws: DataFileError.nonFinite("rewards", row: 7)) { try OfflineDataset(archive: b, path: "f") }
    }

    @Test func wrongDtypeInNpy() throws {
        var npy = NPY.encode(StoredArray(shape: [2], values: [1, 2]))
        let header = String(decoding: npy, as: UTF8.self)
        #expect(header.contains("<f4"))
        let range = npy.range(of: Data("<f4".utf8))!
        npy.replaceSubrange(range, with: Data("<U4".utf8))
        #expect(throws: DataFileError.wrongType("x", found: "<U4")) { try NPY.decode(npy, name: "x") }
    }

    @Test func missingFile() {
        #expect(throws: DataFileError.notFound("/nonexistent/data.hdf5")) { try OfflineDataset.load(URL(fileURLWithPath: "/nonexistent/data.hdf5")) }
    }

    @Test(arguments: ["hdf5", "npz"]) func corruptFiles(_ ext: String) throws {
        let good = temporaryURL("good.\(ext)")
        try tinyDataset().save(to: good)
        let bytes = try Data(contentsOf: good)
        var cases: [Data] = [bytes.prefix(bytes.count / 2), Data("not a data file at all".utf8), Data()]
        var flipped = bytes
        for i in stride(from: bytes.count / 3, to: bytes.count * 2 / 3, by: 7) { flipped[i] ^= 0x5A }
        cases.append(flipped)
        for (i, c) in cases.enumerated() {
            let url = temporaryURL("bad\(i).\(ext)")
            try c.write(to: url)
            #expect(throws: (any Error).self, "case \(i)") { _ = try OfflineDataset.load(url) }
        }
    }

    @Test func writesAreAtomic() throws {
        // Its own directory: other tests write concurrently beside temporaryURL's files.
        let dir = temporaryURL("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("atomic.hdf5")
        try tinyDataset().save(to: url)
        let before = try Data(contentsOf: url)
        // A failing write (bad values refused before the swap) leaves the old file and no temp file.
        var bad = try tinyDataset().archive()
        bad.arrays["observations"] = StoredArray(shape: [9, 3], values: .init(repeating: 0, count: 27), type: .bool)
        bad.arrays["weird"] = StoredArray(shape: Array(repeating: 1, count: 9), values: [0])  // rank 9 > HDF5 facade's 8
        #expect(throws: (any Error).self) { try HDF5.write(bad, to: url) }
        #expect(try Data(contentsOf: url) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["atomic.hdf5"])
        // A directory that does not exist: a clear error, nothing written.
        #expect(throws: (any Error).self) { try tinyDataset().save(to: URL(fileURLWithPath: "/nonexistent-dir/x.hdf5")) }
    }
}
