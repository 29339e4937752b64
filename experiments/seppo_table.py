"""Table of the SePPO experiment (experiments/seppo.sh): score mean ± std over seeds, paired win rates
with hierarchical bootstrap CIs, the setup's diagnostics (digits: accuracy, degradation, diversity,
feature FD; trajectories: reward, roughness, valid starts, plan error), flip rate → docs/seppo-results.md
or docs/seppo-trajectories-results.md.
Usage: seppo_table.py ROWS.jsonl OUT.md [--setup digits|trajectories] [--command CMD] [--svg FILE]."""
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
# Per setup: the title, what S is, the sample unit, and the diagnostic columns (header, row key).
SETUPS = {
    "digits": dict(
        title="SePPO on 8×8 digits: results", section="§6", unit="digits",
        score="held-out score S",
        about="The held-out score S = log p(c | x) comes from a classifier trained on a split that no generator sees.",
        pairing="same seed, class and DDIM noise",
        columns=[("accuracy", "accuracy"), ("degraded (detector)", "degraded_fraction"), ("diversity", "diversity"), ("feature FD", "frechet")]),
    "trajectories": dict(
        title="SePPO on {env} windows: results", section="§7", unit="windows",
        score="path score S",
        about="S is exact: each window's actions are replayed in the environment from its first state; S = mean reward − 0.25 × mean squared action change (docs/seppo.md §7). It never enters a loss; it only ranks the dataset's windows into the preferred set.",
        pairing="same seed and sampling noise",
        columns=[("reward", "mean_reward"), ("roughness", "mean_roughness"), ("valid starts", "valid_fraction"), ("plan error", "plan_error")]),
}


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


