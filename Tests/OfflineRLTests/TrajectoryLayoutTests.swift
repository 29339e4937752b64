import Foundation
import NN
import Testing
@testable import OfflineRL
import TensorCore

@Suite struct TrajectoryLayoutTests {
    /// Collected data with two extra terminals mid-episode (so windows that end on a terminal are
    /// taken), written to and read back from a D4RL-layout HDF5 file.
    static func d4rlFile(_ env: String) throws -> OfflineDataset {
        var d = try DataCollection.collect(environment: env, quality: .mixed, steps: 1000, seed: 2)
        var t = d.terminals.scalars
        t[150] = 1; t[533] = 1
        d.terminals = Tensor(t)
        let url = temporaryURL("layout-\(env).hdf5")
        try d.save(to: url)
        return try OfflineDataset.load(url)
    }

    /// Float32 z-scoring both ways: |Δ| ≤ 1e-5 · max(|x|, |mean| + std) per channel (each pass
    /// rounds once to float32, ≈ 6e-8 of |x| + |mean|); actions against the box's half-range.
    static func close(_ a: Float, _ b: Float, scale: Double) -> Bool { Double(abs(a - b)) <= 1e-5 * max(Double(abs(b)), scale) }

    @Test(arguments: ["pendulum", "safe-goal"], TrajectoryLayout.ActionTransform.allCases)
    func encodeDecodeRoundTrip(_ name: String, _ transform: TrajectoryLayout.ActionTransform) throws {
        let d = try Self.d4rlFile(name)
        let box = try Environments.make(name).spec.actionSpace
        let layout = try TrajectoryLayout(dataset: d, actionSpace: box, horizon: 16, actionTransform: transform)
        let starts = d.windowStarts(horizon: 16, stride: 8)
        #expect(starts.contains(150 - 15) && starts.contains(533 - 15))  // windows ending on the terminals
        let x = try layout.encode(d)
        let (o, a, w) = (d.observationDim, d.actionDim, layout.width)
        #expect(x.shape == [starts.count, 16, o + a + 2] && w == o + a + 2)

        let out = try layout.decode(x)
        #expect(out.count == starts.count * 15 && out.costs == nil && out.infos.isEmpty)
        let so = d.observations.scalars, sn = d.nextObservations.scalars, sa = d.actions.scalars, sr = d.rewards.scalars
        let (oo, on, oa, or) = (out.observations.scalars, out.nextObservations.scalars, out.actions.scalars, out.rewards.scalars)
        let ot = out.terminals.scalars, oto = out.timeouts.scalars, st = d.terminals.scalars
        var bad = 0, clipped = 0, interior = 0
        for (b, s) in starts.enumerated() { for k in 0..<15 {
            let i = s + k, j = b * 15 + k
            for c in 0..<o {
                let scale = abs(layout.mean[c]) + layout.std[c]
                if !Self.close(oo[j * o + c], so[i * o + c], scale: scale) || !Self.close(on[j * o + c], sn[i * o + c], scale: scale) { bad += 1 }
            }
            for c in 0..<a {
                let half = Double(layout.actionMap.scale[c]), shift = Double(layout.actionMap.shift[c])
                let an = (Double(sa[i * a + c]) - shift) / half
                var expected = sa[i * a + c]
                if transform == .atanh && abs(an) >= 0.999 { expected = Float(min(max(an, -0.999), 0.999) * half + shift); clipped += 1 } else { interior += 1 }
                if !Self.close(oa[j * a + c], expected, scale: half) { bad += 1 }
            }
            let rc = o + a
            if !Self.close(or[j], sr[i], scale: abs(layout.mean[rc]) + layout.std[rc]) { bad += 1 }
            if ot[j] != st[i] || oto[j] != (k == 14 ? 1 : 0) { bad += 1 }
        } }
        #expect(bad == 0, "\(bad) decoded values differ from their source rows")
        #expect(interior > 100 && (transform == .identity || clipped > 100), "\(interior) interior, \(clipped) clipped actions")

        // Encoded channels: mean 0, std 1 (float32 storage, |Δ| ≤ 1e-5).
        let v = x.scalars, rows = v.count / w
        for c in 0..<w {
            let mean = (0..<rows).reduce(0.0) { $0 + Double(v[$1 * w + c]) } / Double(rows)
            let std = ((0..<rows).reduce(0.0) { $0 + pow(Double(v[$1 * w + c]) - mean, 2) } / Double(rows)).squareRoot()
            #expect(abs(mean) < 1e-5 && abs(std - 1) < 1e-5, "channel \(c): mean \(mean), std \(std)")
        }
    }

