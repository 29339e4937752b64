#!/usr/bin/env python3
"""Repeats a paired comparison (bench/paired.py) ROUNDS times and tables each round's ratio and
their median, per workload. Why: on the shared development VM one paired run's ratio moves by up to
±20 % between minutes (docs/bench-methods.md), so issue L's ratios are quoted as the median of rounds.

Usage: rounds.py --diffuse BIN --python PY [--rounds 3] [--threads 2] [--repeats 20] --only NAMES
                 [--goals name=2,name=1.5] [--markdown OUT.md --command "what produced it"]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

p = argparse.ArgumentParser()
p.add_argument("--diffuse", required=True)
p.add_argument("--python", required=True)
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--repeats", type=int, default=20)
p.add_argument("--only", required=True, help="comma-separated workload groups")
p.add_argument("--goals", default="", help="name=ratio,… shown beside the medians")
p.add_argument("--markdown")
p.add_argument("--command", default="make bench-rounds")
a = p.parse_args()
here = os.path.dirname(os.path.abspath(__file__))
goals = dict(g.split("=") for g in a.goals.split(",") if g)

ratios = {}  # workload → [ratio per round]
order = []
with tempfile.TemporaryDirectory() as tmp:
    for r in range(a.rounds):
        ours, torch = os.path.join(tmp, f"ours{r}.json"), os.path.join(tmp, f"torch{r}.json")
        subprocess.run([sys.executable, os.path.join(here, "paired.py"), "--diffuse", a.diffuse, "--python", a.python,
                        "--threads", str(a.threads), "--repeats", str(a.repeats), "--only", a.only, ours, torch], check=True)
        theirs = {x["name"]: x for x in json.load(open(torch))["results"]}
        for x in json.load(open(ours))["results"]:
            if x["name"] not in theirs:
                continue
            if x["name"] not in ratios:
                order.append(x["name"])
            ratios.setdefault(x["name"], []).append(theirs[x["name"]]["median_ms"] / x["median_ms"])

rounds = " | ".join(f"round {r + 1}" for r in range(a.rounds))
lines = [f"Command: `{a.command}` — {a.rounds} rounds of bench/paired.py ({a.threads} threads, {a.repeats} repetitions "
         f"per side), ratio = PyTorch median ÷ ours per round.", "",
         f"| workload | {rounds} | median | goal |", "|---|" + "---|" * (a.rounds + 2)]
for name in order:
    rs = ratios[name]
    cells = " | ".join(f"{x:.2f}" for x in rs)
    lines.append(f"| {name} | {cells} | **{statistics.median(rs):.2f}×** | {('≥ ' + goals[name]) if name in goals else '—'} |")
table = "\n".join(lines)
print(table)
if a.markdown:
    with open(a.markdown, "w") as f:
        f.write(table + "\n")
