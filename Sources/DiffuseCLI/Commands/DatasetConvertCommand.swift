import Foundation
import PolicyDiffusion

/// `diffuse dataset convert`: HDF5 ⇄ NPZ with the same D4RL / DSRL keys (validated on the way).
struct DatasetConvertCommand: Command {
    static let path = ["dataset", "convert"]
    static let abstract = "convert a dataset between HDF5 and NPZ (same D4RL / DSRL keys, validated)"
    static let arguments = [("file", "the dataset to read (.hdf5 / .h5 / .npz)")]
    static let output = Option("--output", "-o", value: "FILE", help: "dataset to write")
    static let format = Option("--format", value: "F", help: "hdf5 | npz (default: from the output's extension)")
    static let options = [output, format]

    static func run(_ args: ParsedArguments, console: Console) throws {
        guard let input = args.positionals.first else { throw CLIError("missing <file>", usage: true) }
        let url = URL(fileURLWithPath: try args.required(output))
        var fileFormat: ArrayArchive.Format?
        if let f = args.string(format) {
            guard let parsed = ArrayArchive.Format(rawValue: f) else { throw CLIError("--format must be hdf5 or npz (got '\(f)')", usage: true) }
            fileFormat = parsed
        }
        let data = try OfflineDataset.load(URL(fileURLWithPath: input))
        try data.save(to: url, format: fileFormat)
        console.out("\(data.count) transitions → \(url.path)")
    }
}
