import CZlib
import Diffusion
import Foundation
import Imaging
import NN
@testable import SePPO
import TensorCore
import TestSupport
import Testing

/// The vendored digits (data/digits.csv, attribution in data/README.md).
let digitsURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/digits.csv").standardized

/// A tiny digits U-Net so every test runs in well under a second.
func tinyUNet(seed: UInt64) -> UNet2D {
    UNet2D(config: .init(width: 8, embedding: 16, groups: 4), rng: RandomGenerator(seed: seed))
}

func errors(_ mw: [Float], _ mo: [Float], _ rw: [Float], _ ro: [Float]) -> PairErrors {
    PairErrors(modelWinner: Tensor(mw).requiringGrad(), modelOther: Tensor(mo).requiringGrad(), referenceWinner: Tensor(rw), referenceOther: Tensor(ro))
}

func softplus(_ x: Double) -> Double { x > 0 ? x + Foundation.log1p(Foundation.exp(-x)) : Foundation.log1p(Foundation.exp(x)) }
func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

@Suite("SePPO losses")
struct LossTests {
    /// L = mean softplus((β/2)·(d_w − d_l)) with d = e_θ − e_ref (docs/seppo.md §2), by hand, and its
    /// gradient dL/de_θ(x^w)ᵢ = σ(−zᵢ)·(β/2)/B.
    @Test func diffusionDPOEqualsHandComputation() {
        let beta: Float = 100
        let e = errors([0.5, 0.30], [0.7, 0.25], [0.6, 0.28], [0.4, 0.35])
        // Row 0: d_w = −0.1, d_l = 0.3 → z = −50·(−0.4) = 20. Row 1: d_w = 0.02, d_l = −0.1 → z = −50·0.12 = −6.
        let z: [Double] = [-(50) * ((0.5 - 0.6) - (0.7 - 0.4)), -(50) * ((0.30 - 0.28) - (0.25 - 0.35))]
        let r = PreferenceLoss.diffusionDPO(e, beta: beta)
        let expected = (softplus(-z[0]) + softplus(-z[1])) / 2
        #expect(abs(Double(r.loss.item) - expected) < 1e-5 * max(1, expected))
        #expect(abs(Double(r.margins[0]) - z[0]) < 1e-3 && abs(Double(r.margins[1]) - z[1]) < 1e-3)
        #expect(r.implicitAccuracy == 0.5)
        #expect(r.flipRate == 0)
        r.loss.backward()
        let g = e.modelWinner.grad!.scalars
        for i in 0..<2 {
            let want = sigmoid(-z[i]) * 50 / 2
            #expect(abs(Double(g[i]) - want) < 1e-4 * max(1, want), "row \(i): \(g[i]) vs \(want)")
        }
        // The loser's gradient has the opposite sign.
        let gl = e.modelOther.grad!.scalars
        #expect(gl[1] < 0 && abs(Double(gl[1]) + sigmoid(-z[1]) * 25) < 1e-4 * 25)
    }

    /// Rows i and B + i of the pair noise share t and ε; different pairs do not.
    @Test func pairsShareNoiseAndTimestep() {
        let objective = ImageModel.defaultObjective
        let winners = RandomGenerator(seed: 1).normal([6, 1, 8, 8])
        let n = PreferenceLoss.pairNoise(objective, like: winners, rng: RandomGenerator(seed: 2))
        #expect(n.timesteps.count == 12 && n.noise.shape == [12, 1, 8, 8])
        for i in 0..<6 {
            #expect(n.timesteps[i] == n.timesteps[6 + i])
            #expect(n.noise.slice(axis: 0, i..<(i + 1)).scalars == n.noise.slice(axis: 0, (6 + i)..<(7 + i)).scalars)
        }
        #expect(n.noise.slice(axis: 0, 0..<1).scalars != n.noise.slice(axis: 0, 1..<2).scalars)
        #expect(Set(n.timesteps.prefix(6)).count > 1)
    }

