#!/usr/bin/env python3
"""Winograd against the direct path (issue #30 item 2): the same `diffuse bench core` workloads with every eligible
convolution forced to one algorithm (PD_CONV_ALGO=direct | winograd; other shapes run direct either way), or, with
--auto, the default choice (auto: Winograd for inference where it applies) against all-direct; rounds alternate
between the two. A cell is the median over rounds of that run's median ms, and "best" the fastest round's (the
figure least touched by the VM's slow rounds); ratios = direct ÷ the other (> 1: the other is faster). Run it on a
quiet machine.

  python3 bench/winograd.py --diffuse .build/release/diffuse [--only conv1d,conv2d,unet1d_train_step] [--rounds 3] [--threads 1] [--auto]
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
p.add_argument("--auto", action="store_true", help="compare the default choice (no PD_CONV_ALGO) with all-direct")
a = p.parse_args()
other = "auto" if a.auto else "winograd"

cells = {}
for _ in range(a.rounds):
    for algo in ("direct", other):
        env = {k: v for k, v in os.environ.items() if k != "PD_CONV_ALGO"}
        if algo != "auto":
            env["PD_CONV_ALGO"] = algo
        out = subprocess.run([a.diffuse, "bench", "core", "--only", a.only, "--threads", str(a.threads), "--repeats", str(a.repeats),
                              "--warmup", "2", "--json", "--quiet"], check=True, capture_output=True, text=True, env=env).stdout
        for r in json.loads(out)["results"]:
            cells.setdefault(r["name"], {}).setdefault(algo, []).append(r["median_ms"])
print(f"{a.rounds} rounds, {a.threads} thread(s), medians of {a.repeats} repeats each\n")
label = "auto" if a.auto else "Winograd"
print(f"| workload | direct ms | {label} ms | direct ÷ {label} | best: direct ÷ {label} |\n|---|---|---|---|---|")
for name, c in cells.items():
    d, w = statistics.median(c["direct"]), statistics.median(c[other])
    print(f"| {name} | {d:.3f} | {w:.3f} | {d / w:.2f}× | {min(c['direct']) / min(c[other]):.2f}× |")
