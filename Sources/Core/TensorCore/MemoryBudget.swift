import Foundation
import Synchronization

/// The most memory one tensor, or one array a file declares, may take. An oversized request — a
/// batch × horizon × width typo, or a corrupt file declaring terabytes — becomes a clear error
/// before anything is allocated, instead of an out-of-memory kill minutes into a run.
/// Set by `PD_MEMORY_BUDGET` ("8G", "512M", "1T" or bytes); default: the machine's physical memory.
public enum MemoryBudget {
    private static let limit = Atomic<Int>(fromEnvironment())
    private static let handler = Mutex<@Sendable (String) -> Never>({ preconditionFailure($0) })

    /// The budget in bytes.
    public static var bytes: Int {
        get { limit.load(ordering: .relaxed) }
        set { limit.store(Swift.max(newValue, 1), ordering: .relaxed) }
    }

    /// What happens when a tensor allocation is over budget. An initializer deep inside an op cannot
    /// throw, so the library's default is a precondition failure with the message; `diffuse` prints
    /// the message as its one-line error and exits with status 1.
    public static func onExceeded(_ body: @escaping @Sendable (String) -> Never) { handler.withLock { $0 = body } }

    /// Why an array of `shape` as 32-bit floats (e.g. one a file declares) may not be allocated —
    /// its size overflows, or it is over the budget — or nil when it fits. Callers wrap the reason
    /// in their own typed error.
    public static func refusal(elements shape: [Int]) -> String? {
        var total = 4
        for d in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: Swift.max(d, 0))
            if overflow { return "is too large to address" }
            total = p
        }
        return total > bytes ? excess(bytes: total) : nil
    }

    /// Called for every new tensor buffer.
    static func allocating(elements count: Int) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
        guard overflow || bytes > limit.load(ordering: .relaxed) else { return }
        let body = handler.withLock { $0 }
        body(message(bytes: overflow ? Int.max : bytes, for: "a tensor of \(count) elements"))
    }

    static func message(bytes: Int, for what: String) -> String { "\(what) \(excess(bytes: bytes))" }

    /// "needs 3.0 TiB, over the memory budget of 23.4 GiB (…)".
    static func excess(bytes: Int) -> String {
        "needs \(format(bytes)), over the memory budget of \(format(self.bytes)) (set PD_MEMORY_BUDGET to change it)"
    }

    static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(bytes), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[i])
    }

    /// "8G", "512M", "64K", "1T" or a byte count; nil when malformed.
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let scale: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = t.last, let s = scale[last] {
            guard let v = Double(t.dropLast()), v > 0, v * Double(s) < Double(Int.max) else { return nil }
            return Int(v * Double(s))
        }
        guard let v = Int(t), v > 0 else { return nil }
        return v
    }

    private static func fromEnvironment() -> Int {
        if let text = ProcessInfo.processInfo.environment["PD_MEMORY_BUDGET"], let v = parse(text) { return v }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }
}