    /// Two episodes of 20 rows; observation channel 1 and the done channel are constant.
    static func constantChannelData() throws -> OfflineDataset {
        let n = 40
        func obs(_ i: Int) -> [Float] { [Float(i % 20) * 0.5, 5] }  // s′ of row 19 is row 20's s: unused
        return try OfflineDataset(observations: Tensor((0..<n).flatMap(obs), shape: [n, 2]),
                                  actions: Tensor((0..<n).map { Float(Foundation.sin(Double($0))) * 1.5 }, shape: [n, 1]),
                                  rewards: Tensor((0..<n).map { Float($0 % 7) }), nextObservations: Tensor((0..<n).flatMap { obs($0 + 1) }, shape: [n, 2]),
                                  terminals: Tensor(zeros: [n]), timeouts: Tensor((0..<n).map { $0 % 20 == 19 ? 1 : 0 }))
    }

    @Test func constantChannelGetsUnitScale() throws {
        let d = try Self.constantChannelData()
        let layout = try TrajectoryLayout(dataset: d, actionSpace: Box(repeating: 2, count: 1), horizon: 8, stride: 4)
        let done = try layout.range(of: TrajectoryLayout.done).lowerBound
        #expect(layout.mean[1] == 5 && layout.std[1] == 1)
        #expect(layout.mean[done] == 0 && layout.std[done] == 1)
        #expect(layout.std[0] != 1 && layout.std[0] > 0)
        let x = try layout.encode(d)
        #expect(try layout.slice(x, group: TrajectoryLayout.observation).scalars.enumerated().allSatisfy { $0.offset % 2 == 0 || $0.element == 0 })
        #expect(try layout.decode(x).observations.scalars.enumerated().allSatisfy { $0.offset % 2 == 0 || $0.element == 5 })
    }

