import Foundation

/// Runs the dev scripts that cross-check our files with the Python ecosystem (h5py, numpy,
/// safetensors). Test tools only: the product never calls Python.
public enum PythonCheck {
    /// Whether `python3` can import every module in `modules`.
    public static func available(_ modules: String...) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import " + modules.joined(separator: ", ")]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Runs `dev/<script>` of this repository with `arguments`; returns exit status and output.
    public static func run(devScript script: String, _ arguments: [String], file: String = #filePath) throws -> (status: Int32, output: String) {
        let path = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("../../dev/\(script)").standardized
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", path.path] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}
