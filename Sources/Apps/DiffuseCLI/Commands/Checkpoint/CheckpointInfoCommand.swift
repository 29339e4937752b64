import Foundation
import PolicyDiffusion

/// `diffuse checkpoint info`: what a safetensors file holds (any safetensors file, ours or not).
struct CheckpointInfoCommand: Command {
    static let path = ["checkpoint", "info"]
    static let abstract = "list the tensors and metadata of a safetensors file"
    static let arguments = [("file", "a .safetensors file")]
    static let options = [Option.json]

    static func run(_ args: ParsedArguments, console: Console) throws {
        guard let path = args.positionals.first else { throw CLIError("missing <file>", usage: true) }
        let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
        let names = file.tensors.keys.sorted()
        let elements = file.tensors.values.reduce(0) { $0 + $1.shape.reduce(1, *) }
        if args.flag(.json) {
            let tensors = names.map { ["name": $0, "dtype": file.tensors[$0]!.dtype.rawValue, "shape": file.tensors[$0]!.shape] as [String: Any] }
            console.out(jsonLine(["metadata": file.metadata, "tensors": tensors, "elements": elements]))
            return
        }
        console.out("\(path): \(names.count) tensors, \(elements) elements")
        for k in file.metadata.keys.sorted() {
            let v = file.metadata[k]!
            console.out("  \(k): \(v.count > 200 ? String(v.prefix(200)) + "…" : v)")
        }
        for n in names {
            let t = file.tensors[n]!
            console.out("  \(n.padding(toLength: max(32, n.count + 1), withPad: " ", startingAt: 0))\(t.dtype.rawValue) \(t.shape)")
        }
    }
}
