// libFuzzer targets for every parser (issue J; docs/conventions.md, Errors and files). Built two ways:
//   make fuzz TARGET=safetensors SECONDS=60   # -sanitize=fuzzer -DFUZZING: libFuzzer drives `fuzzOne`
//   .build/release/FuzzParsers TARGET FILE…   # a plain build replays files (a crash corpus) through the same code
// An input may fail to parse (a typed error); it may never crash, trap or hang.
import DiffuseCLI
import Foundation
import PolicyDiffusion

/// The parsers, by name (PD_FUZZ_TARGET under libFuzzer).
let targets: [String: @Sendable (Data) -> Void] = [
    "safetensors": { data in
        guard let f = try? SafeTensorsFile(data: data) else { return }
        for (name, t) in f.tensors { _ = try? t.tensor(name: name) }
    },
    "npy": { data in _ = try? NPY.decode(data, name: "fuzz.npy") },
    "npz": { data in withScratchFile(data, suffix: ".npz") { _ = try? NPZ.read($0) } },
    "hdf5": { data in withScratchFile(data, suffix: ".hdf5") { _ = try? OfflineDataset.load($0) } },
    "checkpoint": { data in withScratchFile(data, suffix: ".safetensors") { _ = try? Checkpoint.load(AgentNetworks.self, from: $0) } },
    "digits": { data in _ = try? DigitsData.parse(String(decoding: data, as: UTF8.self)) },
    "png": { data in _ = try? PNG.decode(data) },
    // Image arrays (issue #31): the same bytes as a .npy and as a .npz, through the image-set loader.
    "images": { data in
        withScratchFile(data, suffix: ".npy") { _ = try? ImageSet.load($0) }
        withScratchFile(data, suffix: ".npz") { _ = try? ImageSet.load($0) }
    },
    "arguments": { data in
        // NUL-separated words against every command's options.
        let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        for command in Diffuse.commands {
            _ = try? ParsedArguments.parse(words, options: command.options, positionals: command.arguments.count)
        }
    },
]

/// Parsers that only read files get the input through a temporary file.
func withScratchFile(_ data: Data, suffix: String, _ body: (URL) -> Void) {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pd-fuzz-\(getpid())\(suffix)")
    defer { try? FileManager.default.removeItem(at: url) }
    guard (try? data.write(to: url)) != nil else { return }
    body(url)
}

func fuzzOne(_ target: String, _ data: Data) {
    guard let parse = targets[target] else { fatalError("unknown fuzz target \(target) (\(targets.keys.sorted().joined(separator: ", ")))") }
    parse(data)
}

#if FUZZING
// libFuzzer's driver, called from our own entry point (SwiftPM links an executable's main itself, so
// libFuzzer's main is not used). The target comes from PD_FUZZ_TARGET.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
#endif

@main
struct FuzzParsers {
    static func main() {
        #if FUZZING
        // HDF5 files are read in this process, where libFuzzer sees the coverage (not first in a child).
        setenv("PD_HDF5_IN_PROCESS", "1", 1)
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { bytes, count in
            let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
            fuzzOne(ProcessInfo.processInfo.environment["PD_FUZZ_TARGET"] ?? "safetensors", data)
            return 0
        })
        #else
        let args = Array(CommandLine.arguments.dropFirst())
        guard let target = args.first, targets[target] != nil else {
            print("usage: FuzzParsers TARGET FILE… (targets: \(targets.keys.sorted().joined(separator: ", ")))")
            exit(2)
        }
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { print("cannot read \(path)"); exit(1) }
            fuzzOne(target, data)
        }
        print("\(args.count - 1) inputs through \(target): no crash")
        #endif
    }
}
