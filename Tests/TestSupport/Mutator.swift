import Foundation
import TensorCore

/// A seeded mutation fuzzer for file parsers (docs/conventions.md, Errors and files): each call to
/// `mutate` applies one to four byte-level edits of the kinds that break parsers — bit flips,
/// boundary bytes, 32/64-bit boundary integers written over length and offset fields, truncation,
/// insertion and duplication. Deterministic for a seed, so a failing input can be replayed.
public struct Mutator {
    let rng: RandomGenerator
    public init(seed: UInt64) { rng = RandomGenerator(seed: seed) }

    static let boundaryBytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF]
    static let boundaryWords: [UInt64] = [0, 1, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
                                          0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF]

    public func mutate(_ input: Data) -> Data {
        var b = [UInt8](input)
        for _ in 0..<(1 + rng.nextInt(below: 4)) {
            guard !b.isEmpty else { b = [UInt8(rng.nextInt(below: 256))]; continue }
            let at = rng.nextInt(below: b.count)
            switch rng.nextInt(below: 7) {
            case 0: b[at] ^= UInt8(1 << rng.nextInt(below: 8))
            case 1: b[at] = Self.boundaryBytes[rng.nextInt(below: Self.boundaryBytes.count)]
            case 2, 3:  // a little-endian 4- or 8-byte boundary value over a (likely) length/offset field
                let width = rng.nextInt(below: 2) == 0 ? 4 : 8
                var v = Self.boundaryWords[rng.nextInt(below: Self.boundaryWords.count)]
                for k in 0..<width where at + k < b.count { b[at + k] = UInt8(v & 0xFF); v >>= 8 }
            case 4: b.removeSubrange(at...)  // truncation
            case 5: b.insert(contentsOf: (0..<(1 + rng.nextInt(below: 16))).map { _ in UInt8(rng.nextInt(below: 256)) }, at: at)
            default:
                let n = Swift.min(1 + rng.nextInt(below: 64), b.count - at)
                b.insert(contentsOf: b[at..<(at + n)], at: rng.nextInt(below: b.count))
            }
        }
        return Data(b)
    }
}
