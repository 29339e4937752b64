import DiffuseCLI
import Foundation

exit(Diffuse.main(Array(CommandLine.arguments.dropFirst())))