    /// With the companion equal to the winner, shared noise makes both rows' errors equal, so z = 0 and
    /// the loss is log 2 for any model and reference (independent noise would not give this).
    @Test func identicalPairsGiveZeroMargin() {
        let model = tinyUNet(seed: 3), reference = tinyUNet(seed: 4)
        reference.eval()
        let x = RandomGenerator(seed: 5).normal([4, 1, 8, 8])
        let labels: [Float] = [1, 2, 3, 4, 1, 2, 3, 4]
        let objective = ImageModel.defaultObjective
        let noise = PreferenceLoss.pairNoise(objective, like: x, rng: RandomGenerator(seed: 6))
        let e = PreferenceLoss.pairErrors(objective, model: model.network(condition: Tensor(labels)), reference: reference.network(condition: Tensor(labels)),
                                          winners: x, others: x, noise: noise)
        for (a, b) in zip(e.modelWinner.scalars, e.modelOther.scalars) { #expect(abs(a - b) <= 1e-6 * abs(a)) }
        for (a, b) in zip(e.referenceWinner.scalars, e.referenceOther.scalars) { #expect(abs(a - b) <= 1e-6 * abs(a)) }
        #expect(e.modelWinner.scalars != e.referenceWinner.scalars)
        let r = PreferenceLoss.diffusionDPO(e, beta: 2000)
        #expect(abs(r.loss.item - Float(Foundation.log(2.0))) < 1e-3)
    }

    /// The flipper on constructed anchors: a = e_ref(x^w) − e_θ(x^w) > 0 → loser (+1); a < 0 → winner
    /// (−1, sign) or dropped (0, indicator); a = 0 → +1 (the step-0 tie); `off` never flips.
    @Test func anchorFlipperLogic() {
        let a: [Float] = [0.2, -0.1, 0, 1e-6, -1e-6]
        #expect(FlipMode.sign.factors(anchorAdvantage: a) == [1, -1, 1, 1, -1])
        #expect(FlipMode.indicator.factors(anchorAdvantage: a) == [1, 0, 1, 1, 0])
        #expect(FlipMode.off.factors(anchorAdvantage: a) == [1, 1, 1, 1, 1])

        // Row 0: model better on the anchor (e_θ 0.3 < e_ref 0.5) → DPO form; row 1: reference better
        // (e_θ 0.6 > e_ref 0.4) → sign −1: z = −(β/2)·(s_w + s_ref).
        let beta: Float = 10
        let e = errors([0.3, 0.6], [0.5, 0.2], [0.5, 0.4], [0.45, 0.5])
        #expect(e.anchorAdvantage.map { ($0 * 1000).rounded() / 1000 } == [0.2, -0.2])
        let sw: [Double] = [0.3 - 0.5, 0.6 - 0.4], so: [Double] = [0.5 - 0.45, 0.2 - 0.5]
        let signed = PreferenceLoss.seppo(e, beta: beta, flip: .sign)
        let zSign = [-5 * (sw[0] - so[0]), -5 * (sw[1] + so[1])]
        #expect(abs(Double(signed.loss.item) - (softplus(-zSign[0]) + softplus(-zSign[1])) / 2) < 1e-5)
        #expect(signed.flipRate == 0.5 && signed.factors == [1, -1])
        let indicator = PreferenceLoss.seppo(e, beta: beta, flip: .indicator)
        let zInd = [-5 * (sw[0] - so[0]), -5 * sw[1]]
        #expect(abs(Double(indicator.loss.item) - (softplus(-zInd[0]) + softplus(-zInd[1])) / 2) < 1e-5)
        let off = PreferenceLoss.seppo(e, beta: beta, flip: .off)
        let dpo = PreferenceLoss.diffusionDPO(e, beta: beta)
        #expect(off.loss.item == dpo.loss.item && off.flipRate == 0)
    }
}

@Suite("Checkpoint bank")
struct BankTests {
    @Test func deterministicStrategies() {
        let rng = RandomGenerator(seed: 1)
        for count in [1, 2, 7] {
            #expect(ReferenceStrategy.initial.select(count: count, rng: rng) == 0)
            #expect(ReferenceStrategy.latest.select(count: count, rng: rng) == count - 1)
        }
    }

    /// `random` is uniform over all k entries: Pearson's χ² over 14 000 draws from a bank of 7 stays
    /// below the 0.1 % critical value of χ²(6) = 22.458, and every index occurs.
    @Test func randomStrategyIsUniform() {
        let rng = RandomGenerator(seed: 2)
        let k = 7, draws = 14_000
        var counts = [Int](repeating: 0, count: k)
        for _ in 0..<draws { counts[ReferenceStrategy.random.select(count: k, rng: rng)] += 1 }
        let expected = Double(draws) / Double(k)
        let chi2 = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chi2 < 22.458, "counts \(counts), χ² \(chi2)")
        #expect(counts.allSatisfy { $0 > 0 })
        // A bank of one always gives θ₀.
        #expect((0..<50).allSatisfy { _ in ReferenceStrategy.random.select(count: 1, rng: rng) == 0 })
    }

    /// Entries are frozen snapshots (later training does not move them) and survive a save/restore.
    @Test func snapshotsAreFrozenAndResumable() throws {
        let model = tinyUNet(seed: 3)
        let bank = CheckpointBank(initial: model)
        let before = model.stem.weight.value.scalars
        model.stem.weight.value = model.stem.weight.value + 1
        bank.append(model)
        #expect(bank.count == 2)
        #expect(bank[0].stem.weight.value.scalars == before)
        #expect(bank[1].stem.weight.value.scalars == model.stem.weight.value.scalars)
        #expect(bank[1].parameters().allSatisfy { !$0.requiresGrad })
        var state = TrainingState(step: 0, rng: RandomState(seed: 0, counter: 0))
        bank.saveState(into: &state, key: "bank")
        let other = CheckpointBank(initial: tinyUNet(seed: 9))
        try other.restoreState(from: state, key: "bank")
        #expect(other.count == 2)
        #expect(other[0].stem.weight.value.scalars == before)
        #expect(other[1].stem.weight.value.scalars == model.stem.weight.value.scalars)
    }
}

@Suite("Digits data")
struct DigitsTests {
    @Test func loadsVendoredFileAndSplitsDisjointly() throws {
        let d = try DigitsData.load(digitsURL)
        #expect(d.count == 1797 && d.images.shape == [1797, 1, 8, 8])
        #expect(d.images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        #expect(Set(d.labels) == Set(0..<10))
        let parts = DigitsData.Split.allCases.map { d.split($0) }
        #expect(parts.map(\.count) == [898, 539, 360])
        // Disjoint: every image of the file appears exactly once over the three splits.
        let rows = parts.flatMap { p in (0..<p.count).map { p.images.slice(axis: 0, $0..<($0 + 1)).scalars + [Float(p.labels[$0])] } }
        #expect(rows.count == 1797)
        let all = (0..<d.count).map { d.images.slice(axis: 0, $0..<($0 + 1)).scalars + [Float(d.labels[$0])] }
        #expect(rows.map { $0.description }.sorted() == all.map { $0.description }.sorted())
    }

