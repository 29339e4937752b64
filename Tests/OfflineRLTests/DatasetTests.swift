import Foundation
import Testing
@testable import OfflineRL
import TensorCore

@Suite struct DatasetTests {
    /// Rows with hand-placed terminals/timeouts to check PGD's window rule.
    func flags(_ n: Int, terminals: Set<Int>, timeouts: Set<Int>) throws -> OfflineDataset {
        let obs = Tensor((0..<n).map(Float.init), shape: [n, 1])
        return try OfflineDataset(observations: obs, actions: Tensor(zeros: [n, 1]), rewards: Tensor(zeros: [n]), nextObservations: obs,
                                  terminals: Tensor((0..<n).map { terminals.contains($0) ? 1 : 0 }),
                                  timeouts: Tensor((0..<n).map { timeouts.contains($0) ? 1 : 0 }))
    }

    @Test func episodesEndAtTerminalsAndTimeouts() throws {
        let d = try flags(10, terminals: [2], timeouts: [6])
        #expect(d.episodes == [0..<3, 3..<7, 7..<10])
    }

    /// H = 4, stride 2 over rows 0…19: episode A = 0…8 (terminal at 8), B = 9…14 (timeout at 14), C = 15…19.
    @Test func pgdWindowRule() throws {
        let d = try flags(20, terminals: [8], timeouts: [14])
        let starts = d.windowStarts(horizon: 4, stride: 2)
        // Valid starts: no end in the first 3 rows → A: 0…5, B: 9…11, C: 15…16.
        // Strided valid: 0 2 4 10 16; episode starts 0 9 15; terminal-ending window 5 (rows 5…8);
        // minus the window whose last row is the timeout (start 11, not in the set anyway).
        #expect(starts == [0, 2, 4, 5, 9, 10, 15, 16])
        let cut = try flags(12, terminals: [], timeouts: [7])
        // start 4 (rows 4…7) ends on the timeout: removed though strided and valid.
        #expect(cut.windowStarts(horizon: 4, stride: 2) == [0, 2, 8])
    }

    @Test func normalizers() throws {
        let x = Tensor([1, 10, 3, 30, 5, 50], shape: [3, 2])
        let z = AffineNormalizer.zScore(x, eps: 0)
        #expect(abs(z.shift[0] - 3) < 1e-6 && abs(z.shift[1] - 30) < 1e-5)
        let y = z(x)
        #expect(abs(y.mean().item) < 1e-6)
        #expect(maxDifference(z.inverse(y).scalars, x.scalars) < 1e-5)
        let box = AffineNormalizer.box(low: [-2], high: [2])
        #expect(box(Tensor([2, -1], shape: [2, 1])).scalars == [1, -0.5])
    }

    @Test func episodeSplitKeepsWholeEpisodes() throws {
        let d = try flags(40, terminals: [], timeouts: [9, 19, 29, 39])
        let (train, validation) = d.splitEpisodes(validationFraction: 0.25, seed: 3)
        #expect(validation.count == 1 && train.count == 3)
        #expect(Set(train + validation) == Set(d.episodes))
    }

    @Test func statisticsAndSummaries() throws {
        let d = try tinyDataset()
        let s = d.episodeSummaries()
        #expect(s.map(\.length) == [4, 5])
        #expect(s[0].return == -1 + 0 + 1 + 2 && s[0].cost == 2)
        let stats = ColumnStatistics(d.rewards.reshaped([9, 1]))
        #expect(stats.mean == [3] && stats.min == [-1] && stats.max == [7])
    }
}
