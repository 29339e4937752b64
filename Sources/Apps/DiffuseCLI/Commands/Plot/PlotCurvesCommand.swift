import Foundation
import PolicyDiffusion

/// `diffuse plot curves`: learning curves from a training command's log (its stderr).
struct PlotCurvesCommand: Command {
    static let path = ["plot", "curves"]
    static let abstract = "draw learning curves (one panel per metric) from a training log as SVG"
    static let discussion = """
    Reads the `step N/M  name value  name value …` lines every training command logs on stderr every \
    --log-every steps (e.g. diffuse train agent … 2> train.log) and draws each metric against the step. \
    --metrics picks and orders the metrics (default: all, alphabetically).
    """
    static let arguments = [("log", "a training log (the command's stderr)")]
    static let svg = Option("--svg", value: "FILE", help: "SVG file to write")
    static let metrics = Option("--metrics", value: "A,B,…", help: "metrics to draw (default: all)")
    static let title = Option("--title", value: "TEXT", help: "title (default: the log's file name)")
    static let options = [svg, metrics, title]

    /// (step, metric → value) of every log line.
    static func parse(_ text: String) -> [(step: Double, values: [String: Double])] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> (Double, [String: Double])? in
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 3, words[0] == "step", let step = words[1].split(separator: "/").first.flatMap({ Double($0) }) else { return nil }
            var values: [String: Double] = [:]
            var i = 2
            while i + 1 < words.count {
                if let v = Double(words[i + 1]) { values[String(words[i])] = v }
                i += 2
            }
            return values.isEmpty ? nil : (step, values)
        }
    }

    static func run(_ args: ParsedArguments, console: Console) throws {
        guard let path = args.positionals.first else { throw CLIError("missing <log>", usage: true) }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let out = URL(fileURLWithPath: try args.required(svg))
        let rows = parse(String(decoding: data, as: UTF8.self))
        guard !rows.isEmpty else { throw CLIError("\(path) has no `step N/M  name value …` lines (log with --log-every)") }
        let available = Set(rows.flatMap(\.values.keys))
        let names = try args.string(metrics).map { list in
            try list.split(separator: ",").map(String.init).map { name in
                guard available.contains(name) else {
                    throw CLIError("--metrics: \(path) logs no '\(name)' (it logs \(available.sorted().joined(separator: ", ")))" + didYouMean(name, among: Array(available)), usage: true)
                }
                return name
            }
        } ?? available.sorted()
        let series = names.map { name in (name: name, points: rows.compactMap { r in r.values[name].map { (r.step, $0) } }) }
        let heading = args.string(title) ?? URL(fileURLWithPath: path).lastPathComponent
        try AtomicFile.write(Data(SVGPlot.curves(series, title: heading).utf8), to: out)
        console.out("\(series.count) curves, \(rows.count) log lines → \(out.path)")
    }
}