    @Test func badCSVIsOneLineErrorWithLine() {
        let good = (0..<64).map { _ in "0" }.joined(separator: ",")
        #expect(throws: DigitsError.badRow(path: "<text>", line: 2, reason: "expected 65 comma-separated values (64 pixels and a label), found 3")) {
            try DigitsData.parse(good + ",1\n1,2,3\n")
        }
        #expect(throws: DigitsError.badRow(path: "<text>", line: 1, reason: "label is '12', not a class 0…9")) { try DigitsData.parse(good + ",12\n") }
        #expect(throws: DigitsError.badRow(path: "<text>", line: 1, reason: "pixel 1 is '17', not a number in 0…16")) {
            try DigitsData.parse("17" + good.dropFirst() + ",1\n")
        }
        #expect(throws: DigitsError.empty(path: "<text>")) { try DigitsData.parse("\n\n") }
        #expect(throws: DigitsError.self) { try DigitsData.load(URL(fileURLWithPath: "/nonexistent/digits.csv")) }
        let parsed = try? DigitsData.parse("\n" + good + ",3\n")
        #expect(parsed?.labels == [3] && parsed?.images.scalars.allSatisfy { $0 == -1 } == true)
    }

    /// A single lit pixel: blur spreads it with the binomial kernel; shift moves it by 2 (max-norm);
    /// noise changes some of the 64 pixels to 0 or 1 intensity.
    @Test func degradations() {
        var image = [Float](repeating: -1, count: 64)
        image[3 * 8 + 3] = 1
        let rng = RandomGenerator(seed: 4)
        let blurred = Degradation.blur.apply(image, rng: rng).map { ($0 + 1) / 2 }
        #expect(abs(blurred[3 * 8 + 3] - 4 / 16) < 1e-6 && abs(blurred[2 * 8 + 3] - 2 / 16) < 1e-6 && abs(blurred[2 * 8 + 2] - 1 / 16) < 1e-6)
        #expect(abs(blurred.reduce(0, +) - 1) < 1e-5)
        for _ in 0..<20 {
            let shifted = Degradation.shift.apply(image, rng: rng)
            let lit = shifted.indices.filter { shifted[$0] > 0 }
            #expect(lit.count == 1)
            if let p = lit.first { #expect(max(abs(p / 8 - 3), abs(p % 8 - 3)) == 2) }
        }
        let noisy = Degradation.noise.apply([Float](repeating: 0, count: 64), rng: rng)
        let changed = noisy.filter { $0 != 0 }
        #expect(!changed.isEmpty && changed.count < 32 && changed.allSatisfy { $0 == -1 || $0 == 1 })
    }
}

