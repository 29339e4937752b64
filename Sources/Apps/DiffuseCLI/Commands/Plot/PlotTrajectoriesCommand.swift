import Foundation
import PolicyDiffusion

/// `diffuse plot trajectories`: episodes of a dataset (and optionally a second one, e.g. synthetic
/// beside real) drawn over the environment's geometry as SVG.
struct PlotTrajectoriesCommand: Command {
    static let path = ["plot", "trajectories"]
    static let abstract = "draw a dataset's paths over the environment (maze walls, safe band, start and goal) as SVG"
    static let discussion = """
    Each episode (or synthetic window: rows up to a terminal or timeout) is a polyline of its positions \
    ending at its last next-observation (so a one-transition window is the segment s → s′), its start a dot. pointmaze: walls grey, the goal a star. safe-circle: the target circle dashed, the \
    unsafe region |x| > 6 shaded. Other environments: the first two observation coordinates. --compare \
    draws a second file in another colour (e.g. synthetic vs real).
    """
    static let arguments = [("file", "dataset (.hdf5 / .npz)")]
    static let compare = Option("--compare", value: "FILE", help: "a second dataset drawn in orange (e.g. the real data beside synthetic)")
    static let env = Option("--env", value: "NAME", help: "environment (default: the file's 'env' attribute)")
    static let episodes = Option("--episodes", value: "N", default: "40", help: "episodes drawn per file (the first N)")
    static let compareEpisodes = Option("--compare-episodes", value: "N", help: "episodes drawn of the --compare file (default: --episodes)")
    static let svg = Option("--svg", value: "FILE", help: "SVG file to write")
    static let title = Option("--title", value: "TEXT", help: "title (default: the file names)")
    static let options = [compare, env, episodes, compareEpisodes, svg, title]

    /// How positions are read from observations, and what is drawn beneath them.
    struct Scene {
        var position: ([Double]) -> (Double, Double)
        var bounds: (x: ClosedRange<Double>, y: ClosedRange<Double>)
        var background: ((Double, Double) -> (Double, Double), Double) -> String
    }