def write_curves(rows, methods, path, ylabel):
    """Score-vs-step polylines, one per method (mean over seeds), as a small SVG."""
    curves = {}
    for m in methods:
        per_seed = [r["align"]["curve"] for r in rows if r["method"] == m and r.get("align", {}).get("curve")]
        if not per_seed:
            continue
        steps = [c[0] for c in per_seed[0]]
        curves[m] = [(s, statistics.fmean(c[i][1] for c in per_seed if len(c) > i)) for i, s in enumerate(steps)]
    if not curves:
        return
    xs = [s for c in curves.values() for s, _ in c]
    ys = [v for c in curves.values() for _, v in c]
    x0, x1, y0, y1 = min(xs), max(xs) or 1, min(ys), max(ys)
    if y1 == y0:
        y1 = y0 + 1
    W, H, L, B = 640, 360, 60, 40
    def px(s): return L + (s - x0) / max(x1 - x0, 1) * (W - L - 170)
    def py(v): return H - B - (v - y0) / (y1 - y0) * (H - B - 20)
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
             f'<rect width="{W}" height="{H}" fill="white"/>',
             f'<line x1="{L}" y1="{H - B}" x2="{W - 170}" y2="{H - B}" stroke="black"/><line x1="{L}" y1="20" x2="{L}" y2="{H - B}" stroke="black"/>',
             f'<text x="{(L + W - 170) / 2}" y="{H - 8}" text-anchor="middle">update</text>',
             f'<text x="14" y="{H / 2}" transform="rotate(-90 14 {H / 2})" text-anchor="middle">{ylabel}</text>',
             f'<text x="{L - 4}" y="{py(y1) + 4}" text-anchor="end">{y1:.2f}</text><text x="{L - 4}" y="{py(y0) + 4}" text-anchor="end">{y0:.2f}</text>',
             f'<text x="{L}" y="{H - B + 14}" text-anchor="middle">{x0}</text><text x="{W - 170}" y="{H - B + 14}" text-anchor="middle">{x1}</text>']
    for i, (m, c) in enumerate(curves.items()):
        color = colors[i % len(colors)]
        points = " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in c)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>')
        parts.append(f'<text x="{W - 160}" y="{30 + 16 * i}" fill="{color}">{LABELS.get(m, m)}</text>')
    parts.append("</svg>")
    open(path, "w").write("\n".join(parts))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows")
    p.add_argument("out")
    p.add_argument("--command", default="make experiment-seppo")
    p.add_argument("--setup", choices=sorted(SETUPS), default="digits")
    p.add_argument("--svg", help="write the score-vs-step curves (mean over seeds) here")
    p.add_argument("--settings", action="store_true", help="label each method with its setting (a sweep's picks) and link no grids")
    a = p.parse_args()
    rows = [json.loads(line) for line in open(a.rows) if line.strip()]
    # A run scored at snapshots (STEPS=210+630) has a row per snapshot: the table reports each method's last.
    last = {}
    for r in rows:
        if r.get("align"):
            last[r["method"]] = max(last.get(r["method"], 0), int(r["align"].get("steps", 0)))
    rows = [r for r in rows if not r.get("align") or int(r["align"].get("steps", 0)) == last[r["method"]]]
    methods = [m for m in ORDER if any(r["method"] == m for r in rows)] + sorted({r["method"] for r in rows} - set(ORDER))
    seeds = sorted({r["seed"] for r in rows})
    rng = random.Random(0)
    st = SETUPS[a.setup]
    envs = sorted({r["env"] for r in rows if r.get("env")})
    out = [f"# {st['title'].format(env=' / '.join(envs) or 'pointmaze-umaze')}", "",
           f"Command: `{a.command}` — {len(seeds)} seed(s) ({', '.join(map(str, seeds))}). Setup and metrics: "
           f"[seppo.md](seppo.md) {st['section']} and \"Implementation in this repo\". Every aligned model starts from its seed's base model and "
           f"takes the same number of updates on the same number of preferred {st['unit']} per update. {st['about']} "
           "Mean ± std over seeds of each seed's mean over its samples.", "",
           f"| method | {st['score']} | " + " | ".join(h for h, _ in st["columns"]) + " | flip rate | implicit acc. | align s (incl. diagnostics) |",
           "|---|---|" + "---|" * len(st["columns"]) + "---|---|---|"]
    for m in methods:
        rs = [r for r in rows if r["method"] == m]
        al = [r["align"] for r in rs if r.get("align")]
        if a.settings:  # a sweep's test phase: each method at its own picked setting
            ss = sorted({(x["beta"], x["lr"], x["steps"]) for x in al if "beta" in x})
            label = LABELS.get(m, m) + "".join(f" (β {b:g}, lr {lr:g}, {n} updates)" if m != "sft" else f" (lr {lr:g}, {n} updates)" for b, lr, n in ss)
        else:
            label = LABELS.get(m, m)
        out.append("| " + " | ".join([label, mean_std([r["mean_score"] for r in rs])]
                                     + [mean_std([r[k] for r in rs]) for _, k in st["columns"]] + [
            mean_std([x["mean_flip_rate"] for x in al]) if al else "–", mean_std([x["mean_implicit_accuracy"] for x in al]) if al and m != "sft" else "–",
            mean_std([x["seconds"] for x in al]) if al else "–"]) + " |")
    out += ["", "## Paired win rates (95 % bootstrap CI)", "",
            f"Fraction of paired samples ({st['pairing']}) on which the method's S beats the baseline's; "
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
    out += ["", "## The flipper's precision", "",
            f"On probe batches during alignment (32 preferred {st['unit']} every evaluation), the anchor test's sign is computed for "
            "the method's reference, and S compares a reference sample with a sample of the current model "
            f"({st['pairing']}). A useful flipper has P(S(x^ref) > S(x_θ) | sign = −1) well above the same given sign = +1 "
            "(docs/seppo.md §6, Report 4). Pooled over seeds and evaluations.", "",
            "| method | rows with sign −1 | ref sample better, sign −1 | rows with sign +1 | ref sample better, sign +1 |", "|---|---|---|---|---|"]
    for m in methods:
        fp = [r["align"]["flip_precision"] for r in rows if r["method"] == m and r.get("align", {}).get("flip_precision")]
        if not fp or not sum(x["flipped"] + x["kept"] for x in fp):
            continue
        f, fb = sum(x["flipped"] for x in fp), sum(x["flipped_reference_better"] for x in fp)
        k, kb = sum(x["kept"] for x in fp), sum(x["kept_reference_better"] for x in fp)
        out.append(f"| {LABELS.get(m, m)} | {f} | {fb / f:.3f} |" if f else f"| {LABELS.get(m, m)} | 0 | – |")
        out[-1] += f" {k} | {kb / k:.3f} |" if k else " 0 | – |"
    if a.svg:
        write_curves(rows, methods, a.svg, st["score"])
        curve = "10 samples per class" if a.setup == "digits" else "64 windows"
        out += ["", f"S against update (mean over seeds; {curve}, fixed noise): ![curves](figures/{a.svg.split('/')[-1]})"]
    if a.setup == "digits" and not a.settings:
        out += ["", "Grids (seed 0, one column per class, same sampling noise): base "
                "![base](figures/seppo-base.png) SFT ![sft](figures/seppo-sft.png) SePPO (random, sign) ![seppo](figures/seppo-aligned.png)"]
    out.append("")
    open(a.out, "w").write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
