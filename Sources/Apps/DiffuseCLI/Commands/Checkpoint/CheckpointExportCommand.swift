import Foundation
import PolicyDiffusion

/// `diffuse checkpoint export`: a training checkpoint without its run state — what ships and what
/// inference loads (Checkpoints/ holds exported models).
struct CheckpointExportCommand: Command {
    static let path = ["checkpoint", "export"]
    static let abstract = "write a model checkpoint without its training state (optimizer moments, EMA twin, bank…): for inference and shipping"
    static let discussion = """
    Keeps the model's weights (a trajectory or digits model's EMA weights, an agent's or FISOR's networks) \
    and every metadata entry sampling and evaluation read (objective, normalizers, settings, command). The \
    result loads everywhere the original loads, but cannot be resumed.
    """
    static let arguments = [("file", "a checkpoint written by a diffuse training command")]
    static let output = Option("--output", "-o", value: "FILE", help: "exported checkpoint to write (.safetensors)")
    static let options = [output, Option.json]

    /// One exporter per model kind: loads the model (extra tensors are ignored) and saves it alone.
    static var exporters: CheckpointRegistry<(URL) throws -> Void> {
        var r = CheckpointRegistry<(URL) throws -> Void>(purpose: "export")
        func add<M: ConfigurableModule>(_ type: M.Type) {
            r.register(type) { url, _ in
                let (model, metadata, _) = try Checkpoint.load(type, from: url)
                return { out in try Checkpoint.save(model, to: out, metadata: metadata.filter { !$0.key.hasPrefix("training.") }) }
            }
        }
        add(MLPDenoiser.self); add(UNet2D.self); add(TrajectoryModel.self); add(WorldModel.self)
        add(AgentNetworks.self); add(FISORNetworks.self); add(DiffusionPolicyNetworks.self); add(DigitScorer.self)
        return r
    }

    static func run(_ args: ParsedArguments, console: Console) throws {
        guard let path = args.positionals.first else { throw CLIError("missing <file>", usage: true) }
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path) does not exist") }
        let out = URL(fileURLWithPath: try args.required(output))
        try exporters.load(URL(fileURLWithPath: path))(out)
        let before = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let after = (try? FileManager.default.attributesOfItem(atPath: out.path)[.size] as? Int) ?? 0
        if args.flag(.json) {
            console.out(jsonLine(["file": out.path, "bytes": after, "source_bytes": before]))
        } else {
            console.out(String(format: "%@ → %@ (%.2f MB → %.2f MB)", path, out.path, Double(before) / 1e6, Double(after) / 1e6))
        }
    }
}
