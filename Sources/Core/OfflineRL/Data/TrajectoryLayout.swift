import Foundation
import NN
import TensorCore

/// The trajectory representation shared by PGD's trajectory model and SePPO's trajectory
/// generator (docs/pgd.md §1): window rows x_t = [s_t | u_t | r_t | d_t] under named channel groups,
/// each channel z-scored over the training windows. Stored as JSON in checkpoint metadata, so a
/// loaded model encodes and decodes exactly as in training.
public struct TrajectoryLayout: Codable, Sendable, Equatable {
    /// How a normalized action a_n ∈ [−1, 1] becomes the modeled channel u.
    public enum ActionTransform: String, Codable, Sendable, CaseIterable {
        /// PGD: u = atanh(clip(a_n, ±0.999)), so the model works before the tanh squashing.
        case atanh
        /// u = a_n.
        case identity

        /// |a_n| is clipped here before atanh (PGD's reference code; keeps u finite, |u| ≤ 3.8).
        public static let atanhBound = 0.999

        public func forward(_ a: Double) -> Double {
            switch self {
            case .atanh: return Foundation.atanh(Swift.min(Swift.max(a, -Self.atanhBound), Self.atanhBound))
            case .identity: return a
            }
        }

        public func inverse(_ u: Double) -> Double { self == .atanh ? Foundation.tanh(u) : u }
    }

    /// Channel group names.
    public static let observation = "observation", action = "action", reward = "reward", done = "done"

    public let channels: ChannelLayout
    public let actionTransform: ActionTransform
    /// Raw environment action → a_n ∈ [−1, 1] (`AffineNormalizer.box` of the action space).
    public let actionMap: AffineNormalizer
    /// Per-channel z-score over every row of every training window (rows in several windows count
    /// once per window, as in PGD's reference code); a channel with std 0 gets std 1.
    public let mean: [Double]
    public let std: [Double]
    /// Window length H and start stride the statistics were taken over.
    public let horizon: Int
    public let stride: Int

    public var width: Int { channels.width }
    public var observationDim: Int { channels.range(of: Self.observation)!.count }
    public var actionDim: Int { channels.range(of: Self.action)!.count }

    /// The layout of `dataset`'s windows (`windowStarts(horizon:stride:)`), with statistics taken
    /// over those windows. `actionSpace` is the environment's action box.
    public init(dataset: OfflineDataset, actionSpace: Box, horizon: Int, stride: Int = 8,
                actionTransform: ActionTransform = .atanh) throws {
        guard horizon >= 2, stride >= 1 else { throw TrajectoryLayoutError.invalidWindow(horizon: horizon, stride: stride) }
        guard actionSpace.dimension == dataset.actionDim else {
            throw TrajectoryLayoutError.actionBoxMismatch(box: actionSpace.dimension, actions: dataset.actionDim)
        }
        for i in 0..<actionSpace.dimension where !(actionSpace.low[i].isFinite && actionSpace.high[i].isFinite && actionSpace.low[i] < actionSpace.high[i]) {
            throw TrajectoryLayoutError.degenerateActionBox(dimension: i, low: actionSpace.low[i], high: actionSpace.high[i])
        }
        let o = dataset.observationDim, a = dataset.actionDim
        guard o >= 1, a >= 1 else { throw TrajectoryLayoutError.noChannels(observations: o, actions: a) }
        channels = ChannelLayout([(Self.observation, o), (Self.action, a), (Self.reward, 1), (Self.done, 1)])
        self.actionTransform = actionTransform
        actionMap = .box(low: actionSpace.low, high: actionSpace.high)
        self.horizon = horizon
        self.stride = stride

        let starts = dataset.windowStarts(horizon: horizon, stride: stride)
        guard !starts.isEmpty else {
            throw TrajectoryLayoutError.noWindow(horizon: horizon, rows: dataset.count, longestEpisode: dataset.episodes.map(\.count).max() ?? 0)
        }
        // Multiplicity of each row over the windows; then two-pass weighted moments (exactly 0 for a constant).
        var weight = [Double](repeating: 0, count: dataset.count)
        for s in starts { for i in s..<(s + horizon) { weight[i] += 1 } }
        let used = weight.indices.filter { weight[$0] > 0 }
        let x = try Self.rows(of: dataset, used, actionMap: actionMap, transform: actionTransform)
        let d = o + a + 2, total = Double(starts.count * horizon)
        var m = [Double](repeating: 0, count: d), v = m
        for (k, i) in used.enumerated() { for c in 0..<d { m[c] += weight[i] * x[k * d + c] } }
        m = m.map { $0 / total }
        for (k, i) in used.enumerated() { for c in 0..<d { let e = x[k * d + c] - m[c]; v[c] += weight[i] * e * e } }
        mean = m
        std = v.map { let s = ($0 / total).squareRoot(); return s > 0 ? s : 1 }
    }

