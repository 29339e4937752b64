import Foundation

/// A user-facing error: printed as one line, exit status 1 (2 for usage errors).
public struct CLIError: Error, CustomStringConvertible {
    public var message: String
    public var isUsage: Bool
    public init(_ message: String, usage: Bool = false) { self.message = message; self.isUsage = usage }
    public var description: String { message }
}

/// One command-line option, declared next to its help text.
public struct Option: Sendable {
    public var names: [String]
    /// nil: a boolean flag.
    public var valueName: String?
    public var help: String
    public var defaultValue: String?

    public init(_ names: String..., value: String? = nil, default defaultValue: String? = nil, help: String) {
        self.names = names
        self.valueName = value
        self.help = help
        self.defaultValue = defaultValue
    }

    var key: String { names[0] }

    // Options every command shares (docs/architecture.md, Command-line tool).
    public static let threads = Option("--threads", value: "N", help: "threads for BLAS, FFTW and our loops (default: PD_NUM_THREADS or every core)")
    public static let seed = Option("--seed", value: "S", default: "0", help: "random seed; the same seed and thread count give the same result")
    public static let json = Option("--json", help: "print machine-readable JSON on stdout")
}

/// Parsed arguments of one command; typed accessors turn bad values into one-line errors.
public struct ParsedArguments {
    var values: [String: String] = [:]
    var flags: Set<String> = []
    public var positionals: [String] = []
    /// The whole invocation ("diffuse train agent …"), recorded in the metadata of what a command writes.
    public var invocation = "diffuse"

    public func flag(_ o: Option) -> Bool { flags.contains(o.key) }

    public func string(_ o: Option) -> String? { values[o.key] ?? o.defaultValue }

    public func required(_ o: Option) throws -> String {
        guard let v = string(o) else { throw CLIError("missing required option \(o.key) <\(o.valueName ?? "value")>", usage: true) }
        return v
    }

    public func int(_ o: Option, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let s = string(o) else { return nil }
        guard let v = Int(s) else { throw CLIError("\(o.key) expects an integer, got '\(s)'", usage: true) }
        guard range.contains(v) else { throw CLIError("\(o.key) must be in \(range.lowerBound)...\(range.upperBound), got \(v)", usage: true) }
        return v
    }

    public func float(_ o: Option) throws -> Float? {
        guard let s = string(o) else { return nil }
        guard let v = Float(s), v.isFinite else { throw CLIError("\(o.key) expects a finite number, got '\(s)'", usage: true) }
        return v
    }

    public func seed() throws -> UInt64 {
        let s = string(.seed) ?? "0"
        guard let v = UInt64(s) else { throw CLIError("--seed expects a non-negative integer, got '\(s)'", usage: true) }
        return v
    }

    static func parse(_ args: [String], options: [Option], positionals maxPositionals: Int) throws -> ParsedArguments {
        var out = ParsedArguments()
        var byName: [String: Option] = [:]
        for o in options { for n in o.names { byName[n] = o } }
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" || Double(a) != nil {
                out.positionals.append(a)
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            var name = a
            var inline: String?
            if let eq = a.firstIndex(of: "="), a.hasPrefix("--") {
                name = String(a[..<eq])
                inline = String(a[a.index(after: eq)...])
            }
            guard let o = byName[name] else {
                let known = byName.keys.filter { $0.hasPrefix("--") }.sorted()
                let close = known.first { $0.hasPrefix(String(name.prefix(4))) }
                throw CLIError("unknown option \(name)" + (close.map { " (did you mean \($0)?)" } ?? ""), usage: true)
            }
            if o.valueName == nil {
                guard inline == nil else { throw CLIError("\(name) takes no value", usage: true) }
                out.flags.insert(o.key)
            } else if let inline {
                out.values[o.key] = inline
            } else {
                guard i < args.count else { throw CLIError("\(name) needs a value <\(o.valueName!)>", usage: true) }
                out.values[o.key] = args[i]
                i += 1
            }
        }
        guard out.positionals.count <= maxPositionals else {
            throw CLIError("unexpected argument '\(out.positionals[maxPositionals])'", usage: true)
        }
        return out
    }
}

/// Where a command writes: stdout for results, stderr for progress and logs.
public final class Console: @unchecked Sendable {
    public var out: (String) -> Void
    public var err: (String) -> Void
    /// Redraws a line on stderr (progress bars); nil when stderr is not a terminal.
    public var errRedraw: ((String) -> Void)?

    public init(out: @escaping (String) -> Void = { print($0) },
                err: @escaping (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) },
                errRedraw: ((String) -> Void)? = isatty(2) == 1 ? { FileHandle.standardError.write(("\r\u{1B}[K" + $0).data(using: .utf8)!) } : nil) {
        self.out = out
        self.err = err
        self.errRedraw = errRedraw
    }
}

/// A subcommand: its words (`["bench", "core"]`), help and options live in its own file.
public protocol Command {
    static var path: [String] { get }
    static var abstract: String { get }
    static var discussion: String { get }
    static var options: [Option] { get }
    /// Names of positional arguments, with help.
    static var arguments: [(String, String)] { get }
    static func run(_ args: ParsedArguments, console: Console) throws
}

extension Command {
    public static var discussion: String { "" }
    public static var arguments: [(String, String)] { [] }

    static var usage: String {
        var lines = ["USAGE: diffuse \(path.joined(separator: " "))"
            + arguments.map { " <\($0.0)>" }.joined() + (options.isEmpty ? "" : " [options]"), "", abstract]
        if !discussion.isEmpty { lines += ["", discussion] }
        if !arguments.isEmpty {
            lines += ["", "ARGUMENTS:"] + arguments.map { "  <\($0.0)>".padding(toLength: 28, withPad: " ", startingAt: 0) + $0.1 }
        }
        lines += ["", "OPTIONS:"]
        for o in options + [Option("--help", "-h", help: "show this help")] {
            var left = "  " + o.names.joined(separator: ", ")
            if let v = o.valueName { left += " <\(v)>" }
            let d = o.defaultValue.map { " (default: \($0))" } ?? ""
            lines.append(left.padding(toLength: max(28, left.count + 2), withPad: " ", startingAt: 0) + o.help + d)
        }
        return lines.joined(separator: "\n")
    }
}
