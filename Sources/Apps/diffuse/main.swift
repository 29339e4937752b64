import DiffuseCLI
import Foundation
import PolicyDiffusion

// A tensor over the memory budget cannot throw from inside an op: the tool reports it as its
// one-line error and exits (docs/conventions.md, Errors and files).
MemoryBudget.onExceeded { message in
    FileHandle.standardError.write(Data("diffuse: error: \(message)\n".utf8))
    exit(1)
}
exit(Diffuse.main(Array(CommandLine.arguments.dropFirst())))
