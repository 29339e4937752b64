#!/usr/bin/env python3
"""Table of the diffusion-policy experiment (experiments/diffusion_policies.sh, issue #27) from its JSONL rows.

Usage: diffusion_policies_table.py ROWS.jsonl OUT.md --algos "bc td3bc iql diffusion-bc idql dql" --steps N --command CMD

Normalized score per environment and algorithm (mean ± std over seeds, then each seed's value), training seconds
per run, and the papers' ordering (Diffusion-QL, IDQL ≥ TD3+BC / IQL ≥ BC on mixed data) checked pair by pair:
the mean paired difference (same seed, same data) and on how many seeds it holds.
"""
import argparse
import collections
import json
import statistics

# (better, worse) as the papers claim on mixed D4RL data (Wang et al. 2023 Table 1; Hansen-Estruch et al. 2023 Table 1).
CLAIMS = [("dql", "td3bc"), ("dql", "iql"), ("idql", "td3bc"), ("idql", "iql"), ("td3bc", "bc"), ("iql", "bc"),
          ("dql", "diffusion-bc"), ("idql", "diffusion-bc")]


def cell(xs, fmt, per_seed=False):
    if not xs:
        return "–"
    s = f"{statistics.mean(xs):{fmt}} ± {statistics.stdev(xs) if len(xs) > 1 else 0:{fmt}}"
    return s + (" (" + ", ".join(f"{x:{fmt}}" for x in xs) + ")" if per_seed and len(xs) > 1 else "")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows")
    p.add_argument("out")
    p.add_argument("--algos", default="bc td3bc iql diffusion-bc idql dql")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--command", required=True)
    a = p.parse_args()
    algos = a.algos.split()
    rows = [json.loads(line) for line in open(a.rows) if line.strip()]
    rows = [r for r in rows if r.get("steps") == a.steps]
    score = {(r["environment"], r["algo"], r["seed"]): r["normalizedScoreMean"] for r in rows}
    by = collections.defaultdict(list)
    for r in sorted(rows, key=lambda r: r["seed"]):
        by[(r["environment"], r["algo"])].append(r)
    envs = sorted({r["environment"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    lines = ["# Diffusion policies next to the MLP agents on mixed data", "",
             f"Produced by `{a.command}` (one thread per run; rows `{a.rows}`, seeds {', '.join(map(str, seeds))}). "
             "Normalized score: mean ± std over seeds of each seed's mean over the evaluation episodes, then the seeds in order. "
             + (f"**Reduced budget: {a.steps} updates per run** (the script's default is 30000; the papers train 1–3 M)." if a.steps < 30000 else ""), "",
             "| environment | " + " | ".join(algos) + " |", "|---|" + "---|" * len(algos)]
    for env in envs:
        lines.append(f"| {env} | " + " | ".join(cell([r["normalizedScoreMean"] for r in by[(env, x)]], ".1f", True) for x in algos) + " |")
    lines += ["", "Training seconds per run (wall clock, one thread; the machine was shared, so read these as upper bounds):", "",
              "| environment | " + " | ".join(algos) + " |", "|---|" + "---|" * len(algos)]
    for env in envs:
        lines.append(f"| {env} | " + " | ".join(cell([r["train_seconds"] for r in by[(env, x)]], ".0f") for x in algos) + " |")
    lines += ["", "The papers' ordering, pair by pair: mean paired difference in normalized score (same seed, same data) "
              "and the seeds on which the first is at least as high.", "",
              "| claim | " + " | ".join(envs) + " |", "|---|" + "---|" * len(envs)]
    for better, worse in CLAIMS:
        if better not in algos or worse not in algos:
            continue
        cells = []
        for env in envs:
            d = [score[(env, better, s)] - score[(env, worse, s)] for s in seeds if (env, better, s) in score and (env, worse, s) in score]
            cells.append(f"{statistics.mean(d):+.1f} ({sum(x >= 0 for x in d)}/{len(d)})" if d else "–")
        lines.append(f"| {better} ≥ {worse} | " + " | ".join(cells) + " |")
    open(a.out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
