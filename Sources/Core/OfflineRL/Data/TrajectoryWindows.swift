import Foundation
import TensorCore

extension OfflineDataset {
    /// Start rows of the length-`horizon` sub-trajectory windows that PGD trains on (docs/pgd.md §1,
    /// from its reference code). A window is valid if none of its first horizon − 1 rows is a terminal
    /// or timeout (its last row may end the episode). Starts: every `stride`-th valid start, plus valid
    /// starts at episode starts, plus valid windows whose last row is a terminal; minus windows whose
    /// last row is a timeout (the state after a cut is unknown).
    public func windowStarts(horizon: Int, stride: Int = 8) -> [Int] {
        precondition(horizon >= 1 && stride >= 1, "windowStarts: horizon and stride must be positive")
        let n = count
        guard n >= horizon else { return [] }
        let t = terminals.scalars, o = timeouts.scalars
        // ends[i] = number of episode-ending rows among rows 0..<i (prefix sums for O(1) validity).
        var ends = [Int](repeating: 0, count: n + 1)
        for i in 0..<n { ends[i + 1] = ends[i] + (t[i] != 0 || o[i] != 0 ? 1 : 0) }
        func valid(_ s: Int) -> Bool { s >= 0 && s + horizon <= n && ends[s + horizon - 1] - ends[s] == 0 }
        var starts = Set<Int>()
        for s in Swift.stride(from: 0, to: n, by: stride) where valid(s) { starts.insert(s) }
        for e in episodes where valid(e.lowerBound) { starts.insert(e.lowerBound) }
        for i in 0..<n where t[i] != 0 && valid(i - horizon + 1) { starts.insert(i - horizon + 1) }
        return starts.filter { o[$0 + horizon - 1] == 0 }.sorted()
    }
}