    /// `columns`: each file's observations (row-major) and their width, read once by `run`.
    static func scene(for environment: (any Environment)?, columns: [(obs: [Float], dim: Int)]) -> Scene {
        if let maze = environment as? PointMaze {
            let rows = (maze.cells.map { $0[0] }.max() ?? 0) + 1, cols = (maze.cells.map { $0[1] }.max() ?? 0) + 1
            return Scene(position: { ($0[0], $0[1]) }, bounds: (-0.5...Double(rows) + 0.5, -0.5...Double(cols) + 0.5)) { map, unit in
                var s = ""
                for i in -1...rows { for j in -1...cols where maze.isWall(i, j) {
                    let (x, y) = map(Double(i) - 0.5, Double(j) + 0.5)
                    s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#bbb\"/>", x, y, unit, unit)
                } }
                let (gx, gy) = map(Double(maze.goalCell[0]), Double(maze.goalCell[1]))
                return s + String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" text-anchor=\"middle\" fill=\"#d62728\">★</text>", gx, gy + unit * 0.15, unit * 0.5)
            }
        }
        if environment is SafeCircle {
            let r = SafeCircle.radius, limit = SafeCircle.xLimit
            return Scene(position: { ($0[0] * 10, $0[1] * 10) }, bounds: (-10...10, -10...10)) { map, unit in
                let (cx, cy) = map(0, 0), (l0, t0) = map(-10, 10), (l1, _) = map(-limit, 10), (r1, _) = map(limit, 10), (_, b0) = map(10, -10)
                return String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fdd\"/>", l0, t0, l1 - l0, b0 - t0)
                    + String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fdd\"/>", r1, t0, l1 - l0, b0 - t0)
                    + String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"none\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>", cx, cy, r * unit)
            }
        }
        let xs = columns.flatMap { c in stride(from: 0, to: c.obs.count, by: c.dim).map { Double(c.obs[$0]) } }
        let ys = columns.flatMap { c in stride(from: Swift.min(1, c.dim - 1), to: c.obs.count, by: c.dim).map { Double(c.obs[$0]) } }
        return Scene(position: { ($0[0], $0[Swift.min(1, $0.count - 1)]) },
                     bounds: ((xs.min() ?? -1)...(xs.max() ?? 1), (ys.min() ?? -1)...(ys.max() ?? 1))) { _, _ in "" }
    }

    static func run(_ args: ParsedArguments, console: Console) throws {
        guard let path = args.positionals.first else { throw CLIError("missing <file>", usage: true) }
        let out = URL(fileURLWithPath: try args.required(svg))
        let paths = [path] + (args.string(compare).map { [$0] } ?? [])
        let data = try paths.map { try OfflineDataset.load(URL(fileURLWithPath: $0)) }
        let name = args.string(env) ?? data[0].attributes["env"]
        let environment = try name.map { try Environments.make($0) }
        let n = try args.int(episodes, range: 1...100_000)!
        let counts = [n, try args.int(compareEpisodes, range: 1...100_000) ?? n]
        // `scalars` copies the tensor: once per file, for the scene's bounds and the paths alike.
        let columns = data.map { d in (obs: d.observations.scalars, dim: d.observationDim) }
        let nextColumns = data.map { $0.nextObservations.scalars }
        let scene = scene(for: environment, columns: columns)
        // Equal scale on both axes, 520 px for the longer one.
        let (bx, by) = scene.bounds
        let span = Swift.max(bx.upperBound - bx.lowerBound, by.upperBound - by.lowerBound, 1e-9)
        let unit = 520 / span, margin = 20.0
        let width = (bx.upperBound - bx.lowerBound) * unit + 2 * margin, height = (by.upperBound - by.lowerBound) * unit + 2 * margin
        func map(_ x: Double, _ y: Double) -> (Double, Double) { (margin + (x - bx.lowerBound) * unit, margin + (by.upperBound - y) * unit) }
        var body = scene.background(map, unit)
        let colours = ["#1f77b4", "#ff7f0e"]
        var drawn: [Int] = []
        for (k, d) in data.enumerated() {
            let (obs, od) = columns[k]
            let next = nextColumns[k]
            let episodes = Array(d.episodes.prefix(counts[k]))
            drawn.append(episodes.count)
            for e in episodes {
                guard let last = e.last else { continue }
                func point(_ row: [Float], _ i: Int) -> (Double, Double) {
                    let (x, y) = scene.position((0..<od).map { Double(row[i * od + $0]) })
                    return map(x, y)
                }
                let points = e.map { point(obs, $0) } + [point(next, last)]
                guard let first = points.first, points.allSatisfy({ $0.0.isFinite && $0.1.isFinite }) else { continue }
                // A one-transition window is drawn as its step s → s′ with a small dot at s in its own colour
                // (start dots would hide thousands of short steps).
                let single = e.count == 1
                body += "<polyline fill=\"none\" stroke=\"\(colours[k])\" stroke-opacity=\"\(single ? "0.8" : "0.55")\" stroke-width=\"\(single ? "1.5" : "1.2")\" points=\""
                    + points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ") + "\"/>"
                body += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%@\" fill=\"%@\"/>", first.0, first.1, single ? "1" : "2.5", single ? colours[k] : "#2ca02c")
            }
        }
        let files = paths.map { SVGPlot.escaped(URL(fileURLWithPath: $0).lastPathComponent) }
        let legend = zip(files, colours).map { "<tspan fill=\"\($1)\">■ \($0)</tspan>" }.joined(separator: "  ")
        let heading = args.string(title).map(SVGPlot.escaped) ?? ((name.map { "\($0): " } ?? "") + files.joined(separator: " vs "))
        let svgText = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">",
                             width, height + 40)
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>" + body
            + String(format: "<text x=\"%.0f\" y=\"%.0f\">", margin, height + 14) + heading + "</text>"
            + String(format: "<text x=\"%.0f\" y=\"%.0f\">", margin, height + 32) + legend + " (green dot: start)</text></svg>"
        try AtomicFile.write(Data(svgText.utf8), to: out)
        console.out("\(drawn.map(String.init).joined(separator: " + ")) episodes drawn → \(out.path)")
    }
}