@Suite("Fréchet distance")
struct FrechetTests {
    @Test func eigenDecompositionReconstructs() throws {
        let m: [Double] = [4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]
        let (w, v) = try SymmetricEigen.decompose(m, n: 3)
        #expect(w == w.sorted())
        for i in 0..<3 { for j in 0..<3 {
            let r = (0..<3).reduce(0.0) { $0 + v[i * 3 + $1] * w[$1] * v[j * 3 + $1] }
            #expect(abs(r - m[i * 3 + j]) < 1e-12)
        } }
    }

    @Test func setWithItselfIsZero() throws {
        let x = RandomGenerator(seed: 1).normal([200, 16])
        let d = try FrechetDistance.distance(x, x)
        #expect(abs(d) < 1e-9)
        let y = RandomGenerator(seed: 2).normal([200, 16]) + 0.5
        #expect(try FrechetDistance.distance(x, y) > 16 * 0.25 * 0.5)
    }

    /// Commuting covariances Σ = R·diag(·)·Rᵀ: the distance is ‖μ₁ − μ₂‖² + Σᵢ(√aᵢ − √bᵢ)². R = I is the
    /// diagonal case; a rotation exercises the eigenvectors.
    @Test(arguments: [false, true]) func matchesGaussianClosedForm(rotated: Bool) throws {
        let a: [Double] = [1, 4, 0.25], b: [Double] = [9, 1, 0.25]
        let m1: [Double] = [0, 1, 2], m2: [Double] = [1, -1, 2]
        let c = Foundation.cos(0.7), s = Foundation.sin(0.7)
        let r: [Double] = rotated ? [c, -s, 0, s, c, 0, 0, 0, 1] : [1, 0, 0, 0, 1, 0, 0, 0, 1]
        func cov(_ d: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: 9)
            for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { out[i * 3 + j] += r[i * 3 + k] * d[k] * r[j * 3 + k] } } }
            return out
        }
        let got = try FrechetDistance.distance(mean1: m1, covariance1: cov(a), mean2: m2, covariance2: cov(b))
        var want = 0.0
        for i in 0..<3 {
            let dm = m1[i] - m2[i], ds = a[i].squareRoot() - b[i].squareRoot()
            want += dm * dm + ds * ds
        }
        #expect(abs(got - want) < 1e-9 * want, "\(got) vs \(want)")
    }
}