    // MARK: Encoding and decoding

    /// Normalized windows [B, H, D] of `dataset`, one per start (default: `windowStarts` with this
    /// layout's horizon and stride; a caller may pass a subset, each window inside one episode).
    public func encode(_ dataset: OfflineDataset, starts: [Int]? = nil) throws -> Tensor {
        try checkDimensions(dataset)
        let starts = starts ?? dataset.windowStarts(horizon: horizon, stride: stride)
        guard !starts.isEmpty else {
            throw TrajectoryLayoutError.noWindow(horizon: horizon, rows: dataset.count, longestEpisode: dataset.episodes.map(\.count).max() ?? 0)
        }
        let t = dataset.terminals.scalars, o = dataset.timeouts.scalars
        for s in starts {
            guard s >= 0, s + horizon <= dataset.count else {
                throw TrajectoryLayoutError.windowOutOfRange(start: s, horizon: horizon, rows: dataset.count)
            }
            // Only the last row may end an episode (docs/pgd.md §1).
            if let end = (s..<(s + horizon - 1)).first(where: { t[$0] != 0 || o[$0] != 0 }) {
                throw TrajectoryLayoutError.windowCrossesEpisode(start: s, end: end)
            }
        }
        let d = width
        var out = [Float](repeating: 0, count: starts.count * horizon * d)
        for (b, s) in starts.enumerated() {
            let x = try Self.rows(of: dataset, Array(s..<(s + horizon)), actionMap: actionMap, transform: actionTransform)
            for k in 0..<(horizon * d) { out[b * horizon * d + k] = Float((x[k] - mean[k % d]) / std[k % d]) }
        }
        return Tensor(out, shape: [starts.count, horizon, d])
    }

    /// Transitions of normalized windows [B, L, D] (any L ≥ 2): row k and row k + 1 make
    /// (s_k, a_k, r_k, done_k, s_{k+1}) for k < L − 1; the last row's action, reward and done are
    /// dropped (docs/pgd.md §1). done = unnormalized d > 0.5 (a terminal). Each window is its own
    /// episode: its last transition is a timeout unless terminal. No costs or infos.
    public func decode(_ windows: Tensor) throws -> OfflineDataset {
        guard windows.rank == 3, windows.shape[2] == width else {
            throw TrajectoryLayoutError.wrongShape(expected: "[B, L, \(width)]", found: windows.shape)
        }
        let (b, l, d) = (windows.shape[0], windows.shape[1], width)
        guard l >= 2 else { throw TrajectoryLayoutError.tooShort(length: l) }
        let x = windows.scalars
        if let bad = x.firstIndex(where: { !$0.isFinite }) {
            throw TrajectoryLayoutError.nonFinite(window: bad / (l * d), row: bad / d % l)
        }
        let obs = channels.range(of: Self.observation)!, act = channels.range(of: Self.action)!
        let rc = channels.range(of: Self.reward)!.lowerBound, dc = channels.range(of: Self.done)!.lowerBound
        let n = b * (l - 1)
        var observations = [Float](), next = [Float](), actions = [Float]()
        var rewards = [Float](), terminals = [Float](), timeouts = [Float]()
        observations.reserveCapacity(n * obs.count); next.reserveCapacity(n * obs.count); actions.reserveCapacity(n * act.count)
        func value(_ w: Int, _ t: Int, _ c: Int) -> Double { Double(x[(w * l + t) * d + c]) * std[c] + mean[c] }
        for w in 0..<b {
            for k in 0..<(l - 1) {
                for c in obs { observations.append(Float(value(w, k, c))); next.append(Float(value(w, k + 1, c))) }
                for (j, c) in act.enumerated() {
                    let an = actionTransform.inverse(value(w, k, c))
                    actions.append(Float(an * Double(actionMap.scale[j]) + Double(actionMap.shift[j])))
                }
                rewards.append(Float(value(w, k, rc)))
                let done = value(w, k, dc) > 0.5
                terminals.append(done ? 1 : 0)
                timeouts.append(!done && k == l - 2 ? 1 : 0)
            }
        }
        return try OfflineDataset(observations: Tensor(observations, shape: [n, obs.count]), actions: Tensor(actions, shape: [n, act.count]),
                                  rewards: Tensor(rewards), nextObservations: Tensor(next, shape: [n, obs.count]),
                                  terminals: Tensor(terminals), timeouts: Tensor(timeouts))
    }

