import Foundation
import PolicyDiffusion

/// A scatter plot of 2-D points as SVG (no dependencies).
enum SVGPlot {
    static func scatter(_ points: Tensor, title: String, size: Int = 480, extent: Float = 3) -> String {
        precondition(points.rank == 2 && points.shape[1] == 2, "scatter needs [N, 2] points")
        let p = points.scalars
        func px(_ v: Float) -> Float { (v + extent) / (2 * extent) * Float(size) }
        var dots = ""
        for i in 0..<points.shape[0] {
            let (x, y) = (px(p[2 * i]), Float(size) - px(p[2 * i + 1]))
            guard x.isFinite, y.isFinite, x >= 0, y >= 0, x <= Float(size), y <= Float(size) else { continue }
            dots += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\"/>", x, y)
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(size)" height="\(size + 24)" viewBox="0 0 \(size) \(size + 24)">
        <rect width="100%" height="100%" fill="white"/><text x="8" y="\(size + 18)" font-family="sans-serif" font-size="13">\(title)</text>
        <g fill="#1f77b4" fill-opacity="0.5">\(dots)</g></svg>
        """
    }
}
