"""Table of the SePPO experiment (experiments/seppo.sh): held-out score mean ± std over seeds, paired
win rates with hierarchical bootstrap CIs, diversity, feature FD, flip rate → docs/seppo-results.md.
Usage: seppo_table.py ROWS.jsonl OUT.md [--command CMD]."""
import argparse
import json
import random
import statistics

ORDER = ["base", "sft", "dpo", "spin", "seppo-random-sign", "seppo-random-indicator", "seppo-random-off", "seppo-initial-sign", "seppo-latest-sign"]
LABELS = {
    "base": "Base", "sft": "SFT", "dpo": "Diffusion-DPO (oracle pairs)", "spin": "SPIN",
    "seppo-random-sign": "SePPO (random, AAF sign)", "seppo-random-indicator": "SePPO (random, AAF indicator)",
    "seppo-random-off": "SePPO (random, no AAF)", "seppo-initial-sign": "SePPO (ref = initial, sign)", "seppo-latest-sign": "SePPO (ref = latest, sign)",
}
BASELINES = ["base", "sft", "spin"]


def mean_std(values):
    if not values:
        return "–"
    m = statistics.fmean(values)
    s = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{m:.3f} ± {s:.3f}"


def win_rate(rows, method, baseline, rng, resamples=2000):
    """Fraction of paired samples (same seed, same sampling noise) with S(method) > S(baseline), ties
    half; 95 % CI from a hierarchical bootstrap (seeds, then samples within a seed)."""
    per_seed = {}
    for seed in sorted({r["seed"] for r in rows}):
        a = next((r for r in rows if r["seed"] == seed and r["method"] == method), None)
        b = next((r for r in rows if r["seed"] == seed and r["method"] == baseline), None)
        if a and b:
            per_seed[seed] = [1.0 if x > y else 0.5 if x == y else 0.0 for x, y in zip(a["scores"], b["scores"])]
    if not per_seed:
        return None
    seeds = list(per_seed)
    point = statistics.fmean(v for s in seeds for v in per_seed[s])
    stats = []
    for _ in range(resamples):
        total, n = 0.0, 0
        for s in (rng.choice(seeds) for _ in seeds):
            w = per_seed[s]
            for _ in range(len(w)):
                total += w[rng.randrange(len(w))]
            n += len(w)
        stats.append(total / n)
    stats.sort()
    return point, stats[int(0.025 * resamples)], stats[int(0.975 * resamples) - 1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows")
    p.add_argument("out")
    p.add_argument("--command", default="make experiment-seppo")
    a = p.parse_args()
    rows = [json.loads(line) for line in open(a.rows) if line.strip()]
    methods = [m for m in ORDER if any(r["method"] == m for r in rows)] + sorted({r["method"] for r in rows} - set(ORDER))
    seeds = sorted({r["seed"] for r in rows})
    rng = random.Random(0)
    out = ["# SePPO on 8×8 digits: results", "",
           f"Command: `{a.command}` — {len(seeds)} seed(s) ({', '.join(map(str, seeds))}). Setup and metrics: "
           "[seppo.md](seppo.md) §6 and \"Implementation in this repo\". Every aligned model starts from its seed's base model and "
           "takes the same number of updates on the same number of preferred digits per update. The held-out score S = log p(c | x) "
           "comes from a classifier trained on a split that no generator sees. Mean ± std over seeds of each seed's mean over its samples.", "",
           "| method | held-out score S | accuracy | degraded (detector) | diversity | feature FD | flip rate | implicit acc. | align s |",
           "|---|---|---|---|---|---|---|---|---|"]
    for m in methods:
        rs = [r for r in rows if r["method"] == m]
        al = [r["align"] for r in rs if r.get("align")]
        out.append("| " + " | ".join([
            LABELS.get(m, m), mean_std([r["mean_score"] for r in rs]), mean_std([r["accuracy"] for r in rs]),
            mean_std([r["degraded_fraction"] for r in rs]), mean_std([r["diversity"] for r in rs]), mean_std([r["frechet"] for r in rs]),
            mean_std([x["mean_flip_rate"] for x in al]) if al else "–", mean_std([x["mean_implicit_accuracy"] for x in al]) if al and m != "sft" else "–",
            mean_std([x["seconds"] for x in al]) if al else "–"]) + " |")
    out += ["", "## Paired win rates (95 % bootstrap CI)", "",
            "Fraction of paired samples (same seed, class and DDIM noise) on which the method's S beats the baseline's; "
            "CIs resample seeds, then samples within a seed (2000 resamples). 0.5 = no difference.", "",
            "| method | " + " | ".join(f"vs {LABELS[b]}" for b in BASELINES) + " |", "|---|" + "---|" * len(BASELINES)]
    for m in methods:
        if m == "base":
            continue
        cells = []
        for b in BASELINES:
            w = win_rate(rows, m, b, rng) if b != m else None
            cells.append("–" if w is None else f"{w[0]:.3f} [{w[1]:.3f}, {w[2]:.3f}]")
        out.append(f"| {LABELS.get(m, m)} | " + " | ".join(cells) + " |")
    out += ["", "Grids (seed 0, one column per class, same sampling noise): base "
            "![base](figures/seppo-base.png) SFT ![sft](figures/seppo-sft.png) SePPO (random, sign) ![seppo](figures/seppo-aligned.png)", ""]
    open(a.out, "w").write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