    // MARK: Channel groups

    /// The channels of `group`; throws for a name that is not a group of this layout.
    public func range(of group: String) throws -> Range<Int> {
        try channels.validate(group)
        return channels.range(of: group)!
    }

    /// The z-score of `group`'s channels as an affine map (data units ↔ normalized).
    public func normalizer(of group: String) throws -> AffineNormalizer {
        let r = try range(of: group)
        return AffineNormalizer(shift: mean[r].map(Float.init), scale: std[r].map(Float.init))
    }

    /// `group`'s channels of normalized rows x [..., D], still normalized: [..., width of group].
    public func slice(_ x: Tensor, group: String) throws -> Tensor {
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == width, "TrajectoryLayout: rows of width \(width) expected, got shape \(x.shape)")
        return x.slice(axis: x.rank - 1, try range(of: group))
    }

    /// `group`'s channels of normalized rows x [..., D] in data units (for the action group: u, the
    /// transformed normalized action — see `normalizedActions`). Differentiable (builds a new tensor).
    public func unnormalized(_ x: Tensor, group: String) throws -> Tensor {
        try normalizer(of: group).inverse(slice(x, group: group))
    }

    /// Values of `group` in data units [..., width of group] → normalized (e.g. to inpaint a state).
    public func normalized(_ values: Tensor, group: String) throws -> Tensor {
        let r = try range(of: group)
        precondition(values.rank >= 1 && values.shape[values.rank - 1] == r.count,
                     "TrajectoryLayout: '\(group)' values of width \(r.count) expected, got shape \(values.shape)")
        return try normalizer(of: group)(values)
    }

    /// The agents' actions a_n ∈ [−1, 1] (docs/conventions.md, Data and spaces) of normalized rows x [..., D]:
    /// tanh(u) under `.atanh`, what PGD's guidance evaluates log π on (docs/pgd.md §3).
    public func normalizedActions(_ x: Tensor) throws -> Tensor {
        let u = try unnormalized(x, group: Self.action)
        return actionTransform == .atanh ? u.tanh() : u
    }

    // MARK: Helpers

    private func checkDimensions(_ dataset: OfflineDataset) throws {
        guard dataset.observationDim == observationDim else {
            throw TrajectoryLayoutError.dimensionMismatch("observations", expected: observationDim, found: dataset.observationDim)
        }
        guard dataset.actionDim == actionDim else {
            throw TrajectoryLayoutError.dimensionMismatch("actions", expected: actionDim, found: dataset.actionDim)
        }
    }

    /// Unnormalized rows [s | u | r | d] of dataset rows `indices`, flattened, in Double.
    private static func rows(of dataset: OfflineDataset, _ indices: [Int], actionMap: AffineNormalizer,
                             transform: ActionTransform) throws -> [Double] {
        let o = dataset.observationDim, a = dataset.actionDim, d = o + a + 2
        var x = [Double](repeating: 0, count: indices.count * d)
        try dataset.observations.withUnsafeBufferPointer { obs in
            try dataset.actions.withUnsafeBufferPointer { act in
                let r = dataset.rewards.scalars, t = dataset.terminals.scalars
                for (k, i) in indices.enumerated() {
                    for c in 0..<o { x[k * d + c] = Double(obs[i * o + c]) }
                    for c in 0..<a {
                        let an = (Double(act[i * a + c]) - Double(actionMap.shift[c])) / Double(actionMap.scale[c])
                        x[k * d + o + c] = transform.forward(an)
                    }
                    x[k * d + o + a] = Double(r[i])
                    x[k * d + o + a + 1] = Double(t[i])  // D4RL terminals only (docs/pgd.md §1)
                    if let c = (0..<d).first(where: { !x[k * d + $0].isFinite }) {
                        let group = c < o ? observation : c < o + a ? action : c == o + a ? reward : done
                        throw TrajectoryLayoutError.nonFiniteData(row: i, group: group)
                    }
                }
            }
        }
        return x
    }

    // MARK: Codable (checkpoint metadata is user input: checked on load)

    private enum CodingKeys: String, CodingKey { case channels, actionTransform, actionMap, mean, std, horizon, stride }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channels = try c.decode(ChannelLayout.self, forKey: .channels)
        actionTransform = try c.decode(ActionTransform.self, forKey: .actionTransform)
        actionMap = try c.decode(AffineNormalizer.self, forKey: .actionMap)
        mean = try c.decode([Double].self, forKey: .mean)
        std = try c.decode([Double].self, forKey: .std)
        horizon = try c.decode(Int.self, forKey: .horizon)
        stride = try c.decode(Int.self, forKey: .stride)
        func corrupt(_ why: String) -> DecodingError { .dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "trajectory layout: \(why)")) }
        let g = channels.groups
        guard channels.names == [Self.observation, Self.action, Self.reward, Self.done], g.allSatisfy({ $0.count > 0 }),
              g[0].start == 0, zip(g, g.dropFirst()).allSatisfy({ $0.range.upperBound == $1.start }),
              channels.range(of: Self.reward)?.count == 1, channels.range(of: Self.done)?.count == 1 else {
            throw corrupt("channel groups must be observation, action, reward (1), done (1); found \(channels.names)")
        }
        guard mean.count == width, std.count == width else { throw corrupt("\(mean.count) means and \(std.count) stds for \(width) channels") }
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw corrupt("non-finite mean or non-positive std") }
        guard actionMap.scale.count == actionDim, actionMap.scale.allSatisfy({ $0.isFinite && $0 > 0 }), actionMap.shift.allSatisfy(\.isFinite) else {
            throw corrupt("the action map does not fit \(actionDim) actions")
        }
        guard horizon >= 2, stride >= 1 else { throw corrupt("horizon \(horizon), stride \(stride)") }
    }
}