    @Test func windowSubsetsAndGroupHelpers() throws {
        let d = try Self.constantChannelData()
        let layout = try TrajectoryLayout(dataset: d, actionSpace: Box(repeating: 2, count: 1), horizon: 8, stride: 4)
        let x = try layout.encode(d, starts: [3, 20])
        #expect(x.shape == [2, 8, 5])
        // Observations in data units are the source rows 3…10 and 20…27.
        let s = try layout.unnormalized(x, group: TrajectoryLayout.observation)
        let expected: [Float] = ([Int](3..<11) + [Int](20..<28)).flatMap { i -> [Float] in [Float(i % 20) * 0.5, 5] }
        let scale = 5 + layout.std[0]
        #expect(s.shape == [2, 8, 2] && zip(s.scalars, expected).allSatisfy { Self.close($0, $1, scale: scale) })
        let back = try layout.normalized(s, group: TrajectoryLayout.observation)
        #expect(zip(back.scalars, try layout.slice(x, group: TrajectoryLayout.observation).scalars).allSatisfy { abs($0 - $1) <= 1e-5 })
        // Agent-space actions: tanh(u) = a / 2, clipped at ±0.999.
        let an = try layout.normalizedActions(x).scalars
        let actions = ([Int](3..<11) + [Int](20..<28)).map { min(max(Foundation.sin(Double($0)) * 0.75, -0.999), 0.999) }
        #expect(zip(an, actions).allSatisfy { abs(Double($0) - $1) <= 1e-5 })
        #expect(throws: ChannelLayout.LayoutError.unknownGroup("state", known: ["observation", "action", "reward", "done"])) {
            try layout.unnormalized(x, group: "state")
        }
    }

    /// done = unnormalized d > 0.5 marks a terminal; every window's last transition is a timeout
    /// unless it is terminal; the last row's action, reward and done are dropped.
    @Test func decodesDoneFlagsPerWindow() throws {
        let layout = try TrajectoryLayout(dataset: try Self.constantChannelData(), actionSpace: Box(repeating: 2, count: 1), horizon: 8)
        let dc = try layout.range(of: TrajectoryLayout.done).lowerBound
        func window(done rows: Set<Int>, length l: Int) -> [Float] {
            var x = [Float](repeating: 0, count: l * layout.width)
            for t in 0..<l { x[t * layout.width + dc] = Float(((rows.contains(t) ? 1 : 0) - layout.mean[dc]) / layout.std[dc]) }
            return x
        }
        let x = Tensor(window(done: [1, 4], length: 5) + window(done: [3], length: 5), shape: [2, 5, layout.width])
        let out = try layout.decode(x)
        #expect(out.terminals.scalars == [0, 1, 0, 0, 0, 0, 0, 1])
        #expect(out.timeouts.scalars == [0, 0, 0, 1, 0, 0, 0, 0])
        #expect(out.episodes == [0..<2, 2..<4, 4..<8])
    }

    @Test func jsonRoundTrip() throws {
        let layout = try TrajectoryLayout(dataset: try Self.d4rlFile("pendulum"), actionSpace: Box(repeating: 2, count: 1), horizon: 32)
        let json = try JSONEncoder().encode(layout)
        #expect(try JSONDecoder().decode(TrajectoryLayout.self, from: json) == layout)
        // Metadata is user input: an inconsistent layout is rejected on load.
        var object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        object["std"] = Array((object["std"] as! [Double]).dropLast())
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TrajectoryLayout.self, from: JSONSerialization.data(withJSONObject: object)) }
        object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        object["horizon"] = 1
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TrajectoryLayout.self, from: JSONSerialization.data(withJSONObject: object)) }
        object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        var groups = (object["channels"] as! [String: Any])["groups"] as! [[String: Any]]
        groups[1]["start"] = 4  // a gap after the observation channels
        object["channels"] = ["groups": groups]
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TrajectoryLayout.self, from: JSONSerialization.data(withJSONObject: object)) }
    }

    @Test func errors() throws {
        let d = try Self.constantChannelData(), box = Box(repeating: 2, count: 1)
        typealias E = TrajectoryLayoutError
        #expect(throws: E.invalidWindow(horizon: 1, stride: 8)) { try TrajectoryLayout(dataset: d, actionSpace: box, horizon: 1) }
        #expect(throws: E.actionBoxMismatch(box: 2, actions: 1)) { try TrajectoryLayout(dataset: d, actionSpace: Box(repeating: 1, count: 2), horizon: 8) }
        #expect(throws: E.degenerateActionBox(dimension: 0, low: 1, high: 1)) { try TrajectoryLayout(dataset: d, actionSpace: Box(low: [1], high: [1]), horizon: 8) }
        #expect(throws: E.noWindow(horizon: 21, rows: 40, longestEpisode: 20)) { try TrajectoryLayout(dataset: d, actionSpace: box, horizon: 21) }
        let short = d.subset(Array(0..<5))
        #expect(throws: E.noWindow(horizon: 8, rows: 5, longestEpisode: 5)) { try TrajectoryLayout(dataset: short, actionSpace: box, horizon: 8) }

        let layout = try TrajectoryLayout(dataset: d, actionSpace: box, horizon: 8)
        let goal = try DataCollection.collect(environment: "safe-goal", quality: .random, steps: 40, seed: 0)
        #expect(throws: E.dimensionMismatch("observations", expected: 2, found: 22)) { try layout.encode(goal) }
        #expect(throws: E.windowCrossesEpisode(start: 15, end: 19)) { try layout.encode(d, starts: [0, 15]) }
        #expect(throws: E.windowOutOfRange(start: 33, horizon: 8, rows: 40)) { try layout.encode(d, starts: [33]) }
        #expect(throws: E.noWindow(horizon: 8, rows: 5, longestEpisode: 5)) { try layout.encode(short) }
        var nan = d
        nan.rewards = Tensor((0..<40).map { $0 == 6 ? Float.nan : 0 })
        #expect(throws: E.nonFiniteData(row: 6, group: "reward")) { try layout.encode(nan) }

        #expect(throws: E.wrongShape(expected: "[B, L, 5]", found: [8, 5])) { try layout.decode(Tensor(zeros: [8, 5])) }
        #expect(throws: E.wrongShape(expected: "[B, L, 5]", found: [2, 8, 4])) { try layout.decode(Tensor(zeros: [2, 8, 4])) }
        #expect(throws: E.tooShort(length: 1)) { try layout.decode(Tensor(zeros: [2, 1, 5])) }
        var bad = [Float](repeating: 0, count: 2 * 8 * 5)
        bad[(1 * 8 + 3) * 5 + 2] = .infinity
        #expect(throws: E.nonFinite(window: 1, row: 3)) { try layout.decode(Tensor(bad, shape: [2, 8, 5])) }
        // One-line messages.
        #expect(!E.noWindow(horizon: 21, rows: 40, longestEpisode: 20).description.contains("\n"))
    }
}
