#!/usr/bin/env python3
"""Side-by-side table of two benchmark JSON files (ours and PyTorch's), ratio = torch ÷ ours.
Usage: compare.py OURS.json TORCH.json [--markdown OUT.md --command "what produced it"]"""
import argparse
import json

p = argparse.ArgumentParser()
p.add_argument("ours")
p.add_argument("torch")
p.add_argument("--markdown")
p.add_argument("--command", default="make bench-compare")
a = p.parse_args()
ours = json.load(open(a.ours))
theirs = json.load(open(a.torch))
by_name = {r["name"]: r for r in theirs["results"]}
how = ("two processes side by side, turns of ≥ 0.3 s alternating between them (ours, PyTorch, PyTorch, ours, …; "
       "bench/paired.py), medians and minima of all turns' repetitions" if ours.get("paired") else "medians of the stated repeats")
lines = [
    f"Command: `{a.command}` — {ours['library']} vs {theirs['library']} (eager, CPU), {ours['threads']} threads each, "
    f"{how}, after warm-up (docs/bench-workloads.md). Ratio = PyTorch time ÷ our time (> 1: we are faster).",
    "",
    "| workload | ours median ms | ours min ms | PyTorch median ms | PyTorch min ms | ratio | ours peak RSS MiB | PyTorch peak RSS MiB |",
    "|---|---|---|---|---|---|---|---|",
]
for r in ours["results"]:
    t = by_name.get(r["name"])
    if t is None:
        continue
    ratio = t["median_ms"] / r["median_ms"]
    lines.append(f"| {r['name']} | {r['median_ms']:.3f} | {r['min_ms']:.3f} | {t['median_ms']:.3f} | {t['min_ms']:.3f} | "
                 f"**{ratio:.2f}×** | {r.get('peak RSS MiB', 0):.0f} | {t.get('peak RSS MiB', 0):.0f} |")
table = "\n".join(lines)
print(table)
if a.markdown:
    with open(a.markdown, "w") as f:
        f.write(table + "\n")