/// Why data does not fit a trajectory layout; each message is one line.
public enum TrajectoryLayoutError: Error, Equatable, CustomStringConvertible {
    case invalidWindow(horizon: Int, stride: Int)
    case noChannels(observations: Int, actions: Int)
    case actionBoxMismatch(box: Int, actions: Int)
    case degenerateActionBox(dimension: Int, low: Double, high: Double)
    case dimensionMismatch(String, expected: Int, found: Int)
    case noWindow(horizon: Int, rows: Int, longestEpisode: Int)
    case windowOutOfRange(start: Int, horizon: Int, rows: Int)
    case windowCrossesEpisode(start: Int, end: Int)
    case wrongShape(expected: String, found: [Int])
    case tooShort(length: Int)
    case nonFinite(window: Int, row: Int)
    case nonFiniteData(row: Int, group: String)

    public var description: String {
        switch self {
        case let .invalidWindow(h, s): return "trajectory windows need a horizon of at least 2 and a stride of at least 1 (got horizon \(h), stride \(s))"
        case let .noChannels(o, a): return "a trajectory needs at least one observation and one action dimension (got \(o) and \(a))"
        case let .actionBoxMismatch(b, a): return "the action box has \(b) dimensions but the dataset's actions have \(a)"
        case let .degenerateActionBox(i, lo, hi): return "action dimension \(i) has bounds [\(lo), \(hi)]; a finite box with low < high is needed"
        case let .dimensionMismatch(what, e, f): return "\(what) have \(f) dimensions; the trajectory layout expects \(e)"
        case let .noWindow(h, n, longest): return "no complete window of \(h) rows in \(n) rows (longest episode \(longest) rows); use a shorter horizon or more data"
        case let .windowOutOfRange(s, h, n): return "window start \(s) with horizon \(h) does not fit in \(n) rows"
        case let .windowCrossesEpisode(s, e): return "the window starting at row \(s) crosses the episode end at row \(e)"
        case let .wrongShape(e, f): return "trajectory windows have shape \(f), expected \(e)"
        case let .tooShort(l): return "a trajectory of \(l) row(s) holds no transition; at least 2 rows are needed"
        case let .nonFinite(w, r): return "trajectory window \(w) has a NaN or infinite value at row \(r)"
        case let .nonFiniteData(r, g): return "dataset row \(r) has a NaN or infinite \(g) value"
        }
    }
}
