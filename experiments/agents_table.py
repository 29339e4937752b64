"""Aggregates experiments/offline_agents.sh results into a markdown table (mean ± std over seeds)."""
import argparse, json, statistics, collections

p = argparse.ArgumentParser()
p.add_argument("results"); p.add_argument("markdown"); p.add_argument("--command", required=True)
a = p.parse_args()
rows = [json.loads(l) for l in open(a.results) if l.strip()]
by = collections.defaultdict(list)
for r in rows:
    by[(r["environment"], r["algo"])].append(r)
envs = sorted({r["environment"] for r in rows})
algos = ["bc", "td3bc", "iql"]
lines = ["# Offline agents on mixed data", "",
         f"Produced by `{a.command}` (one thread per run). Normalized score = 100 (R − random) / (expert − random) "
         "with the references of `diffuse env list`; each cell is the mean ± std over seeds of the 50-episode mean score "
         "(per-seed scores in brackets).", "",
         "| environment | " + " | ".join(algos) + " | TD3+BC > BC | IQL > BC |", "|---|" + "---|" * (len(algos) + 2)]
for env in envs:
    cells, means = [], {}
    for algo in algos:
        s = [r["normalizedScoreMean"] for r in sorted(by[(env, algo)], key=lambda r: r["seed"])]
        if not s: cells.append("–"); continue
        means[algo] = statistics.mean(s)
        sd = statistics.stdev(s) if len(s) > 1 else 0.0
        cells.append(f"{means[algo]:.1f} ± {sd:.1f} [{', '.join(f'{x:.1f}' for x in s)}]")
    beat = lambda x: ("yes" if means.get(x, -1e9) > means.get("bc", 1e9) else "no")
    lines.append(f"| {env} | " + " | ".join(cells) + f" | {beat('td3bc')} | {beat('iql')} |")
steps = sorted({r["steps"] for r in rows})
lines += ["", f"Gradient steps per run: {', '.join(map(str, steps))}. Raw results: `experiments/results/agents.jsonl`."]
# Everything from the methods marker on is hand-written (the algorithms and their equations): kept.
MARKER = "<!-- methods: kept by experiments/agents_table.py -->"
try:
    old = open(a.markdown).read()
    kept = old[old.index(MARKER):] if MARKER in old else ""
except FileNotFoundError:
    kept = ""
open(a.markdown, "w").write("\n".join(lines) + "\n" + ("\n" + kept if kept else ""))
