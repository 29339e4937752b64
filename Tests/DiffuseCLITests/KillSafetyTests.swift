import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing

/// Kill-safe writes (docs/conventions.md, Errors and files): a `diffuse` process killed with SIGKILL
/// at any point while it writes checkpoints or a dataset leaves the destination either absent or
/// complete, and the next write removes the temporary files the killed writer left.
@Suite("kill-safe writes", .serialized)
struct KillSafetyTests {
    /// The `diffuse` executable built next to the test bundle (`swift build --build-tests` builds it).
    static let diffuse = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("diffuse")

    /// Starts `diffuse args`, kills it with SIGKILL after `seconds`, and waits for it.
    static func runKilled(_ args: [String], after seconds: Double) throws {
        let p = Process()
        p.executableURL = diffuse
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: seconds)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    static func temporaries(of path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)) ?? []
        return names.filter { $0.hasPrefix(".\(url.lastPathComponent).tmp-") }
    }

    @Test func killedCheckpointWritesLeaveOldOrNewNeverPartial() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.diffuse.path), "build diffuse first: \(Self.diffuse.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pd-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("pend.hdf5").path, out = dir.appendingPathComponent("agent.safetensors").path
        #expect(runCLI(["dataset", "collect", "--env", "pendulum", "--steps", "2000", "-o", data]).status == 0)
        // A checkpoint every 2 updates: the process spends much of its life inside writes.
        let train = ["train", "agent", "--algo", "td3bc", "--data", data, "--steps", "1000000", "--batch-size", "32",
                     "--checkpoint-every", "2", "--log-every", "1000000", "--threads", "1", "-o", out]
        var sawFile = 0
        for k in 0..<8 {
            try Self.runKilled(train, after: 0.4 + 0.13 * Double(k))
            guard FileManager.default.fileExists(atPath: out) else { continue }
            sawFile += 1
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: out))  // throws on a partial file
            #expect(file.tensors["actor.layers.0.weight"] != nil && file.metadata["training.step"] != nil)
        }
        #expect(sawFile > 0, "no kill landed after the first checkpoint; the test did not exercise anything")
        // The next write removes what the killed writers left.
        #expect(runCLI(["train", "agent", "--algo", "td3bc", "--data", data, "--steps", "2", "--batch-size", "32", "-o", out]).status == 0)
        #expect(Self.temporaries(of: out).isEmpty, "\(Self.temporaries(of: out))")
    }

    @Test func killedDatasetWritesLeaveOldOrNewNeverPartial() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pd-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("data.hdf5").path
        #expect(runCLI(["dataset", "collect", "--env", "pendulum", "--steps", "500", "-o", out]).status == 0)
        for k in 0..<6 {
            try Self.runKilled(["dataset", "collect", "--env", "pendulum", "--steps", "60000", "--seed", "\(k)", "-o", out], after: 0.2 + 0.25 * Double(k))
            let d = try OfflineDataset.load(URL(fileURLWithPath: out))  // the old file or a complete new one
            #expect(d.count == 500 || d.count == 60000, "\(d.count)")
        }
        #expect(runCLI(["dataset", "collect", "--env", "pendulum", "--steps", "100", "-o", out]).status == 0)
        #expect(Self.temporaries(of: out).isEmpty, "\(Self.temporaries(of: out))")
    }

    /// An oversized request is a one-line error before allocation, in the real process.
    @Test func tensorsOverTheMemoryBudgetAreAOneLineError() throws {
        let r = try runProcess(["train", "toy", "--batch-size", "1000000", "--steps", "1", "-o", "/tmp/pd-never-written.safetensors"],
                               environment: ["PD_MEMORY_BUDGET": "4M"])
        let lines = r.err.split(separator: "\n")
        #expect(r.status == 1 && lines.count == 1, "\(lines)")
        #expect(lines.last?.contains("over the memory budget of 4.0 MiB") == true, "\(lines)")
    }
}
