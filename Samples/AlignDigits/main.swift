// AlignDigits: align a small image generator to preferred samples only, with SePPO (Zhang et al.
// 2024; docs/seppo.md): earlier checkpoints serve as references, the anchor flipper decides per
// sample whether the reference's sample is a loser.
//   swift run -c release AlignDigits [updates]
// Starts from the shipped digits base model and scores before/after with the held-out scorer.
import Foundation
import PolicyDiffusion

let updates = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 30
let (base, objective) = try ImageModel.load(URL(fileURLWithPath: "Checkpoints/digits-base.safetensors"))
let (scorer, _, _) = try Checkpoint.load(DigitScorer.self, from: URL(fileURLWithPath: "Checkpoints/digits-scorer.safetensors"))
scorer.eval()
let preferred = try DigitsData.load(URL(fileURLWithPath: "data/digits.csv")).split(.generator)   // clean digits only

var settings = AlignmentSettings()   // β 2000, bank every 30 updates, reference = random snapshot, AAF sign
settings.steps = updates
settings.bankEvery = 10
settings.flip = .indicator
let trainer = try PreferenceTrainer(base: base, objective: objective, winners: preferred, settings: settings)
try TrainingLoop(steps: updates, logEvery: max(updates / 3, 1)).run { _ in trainer.trainStep() }

func heldOutScore(_ model: UNet2D, scorer: DigitScorer, objective: DiffusionObjective) -> Float {
    let labels = (0..<100).map { $0 % 10 }
    model.eval()
    let x = ImageModel.sample(model, labels: labels, objective: objective, steps: 20, rng: RandomGenerator(seed: 3))
    let s = scorer.score(x, labels: labels)
    return s.reduce(0, +) / Float(s.count)
}
print(String(format: "held-out log p(c|x): base %.3f, after %d SePPO updates %.3f (bank of %d snapshots)",
             heldOutScore(base, scorer: scorer, objective: objective), updates,
             heldOutScore(trainer.model, scorer: scorer, objective: objective), trainer.bank.count))
try ImageGrid.writePNG(ImageModel.sample(trainer.model, labels: Array(0..<10), objective: objective, steps: 20, rng: RandomGenerator(seed: 4)),
                       labels: Array(0..<10), columns: 10, to: FileManager.default.temporaryDirectory.appendingPathComponent("aligned.png"))
