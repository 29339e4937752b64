import Foundation
import PolicyDiffusion

/// `diffuse dataset convert`: HDF5 ⇄ NPZ with the same D4RL / DSRL keys (validated on the way).
struct DatasetConvertCommand: Command {
    static let path = ["dataset", "convert"]
    static let abstract = "convert a dataset between HDF5 and NPZ (same D4RL / DSRL keys, validated)"
    static let arguments = [("file", "the dataset to read (.hdf5 / .h5 / .npz)")]
    static let output = Option("--output", "-o", value: "FILE", help: "dataset to write")
    static let options = [output, Option.datasetFormat]

    static func run(_ args: ParsedArguments, console: Console) throws {
        guard let input = args.positionals.first else { throw CLIError("missing <file>", usage: true) }
        let url = URL(fileURLWithPath: try args.required(output))
        let data = try OfflineDataset.load(URL(fileURLWithPath: input))
        try data.save(to: url, format: try args.datasetFormat())
        console.out("\(data.count) transitions → \(url.path)")
    }
}

extension Option {
    /// Output format of dataset-writing commands.
    static let datasetFormat = Option("--format", value: "F", help: "hdf5 | npz (default: from the output file's extension)")
}

extension ParsedArguments {
    /// The --format choice, or nil to follow the file extension.
    func datasetFormat() throws -> ArrayArchive.Format? {
        guard let f = string(.datasetFormat) else { return nil }
        guard let parsed = ArrayArchive.Format(rawValue: f) else { throw CLIError("--format must be hdf5 or npz (got '\(f)')", usage: true) }
        return parsed
    }
}