/// Bitwise CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) and Adler-32 (RFC 1950), written
/// independently of zlib.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}

func referenceAdler32(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1, b: UInt32 = 0
    for x in bytes { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
    return (b << 16) | a
}

func bigEndian(_ b: [UInt8], _ at: Int) -> UInt32 { b[at...(at + 3)].reduce(0) { ($0 << 8) | UInt32($1) } }

@Suite("PNG")
struct PNGTests {
    static let width = 13, height = 7
    static let pixels: [UInt8] = (0..<(width * height)).map { UInt8(($0 * 37) % 256) }

    /// Signature, IHDR fields, every chunk's CRC, and the IDAT zlib stream (header, Adler-32 of the
    /// filtered scanlines, which inflate back to filter byte 0 + the pixels of each row).
    @Test func headerChunksCRCAndAdler() throws {
        let bytes = [UInt8](try PNG.encodeGray(Self.pixels, width: Self.width, height: Self.height))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var at = 8
        var chunks: [(String, [UInt8])] = []
        while at < bytes.count {
            let length = Int(bigEndian(bytes, at))
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            let body = Array(bytes[(at + 8)..<(at + 8 + length)])
            #expect(bigEndian(bytes, at + 8 + length) == referenceCRC32(Array(bytes[(at + 4)..<(at + 8 + length)])), "CRC of \(type)")
            chunks.append((type, body))
            at += 12 + length
        }
        #expect(at == bytes.count)
        #expect(chunks.map(\.0) == ["IHDR", "IDAT", "IEND"])
        let ihdr = chunks[0].1
        #expect(bigEndian(ihdr, 0) == UInt32(Self.width) && bigEndian(ihdr, 4) == UInt32(Self.height) && Array(ihdr[8...]) == [8, 0, 0, 0, 0])
        let idat = chunks[1].1
        #expect(idat[0] & 0x0F == 8 && (UInt32(idat[0]) * 256 + UInt32(idat[1])) % 31 == 0)  // deflate, FCHECK (RFC 1950)
        var raw: [UInt8] = []
        for y in 0..<Self.height { raw += [0] + Self.pixels[(y * Self.width)..<((y + 1) * Self.width)] }
        #expect(bigEndian(idat, idat.count - 4) == referenceAdler32(raw))
        var inflated = [UInt8](repeating: 0, count: raw.count + 16)
        var length = uLong(inflated.count)
        #expect(uncompress(&inflated, &length, idat, uLong(idat.count)) == Z_OK)
        #expect(Array(inflated.prefix(Int(length))) == raw)
        #expect(chunks[2].1.isEmpty)
    }

    /// Pillow decodes a written grid to the same pixels (dev check; skipped without Pillow).
    @Test(.enabled(if: PythonCheck.available("PIL"))) func decodesInPillow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seppo-png-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = RandomGenerator(seed: 1).uniform([12, 1, 8, 8], low: -1, high: 1)
        let grid = ImageGrid.render(images, labels: Array(0..<12).map { $0 % 10 }, columns: 5, scale: 3)
        let png = dir.appendingPathComponent("grid.png"), raw = dir.appendingPathComponent("grid.raw")
        try ImageGrid.writePNG(images, labels: Array(0..<12).map { $0 % 10 }, columns: 5, scale: 3, to: png)
        try Data(grid.pixels).write(to: raw)
        let (status, output) = try PythonCheck.run(devScript: "check_png.py", [png.path, raw.path, String(grid.width), String(grid.height)])
        #expect(status == 0, "\(output)")
    }

    @Test func gridLayoutAndLabels() {
        let images = Tensor(repeating: 1, shape: [3, 1, 8, 8])
        let g = ImageGrid.render(images, labels: [1, 7, 0], columns: 2, scale: 2)
        // 2 columns of (16 + 2) plus 2 padding; 2 rows of (16 + 7 + 2) plus 2.
        #expect(g.width == 38 && g.height == 52)
        // The glyph "1" starts with row pattern 2 (middle column lit) at the first cell's corner.
        #expect(g.pixels[2 * g.width + 2] == 48 && g.pixels[2 * g.width + 3] == 255)
        // A white image pixel below the label strip.
        #expect(g.pixels[(2 + 7) * g.width + 2] == 255)
        // At scale 4 the glyphs double: a 12-pixel label strip, and "1"'s top row lights columns 2–3 of 6.
        let big = ImageGrid.render(images, labels: [1, 7, 0], columns: 3, scale: 4)
        #expect(big.width == 3 * 34 + 2 && big.height == 32 + 12 + 2 + 2)
        #expect(big.pixels[2 * big.width + 3] == 48 && big.pixels[2 * big.width + 4] == 255 && big.pixels[3 * big.width + 5] == 255)
    }
}

