import Foundation
import PolicyDiffusion

/// Small SVG plots (no dependencies): a scatter of 2-D samples and line charts of training curves,
/// both with axes, tick labels and a title.
enum SVGPlot {
    /// A panel's data range mapped to its pixel box.
    struct Frame {
        var x: ClosedRange<Double>, y: ClosedRange<Double>
        var left: Double, top: Double, width: Double, height: Double

        func px(_ v: Double) -> Double { left + (v - x.lowerBound) / Swift.max(x.upperBound - x.lowerBound, 1e-12) * width }
        func py(_ v: Double) -> Double { top + height - (v - y.lowerBound) / Swift.max(y.upperBound - y.lowerBound, 1e-12) * height }

        /// The box, min/max tick labels on both axes and the axis names.
        func axes(xLabel: String, yLabel: String) -> String {
            func num(_ v: Double) -> String { Swift.abs(v) >= 1e4 || (Swift.abs(v) < 1e-2 && v != 0) ? String(format: "%.2e", v) : String(format: "%.3g", v) }
            return String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>", left, top, width, height)
                + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", left, top + height + 14, num(x.lowerBound))
                + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", left + width, top + height + 14, num(x.upperBound))
                + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 4, top + height, num(y.lowerBound))
                + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 4, top + 10, num(y.upperBound))
                + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", left + width / 2, top + height + 14) + xLabel + "</text>"
                + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 4, top + height / 2) + yLabel + "</text>"
        }
    }

    /// Text for an SVG text node (titles and legends come from file names and user flags).
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// `title` is plain text (escaped here).
    static func document(width: Double, height: Double, title: String, body: String) -> String {
        String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">", width, height)
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/><text x=\"8\" y=\"16\" font-size=\"13\">" + escaped(title) + "</text>" + body + "</svg>"
    }

    static func scatter(_ points: Tensor, title: String, size: Int = 480, extent: Float = 3) -> String {
        precondition(points.rank == 2 && points.shape[1] == 2, "scatter needs [N, 2] points")
        let e = Double(extent), side = Double(size)
        let frame = Frame(x: -e...e, y: -e...e, left: 40, top: 26, width: side, height: side)
        let p = points.scalars
        var dots = ""
        for i in 0..<points.shape[0] {
            let (x, y) = (Double(p[2 * i]), Double(p[2 * i + 1]))
            guard x.isFinite, y.isFinite, frame.x.contains(x), frame.y.contains(y) else { continue }
            dots += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\"/>", frame.px(x), frame.py(y))
        }
        return document(width: side + 60, height: side + 50, title: title,
                        body: frame.axes(xLabel: "x₁", yLabel: "x₂") + "<g fill=\"#1f77b4\" fill-opacity=\"0.5\">\(dots)</g>")
    }

    /// One panel per metric: value against step.
    static func curves(_ series: [(name: String, points: [(Double, Double)])], title: String, xLabel: String = "step") -> String {
        let panelHeight = 130.0, width = 520.0, left = 70.0
        var body = ""
        for (k, s) in series.enumerated() {
            let xs = s.points.map(\.0), ys = s.points.map(\.1).filter(\.isFinite)
            guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { continue }
            let frame = Frame(x: x0...Swift.max(x1, x0 + 1), y: y0...(y1 > y0 ? y1 : y0 + 1), left: left, top: 30 + Double(k) * (panelHeight + 34),
                              width: width, height: panelHeight)
            body += frame.axes(xLabel: xLabel, yLabel: s.name)
            body += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\""
                + s.points.filter { $0.1.isFinite }.map { String(format: "%.1f,%.1f", frame.px($0.0), frame.py($0.1)) }.joined(separator: " ") + "\"/>"
        }
        return document(width: left + width + 20, height: 40 + Double(series.count) * (panelHeight + 34), title: title, body: body)
    }
}
