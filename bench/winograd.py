#!/usr/bin/env python3
"""Winograd against the direct path (issue #30 item 2): the same `diffuse bench core` workloads with every eligible
convolution forced to one algorithm (PD_CONV_ALGO=direct | winograd; other shapes run direct either way), rounds
alternating between the two. A cell is the median over rounds of that run's median ms; ratio = direct ÷ Winograd
(> 1: Winograd is faster). Run it on a quiet machine.

  python3 bench/winograd.py --diffuse .build/release/diffuse [--only conv1d,conv2d,unet1d_train_step] [--rounds 3] [--threads 1]
"""
import argparse
import json
import os
import statistics
import subprocess

p = argparse.ArgumentParser()
p.add_argument("--diffuse", required=True)
p.add_argument("--only", default="conv1d,conv2d,unet1d_train_step,unet2d_train_step,pgd_generate,seppo_dpo_step")
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--repeats", type=int, default=10)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

cells = {}
for _ in range(a.rounds):
    for algo in ("direct", "winograd"):
        out = subprocess.run([a.diffuse, "bench", "core", "--only", a.only, "--threads", str(a.threads), "--repeats", str(a.repeats),
                              "--warmup", "2", "--json", "--quiet"], check=True, capture_output=True, text=True,
                             env={**os.environ, "PD_CONV_ALGO": algo}).stdout
        for r in json.loads(out)["results"]:
            cells.setdefault(r["name"], {}).setdefault(algo, []).append(r["median_ms"])
print(f"{a.rounds} rounds, {a.threads} thread(s), medians of {a.repeats} repeats each\n")
print("| workload | direct ms | Winograd ms | direct ÷ Winograd |\n|---|---|---|---|")
for name, c in cells.items():
    d, w = statistics.median(c["direct"]), statistics.median(c["winograd"])
    print(f"| {name} | {d:.3f} | {w:.3f} | {d / w:.2f}× |")
