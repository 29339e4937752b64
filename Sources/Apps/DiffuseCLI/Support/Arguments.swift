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
    /// Allowed values of a number option (checked by `float`, shown in help).
    public var range: ClosedRange<Float>?

    public init(_ names: String..., value: String? = nil, default defaultValue: String? = nil, range: ClosedRange<Float>? = nil, help: String) {
        self.names = names
        self.valueName = value
        self.help = help
        self.defaultValue = defaultValue
        self.range = range
    }

    /// Learning rates: positive, at most 1.
    public static let learningRates: ClosedRange<Float> = 1e-9...1

    var key: String { names[0] }

    // Options every command shares (docs/architecture.md, Command-line tool).
    public static let threads = Option("--threads", value: "N", help: "threads for BLAS, FFTW and our loops (default: PD_NUM_THREADS or every core)")
    public static let seed = Option("--seed", value: "S", default: "0", help: "random seed; the same seed and thread count give the same result")
    public static let json = Option("--json", help: "print machine-readable JSON on stdout")
    /// Accepted by every command (Diffuse.main strips it): no progress or log lines on stderr.
    public static let distributed = Option("--distributed", help: "data-parallel over the ranks of an mpirun job (docs/distributed.md); --batch-size is the global batch")
    public static let quiet = Option("--quiet", help: "no progress or log lines on stderr (results and errors still print)")
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

    /// A finite number, within the option's range when it has one (e.g. a learning rate must be positive).
    public func float(_ o: Option) throws -> Float? {
        guard let s = string(o) else { return nil }
        guard let v = Float(s), v.isFinite else { throw CLIError("\(o.key) expects a finite number, got '\(s)'", usage: true) }
        if let range = o.range, !range.contains(v) {
            throw CLIError("\(o.key) must be in [\(range.lowerBound), \(range.upperBound)], got \(s)", usage: true)
        }
        return v
    }

    /// A case of a string enumeration (restricted to `allowed`); a misspelling gets the closest one suggested.
    public func choice<E: CaseIterable & RawRepresentable>(_ o: Option, _ type: E.Type, allowed: [E] = Array(E.allCases)) throws -> E?
    where E.RawValue == String {
        try choice(o, among: allowed.map(\.rawValue)).flatMap(E.init(rawValue:))
    }

    /// A value from a fixed set; a misspelling gets the closest one suggested.
    public func choice(_ o: Option, among allowed: [String]) throws -> String? {
        guard let s = string(o) else { return nil }
        guard allowed.contains(s) else {
            throw CLIError("\(o.key) must be one of \(allowed.joined(separator: " | ")), got '\(s)'" + didYouMean(s, among: allowed), usage: true)
        }
        return s
    }

    public func seed() throws -> UInt64 {
        let s = string(.seed) ?? "0"
        guard let v = UInt64(s) else { throw CLIError("--seed expects a non-negative integer, got '\(s)'", usage: true) }
        return v
    }

    public static func parse(_ args: [String], options: [Option], positionals maxPositionals: Int) throws -> ParsedArguments {
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
                throw CLIError("unknown option \(name)" + didYouMean(name, among: byName.keys + ["--help"]), usage: true)
            }
            // An option given twice is ambiguous (which one wins?), so it is an error.
            guard !out.flags.contains(o.key) && out.values[o.key] == nil else {
                throw CLIError("\(name) is given more than once", usage: true)
            }
            if o.valueName == nil {
                guard inline == nil else { throw CLIError("\(name) takes no value", usage: true) }
                out.flags.insert(o.key)
            } else if let inline {
                guard !inline.isEmpty else { throw CLIError("\(name)= needs a value <\(o.valueName!)>", usage: true) }
                out.values[o.key] = inline
            } else {
                guard i < args.count else { throw CLIError("\(name) needs a value <\(o.valueName!)>", usage: true) }
                // `-o --steps 10` is a forgotten value, not a file named "--steps" (negative numbers are values).
                let next = args[i]
                if next.hasPrefix("-") && next != "-" && Double(next) == nil {
                    throw CLIError("\(name) needs a value <\(o.valueName!)>, got the option \(next)", usage: true)
                }
                out.values[o.key] = next
                i += 1
            }
        }
        guard out.positionals.count <= maxPositionals else {
            throw CLIError("unexpected argument '\(out.positionals[maxPositionals])'", usage: true)
        }
        return out
    }
}

/// " (did you mean X?)" for the candidate closest to `word` by edit distance, when it is close
/// enough to be a plausible typo (at most a third of the word's length, at least 1), else "".
func didYouMean(_ word: String, among candidates: some Sequence<String>) -> String {
    let scored = candidates.map { ($0, editDistance(word, $0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    guard let (best, d) = scored.first, d <= max(1, word.count / 3) else { return "" }
    return " (did you mean \(best)?)"
}

/// Edit distance with adjacent transpositions (optimal string alignment): insertions, deletions,
/// substitutions and swaps of two neighbors each cost 1, so "td3cb" is one edit from "td3bc".
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[a.count][b.count]
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
    /// Older spellings that still run this command (not listed in help).
    static var aliases: [[String]] { get }
    static var abstract: String { get }
    static var discussion: String { get }
    static var options: [Option] { get }
    /// Names of positional arguments, with help.
    static var arguments: [(String, String)] { get }
    static func run(_ args: ParsedArguments, console: Console) throws
}

extension Command {
    public static var aliases: [[String]] { [] }
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
        for o in options + [.quiet, Option("--help", "-h", help: "show this help")] {
            var left = "  " + o.names.joined(separator: ", ")
            if let v = o.valueName { left += " <\(v)>" }
            let d = (o.range.map { " (in [\($0.lowerBound), \($0.upperBound)])" } ?? "") + (o.defaultValue.map { " (default: \($0))" } ?? "")
            lines.append(left.padding(toLength: max(28, left.count + 2), withPad: " ", startingAt: 0) + o.help + d)
        }
        return lines.joined(separator: "\n")
    }
}
