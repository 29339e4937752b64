import DiffuseCLI
import Foundation
import PolicyDiffusion
import Testing

/// Checkpoints/manifest.json, written by `make checkpoints` (scripts/checkpoints.sh).
struct CheckpointManifest: Decodable {
    struct Metric: Decodable {
        /// diffuse commands run in order; "<tmp>" is a scratch file. The last one prints JSON with `key`.
        var commands: [[String]]
        var key: String
        var value: Double
        var tolerance: Double
    }
    struct Entry: Decodable {
        var file: String
        var made_by: [String]
        var bytes: Int
        var metric: Metric?
    }
    var checkpoints: [Entry]

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static func load() throws -> CheckpointManifest {
        try JSONDecoder().decode(CheckpointManifest.self, from: Data(contentsOf: root.appendingPathComponent("Checkpoints/manifest.json")))
    }
}

/// Every shipped checkpoint loads and reproduces the metric recorded when it was made, within the
/// manifest's tolerance (other CPUs' BLAS kernels round differently); together they stay small.
@Suite("shipped checkpoints", .serialized)
struct CheckpointTests {
    @Test func manifestCoversEveryFileAndStaysSmall() throws {
        let manifest = try CheckpointManifest.load()
        let files = try FileManager.default.contentsOfDirectory(atPath: CheckpointManifest.root.appendingPathComponent("Checkpoints").path)
            .filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".hdf5") }   // agents, and the replay buffer of the medium-replay recipe
        #expect(Set(files) == Set(manifest.checkpoints.map(\.file)))
        #expect(manifest.checkpoints.reduce(0) { $0 + $1.bytes } < 50_000_000)
        #expect(manifest.checkpoints.allSatisfy { !$0.made_by.isEmpty })
    }

    @Test(arguments: try CheckpointManifest.load().checkpoints.filter { $0.metric != nil }.map(\.file))
    func reproducesItsRecordedMetric(_ file: String) throws {
        let entry = try CheckpointManifest.load().checkpoints.first { $0.file == file }!
        let metric = entry.metric!
        let scratch = tempPath("metric.hdf5")
        // The commands name Checkpoints/… relative to the package root, where `swift test` runs.
        var out: [String] = []
        for command in metric.commands {
            let r = runCLI(command.map { $0 == "<tmp>" ? scratch : $0 })
            #expect(r.status == 0, "\(command): \(r.err)")
            out = r.out
        }
        let json = try JSONSerialization.jsonObject(with: Data((out.last ?? "{}").utf8)) as? [String: Any]
        let value = try #require(json?[metric.key] as? Double, "\(file): no \(metric.key) in \(out)")
        #expect(abs(value - metric.value) <= metric.tolerance, "\(file): \(metric.key) \(value), recorded \(metric.value) ± \(metric.tolerance)")
    }
}
