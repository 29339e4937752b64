import Foundation

/// Progress of long work on stderr: a redrawn bar with rate and ETA on a terminal, a plain line
/// every 10 % (or 30 s) otherwise, so logs stay readable.
final class Progress {
    let label: String
    let total: Int
    let unit: String
    let console: Console
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var lastLineFraction = 0.0
    private var lastLineTime = Date()

    init(_ label: String, total: Int, unit: String = "steps", console: Console) {
        self.label = label; self.total = Swift.max(total, 1); self.unit = unit; self.console = console
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t % 3600 / 60) : t >= 60 ? String(format: "%dm%02ds", t / 60, t % 60) : "\(t)s"
    }

    func update(_ done: Int) {
        let now = Date()
        let elapsed = now.timeIntervalSince(started)
        let fraction = Double(Swift.min(done, total)) / Double(total)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : .infinity
        let stats = String(format: "%d/%d %@  %.0f %@/s  ETA %@", done, total, unit, rate, unit, Self.duration(eta))
        if let redraw = console.errRedraw {
            guard now.timeIntervalSince(lastDraw) >= 0.1 || done >= total else { return }
            lastDraw = now
            let width = 30, filled = Int(fraction * Double(width))
            redraw("\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                   + String(format: "] %3.0f%% ", fraction * 100) + stats)
        } else if fraction - lastLineFraction >= 0.1 || now.timeIntervalSince(lastLineTime) >= 30 || (done >= total && lastLineFraction < 1) {
            lastLineFraction = fraction
            lastLineTime = now
            console.err(String(format: "%@: %3.0f%% ", label, fraction * 100) + stats)
        }
    }

    /// Ends the bar's line on a terminal.
    func finish() {
        update(total)
        if console.errRedraw != nil { console.err("") }
    }
}
