#!/usr/bin/env python3
"""Thread-pool behaviour beside a competing process (issue #30 item 4): does asking for 2 threads ever
cost more than 1 when another process wants a core?

For each workload, rounds alternate four conditions — 1 and 2 threads, alone and beside BUSY spinning
processes (pure-Python busy loops, the stand-in for another job on a shared machine) — each a fresh
`diffuse bench core --only W` run. A cell is the median over rounds of that run's median time; the
ratio columns are 2-thread time ÷ 1-thread time in the same state (< 1: the second thread helps; > 1: it
costs). --baseline runs another build in the same rounds, so an old and a new pool sit side by side;
--variant NAME:VAR=VALUE runs the new build again with one environment variable set (e.g. the pool's
spin before parking, spin50:PD_POOL_SPIN_US=50), so settings are compared in the same rounds too.

  python3 bench/contention.py --diffuse .build/release/diffuse [--baseline old/diffuse]
                              [--variant spin50:PD_POOL_SPIN_US=50 ...] [--rounds 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--diffuse", required=True)
p.add_argument("--baseline", help="another diffuse binary measured in the same rounds")
p.add_argument("--only", default="mlp_train_step,fisor_select_action_1,fisor_update,unet1d_train_step,conv2d")
p.add_argument("--rounds", type=int, default=5)
p.add_argument("--repeats", type=int, default=30)
p.add_argument("--variant", action="append", default=[], metavar="NAME:VAR=VALUE",
               help="the new build again with VAR=VALUE in its environment (repeatable)")
p.add_argument("--busy", type=int, default=1, help="competing busy processes")
p.add_argument("--json", help="write the raw cells here")
a = p.parse_args()

builds = [("new", a.diffuse, {})] + ([("baseline", a.baseline, {})] if a.baseline else [])
for v in a.variant:
    name, sep, assignment = v.partition(":")
    var, eq, value = assignment.partition("=")
    if not (sep and eq and name and var):
        sys.exit(f"error: --variant must be NAME:VAR=VALUE, got {v!r}")
    builds.append((name, a.diffuse, {var: value}))
workloads = a.only.split(",")


def run(binary, env, workload, threads):
    out = subprocess.run([binary, "bench", "core", "--only", workload, "--threads", str(threads),
                          "--repeats", str(a.repeats), "--warmup", "5", "--json"],
                         check=True, capture_output=True, text=True, env={**os.environ, **env}).stdout
    return {r["name"]: r["median_ms"] for r in json.loads(out)["results"]}


def busy_start():
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(a.busy)]


def busy_stop(procs):
    for q in procs:
        q.kill()
        q.wait()


cells = {}  # (build, state, threads, sub-workload) -> [ms per round]
for r in range(a.rounds):
    for state in ("alone", "busy"):
        procs = busy_start() if state == "busy" else []
        if procs:
            time.sleep(0.2)
        try:
            for w in workloads:
                for name, binary, env in builds:
                    for threads in (1, 2) if r % 2 == 0 else (2, 1):
                        for sub, ms in run(binary, env, w, threads).items():
                            cells.setdefault((name, state, threads, sub), []).append(ms)
        finally:
            busy_stop(procs)

subs = list(dict.fromkeys(k[3] for k in cells))  # in the order measured
med = {k: statistics.median(v) for k, v in cells.items()}
head = "| workload | " + " | ".join(
    f"{n}: 1 thr alone | {n}: 2 thr alone | {n}: 1 thr busy | {n}: 2 thr busy | {n}: 2÷1 alone | {n}: 2÷1 busy" for n, _, _ in builds) + " |"
print(f"{os.cpu_count()} CPUs, {a.busy} busy process(es), {a.rounds} rounds; median ms of each run's median\n")
print(head)
print("|" + "---|" * (1 + 6 * len(builds)))
for s in subs:
    row = [s]
    for n, _, _ in builds:
        c = [med[(n, st, t, s)] for st, t in (("alone", 1), ("alone", 2), ("busy", 1), ("busy", 2))]
        row += [f"{x:.3f}" for x in c] + [f"{c[1] / c[0]:.2f}", f"{c[3] / c[2]:.2f}"]
    print("| " + " | ".join(row) + " |")
# The fastest round is the figure least touched by a shared VM's noise (noise only adds time).
print("\nFastest round (ms)\n")
print("| workload | " + " | ".join(f"{n}: best 2 thr alone | {n}: best 2 thr busy" for n, _, _ in builds) + " |")
print("|" + "---|" * (1 + 2 * len(builds)))
for s in subs:
    print("| " + " | ".join([s] + [f"{min(cells[(n, st, 2, s)]):.3f}" for n, _, _ in builds for st in ("alone", "busy")]) + " |")
if a.json:
    with open(a.json, "w") as f:
        json.dump([{"build": k[0], "state": k[1], "threads": k[2], "workload": k[3], "ms": v} for k, v in cells.items()], f)
