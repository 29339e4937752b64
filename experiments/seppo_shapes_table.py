#!/usr/bin/env python3
"""Table of the shapes alignment experiment (experiments/seppo_shapes.sh, issue #31) from its JSONL rows.

Usage: seppo_shapes_table.py ROWS.jsonl OUT.md --methods "base sft seppo" --command CMD
Per method: mean ± std over seeds of the warm fraction (the exact attribute), the Fréchet distances to the
preferred and to the base images, precision / recall of the preferred set and diversity; then each aligned
method's paired gain in warm fraction over its own base model, per seed.
"""
import argparse, json, statistics


def cell(xs, fmt):
    if not xs:
        return "–"
    return f"{statistics.mean(xs):{fmt}} ± {statistics.stdev(xs) if len(xs) > 1 else 0:{fmt}}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows")
    p.add_argument("out")
    p.add_argument("--methods", default="base sft seppo")
    p.add_argument("--command", required=True)
    a = p.parse_args()
    rows = [json.loads(l) for l in open(a.rows) if l.strip()]
    methods = a.methods.split()
    seeds = sorted({r["seed"] for r in rows})
    by = {(r["method"], r["seed"]): r for r in rows}
    cols = [("warm_fraction", "warm fraction ↑", ".3f"), ("frechet_preferred", "FD to preferred ↓", ".1f"), ("frechet_base", "FD to base", ".1f"),
            ("precision", "precision", ".3f"), ("recall", "recall", ".3f"), ("diversity", "diversity", ".2f"), ("train_seconds", "train s", ".0f")]
    out = ["# SePPO on RGB shapes: toward the warm colours", "",
           f"Produced by `{a.command}` (rows `{a.rows}`, seeds {', '.join(map(str, seeds))}). The base model learns shapes of every "
           "colour (about one in eight warm); SFT and SePPO align it toward a set of warm shapes only. The warm fraction is exact "
           "(`diffuse dataset shapes --judge`: the mean colour of a sample's bright pixels has red ahead of green and blue by 0.25); "
           "the Fréchet distances and precision / recall are measured in PCA features fitted on the base images "
           "(`diffuse seppo score --preferred --images`, docs/seppo.md). Mean ± std over seeds.", "",
           "| method | " + " | ".join(name for _, name, _ in cols) + " |", "|---|" + "---|" * len(cols)]
    for m in methods:
        rs = [by[(m, s)] for s in seeds if (m, s) in by]
        out.append(f"| {m} | " + " | ".join(cell([r[k] for r in rs], f) for k, _, f in cols) + " |")
    out += ["", "Gain in warm fraction over the same seed's base model:", ""]
    for m in methods:
        if m == "base":
            continue
        gains = [by[(m, s)]["warm_fraction"] - by[("base", s)]["warm_fraction"] for s in seeds if (m, s) in by and ("base", s) in by]
        if gains:
            out.append(f"- {m}: " + ", ".join(f"{g:+.3f}" for g in gains) + f" (mean {statistics.mean(gains):+.3f})")
    if len(methods) > 2 and all(x in methods for x in ("sft", "seppo")):
        d = [by[("seppo", s)]["warm_fraction"] - by[("sft", s)]["warm_fraction"] for s in seeds if ("seppo", s) in by and ("sft", s) in by]
        if d:
            out.append(f"- SePPO − SFT, per seed: " + ", ".join(f"{x:+.3f}" for x in d) + f" (SePPO at least as warm on {sum(x >= 0 for x in d)}/{len(d)} seeds)")
    out += ["", f"Samples of seed {seeds[0]}'s models, the same DDIM noise for each (columns: circle, square, triangle):", "",
            "| " + " | ".join(methods) + " |", "|" + "---|" * len(methods),
            "| " + " | ".join(f"![{m}](figures/seppo-shapes-{m}.png)" for m in methods) + " |"]
    with open(a.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
