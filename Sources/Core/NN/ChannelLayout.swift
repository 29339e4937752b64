import Foundation
import TensorCore

/// Named groups of consecutive channels on a tensor's last axis — e.g. a trajectory row
/// `[state | action | reward | done]`. Guidance, inpainting and decoding address channels by group
/// name, never by "the columns after action_dim" (docs/conventions.md, Data). Stored in model
/// metadata so a loaded model knows its own layout.
public struct ChannelLayout: Codable, Sendable, Equatable {
    public struct Group: Codable, Sendable, Equatable {
        public var name: String
        public var start: Int
        public var count: Int
        public var range: Range<Int> { start..<(start + count) }
    }

    public private(set) var groups: [Group]

    /// Groups in order, each `(name, width)`; names must be distinct and widths positive.
    public init(_ groups: [(String, Int)]) {
        var out: [Group] = []
        var start = 0
        for (name, count) in groups {
            precondition(count > 0, "channel group '\(name)' needs a positive width, got \(count)")
            precondition(!out.contains { $0.name == name }, "channel group '\(name)' appears twice")
            out.append(Group(name: name, start: start, count: count))
            start += count
        }
        self.groups = out
    }

    /// Total channels.
    public var width: Int { groups.last.map { $0.start + $0.count } ?? 0 }

    public var names: [String] { groups.map(\.name) }

    /// The channels of group `name`, or nil if the layout has no such group.
    public func range(of name: String) -> Range<Int>? { groups.first { $0.name == name }?.range }

    /// The channels of `names` (in layout order); traps on an unknown name (a programmer error —
    /// user-supplied names go through `validate`).
    public func channels(_ names: [String]) -> [Int] {
        for n in names { precondition(range(of: n) != nil, "the layout has no channel group '\(n)' (groups: \(self.names.joined(separator: ", ")))") }
        return groups.filter { names.contains($0.name) }.flatMap { Array($0.range) }
    }

    /// Throws a readable error when `name` is not a group of this layout.
    public func validate(_ name: String) throws {
        guard range(of: name) != nil else { throw LayoutError.unknownGroup(name, known: names) }
    }

    /// A 0/1 mask broadcastable to any tensor whose last axis is this layout ([1, …, 1, width]),
    /// 1 on the channels of `names`.
    public func mask(_ names: [String], rank: Int) -> Tensor {
        precondition(rank >= 1, "mask rank must be at least 1")
        var m = [Float](repeating: 0, count: width)
        for c in channels(names) { m[c] = 1 }
        return Tensor(m, shape: [Int](repeating: 1, count: rank - 1) + [width])
    }

    public enum LayoutError: Error, Equatable, CustomStringConvertible {
        case unknownGroup(String, known: [String])
        public var description: String {
            switch self {
            case let .unknownGroup(n, known): return "no channel group '\(n)' (the layout has \(known.joined(separator: ", ")))"
            }
        }
    }
}