@Suite("Preference trainer")
struct TrainerTests {
    static func winners(_ n: Int, seed: UInt64) -> DigitsData {
        DigitsData(images: RandomGenerator(seed: seed).uniform([n, 1, 8, 8], low: -1, high: 1), labels: (0..<n).map { $0 % 10 })
    }

    static func settings(_ method: AlignmentMethod) -> AlignmentSettings {
        var s = AlignmentSettings()
        s.method = method
        s.batchSize = 4
        s.steps = 6
        s.bankEvery = 2
        s.samplingSteps = 2
        s.beta = 500
        return s
    }

    /// SePPO's bank grows every N updates; the metrics are logged; a run saved after 3 updates and
    /// resumed ends with the same weights and bank as one run straight through.
    @Test func seppoBankGrowsAndResumesBitIdentically() throws {
        let base = tinyUNet(seed: 1), data = Self.winners(12, seed: 2), objective = ImageModel.defaultObjective
        let straight = try PreferenceTrainer(base: base, objective: objective, winners: data, settings: Self.settings(.seppo))
        var last: [String: Float] = [:]
        for _ in 0..<6 { last = straight.trainStep() }
        #expect(straight.bank.count == 4)
        for key in ["loss", "implicit_acc", "flip_rate", "mse_model", "mse_ref", "ref_index"] { #expect(last[key] != nil, "\(key)") }
        #expect(straight.model.stem.weight.value.scalars != base.stem.weight.value.scalars)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seppo-resume-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = try PreferenceTrainer(base: base, objective: objective, winners: data, settings: Self.settings(.seppo))
        for _ in 0..<3 { _ = first.trainStep() }
        try first.save(to: url)
        let second = try PreferenceTrainer(base: base, objective: objective, winners: data, settings: Self.settings(.seppo))
        try second.resume(from: url)
        #expect(second.step == 3 && second.bank.count == 2)
        for _ in 0..<3 { _ = second.trainStep() }
        for ((n, p), (_, q)) in zip(straight.model.namedParameters(), second.model.namedParameters()) { #expect(p.value.scalars == q.value.scalars, "\(n)") }
        #expect(second.bank.count == 4)
        #expect(second.bank[3].stem.weight.value.scalars == straight.bank[3].stem.weight.value.scalars)
        // The aligned checkpoint loads as a digits generator.
        let (loaded, loadedObjective) = try ImageModel.load(url)
        #expect(loadedObjective == objective && loaded.config == base.config)
        // Other settings do not resume.
        var changed = Self.settings(.seppo)
        changed.beta = 10
        #expect(throws: Checkpoint.Error.self) { try PreferenceTrainer(base: base, objective: objective, winners: data, settings: changed).resume(from: url) }
    }

    /// SPIN: always the latest snapshot, never flips. Diffusion-DPO: the base is the only reference
    /// and it needs losers. SFT: the plain denoising loss.
    @Test func baselinePresets() throws {
        let base = tinyUNet(seed: 1), data = Self.winners(12, seed: 2), objective = ImageModel.defaultObjective
        let spin = try PreferenceTrainer(base: base, objective: objective, winners: data, settings: Self.settings(.spin))
        for i in 0..<5 {
            let m = spin.trainStep()
            #expect(m["flip_rate"] == 0 && m["ref_index"] == Float(i / 2))
        }
        #expect(throws: SePPOTrainingError.losersMissing) { try PreferenceTrainer(base: base, objective: objective, winners: data, settings: Self.settings(.dpo)) }
        let losers = Degradation.degrade(data.images, rng: RandomGenerator(seed: 3)).images
        let dpo = try PreferenceTrainer(base: base, objective: objective, winners: data, losers: losers, settings: Self.settings(.dpo))
        let first = dpo.trainStep()
        // At step 0 the model equals its reference: z = 0, loss log 2.
        #expect(abs(first["loss"]! - Float(Foundation.log(2.0))) < 1e-4)
        for _ in 0..<4 { #expect(dpo.trainStep()["ref_index"] == 0) }
        #expect(dpo.bank.count == 1)
        let sft = try PreferenceTrainer(base: base, objective: objective, winners: data, settings: Self.settings(.sft))
        let m = sft.trainStep()
        #expect(m["loss"] == m["mse_model"] && m["flip_rate"] == nil)
    }

    /// The probe samples reference and model from the same noise (identical while the model equals
    /// θ₀, so every anchor ties to +1); the monitor logs one curve point per call and counts every
    /// probe row once; training is not disturbed (its generator does not move).
    @Test func probeAndMonitor() throws {
        let base = tinyUNet(seed: 1), data = Self.winners(12, seed: 2)
        let trainer = try PreferenceTrainer(base: base, objective: ImageModel.defaultObjective, winners: data, settings: Self.settings(.seppo))
        let p = trainer.probe(count: 5, seed: 3)
        #expect(p.referenceSamples.shape == [5, 1, 8, 8] && p.referenceSamples.scalars == p.modelSamples.scalars)
        #expect(p.signs == [1, 1, 1, 1, 1] && p.referenceIndex == 0)
        let scorer = DigitScorer(config: .init(), rng: RandomGenerator(seed: 4))
        let monitor = AlignmentMonitor(scorer: scorer, perClass: 1, probeSize: 6, seed: 5)
        let noiseBefore = trainer.rng.state
        monitor.record(trainer)
        #expect(trainer.rng.state == noiseBefore && trainer.model.isTraining)
        for _ in 0..<2 { _ = trainer.trainStep() }
        monitor.record(trainer)
        #expect(monitor.curve.map(\.step) == [0, 2] && monitor.curve.allSatisfy { $0.score.isFinite && $0.score <= 0 })
        #expect(monitor.flipped + monitor.kept == 12 && monitor.flippedReferenceBetter <= monitor.flipped && monitor.keptReferenceBetter <= monitor.kept)
    }
}

/// Seeded mutation fuzzing of the digits CSV loader (docs/conventions.md, Errors): every mutant of
/// the vendored file's first rows parses or fails with a typed one-line error naming the line.
@Suite("digits CSV fuzzing")
struct DigitsFuzzTests {
    @Test func mutatedCSVParsesOrFailsCleanly() throws {
        let text = try String(contentsOf: digitsURL, encoding: .utf8)
        let head = Data(text.split(separator: "\n", omittingEmptySubsequences: false).prefix(40).joined(separator: "\n").utf8)
        let m = Mutator(seed: 11)
        var failed = 0
        for i in 0..<3000 {
            let mutant = String(decoding: m.mutate(head), as: UTF8.self)
            do { _ = try DigitsData.parse(mutant, path: "fuzz.csv") } catch let e as DigitsError {
                failed += 1
                #expect(!e.description.contains("\n"), "iteration \(i): \(e)")
            }
        }
        #expect(failed > 0 && failed < 3000)
    }
}
