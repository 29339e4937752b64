#!/usr/bin/env python3
"""Runs our benchmark and PyTorch's side by side as two long-lived processes and alternates short
turns between them (ours, torch, torch, ours, ...; a turn = repetitions for ≥ 0.3 s), workload by
workload, until each side has --repeats repetitions from at least 6 turns.

Why: on a shared 2-vCPU VM the machine's speed changes within seconds (the host takes a vCPU
away, and a two-thread run then runs at one-thread speed). Timing all of our workloads and then
all of PyTorch's — or even alternating whole rounds — put the two sides of a ratio in different
machine states; alternating short turns gives both sides the same mixture of states. The first
repetition of a turn with three or more is dropped on both sides (it pays for the other process
having run: sleeping threads, evicted caches).

Both processes use the same glibc malloc tunables (large mmap and trim thresholds): the state a
long-running process reaches. A fresh process otherwise maps and unmaps every buffer above
128 KiB, page faults included — PyTorch's conv1d measured 2.0 ms that way in a process that ran
only conv1d, 0.85 ms after other workloads had run.

Protocol (Bench.measure in Harness.swift, measure() in pytorch_bench.py): each process announces
"ready NAME" per workload, then obeys "warmup" (→ "ok"), "turn" (→ comma-separated milliseconds)
and "next".
With --baseline OTHER_DIFFUSE instead of --python, the reference side is another build of ours
(A/B of a change on the same noisy machine: `make bench-ab BASELINE=path/to/old/diffuse`).
Writes both sides' results in the format of `diffuse bench core -o` / `pytorch_bench.py --json`,
so compare.py makes the table.
"""
import argparse
import atexit
import json
import os
import statistics
import subprocess
import sys
import tempfile

p = argparse.ArgumentParser()
p.add_argument("--diffuse", required=True)
side = p.add_mutually_exclusive_group(required=True)
side.add_argument("--python", help="PyTorch's side: this Python runs bench/pytorch_bench.py")
side.add_argument("--baseline", help="instead of PyTorch, another diffuse binary (A/B of two builds)")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--repeats", type=int, default=30)
p.add_argument("--warmup", type=int, default=5)
p.add_argument("--only", help="comma-separated workload groups (default: all)")
p.add_argument("ours_json")
p.add_argument("torch_json")
a = p.parse_args()
here = os.path.dirname(os.path.abspath(__file__))
env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(64 << 20), MALLOC_TRIM_THRESHOLD_=str(256 << 20))
common = ["--threads", str(a.threads), "--warmup", str(a.warmup), "--repeats", str(a.repeats), "--paired"]

with tempfile.TemporaryDirectory() as tmp:
    ours_out, torch_out = os.path.join(tmp, "ours.json"), os.path.join(tmp, "torch.json")
    ours_cmd = [a.diffuse, "bench", "core", *common, "-o", ours_out] + (["--only", a.only] if a.only else [])
    if a.baseline:
        torch_cmd = [a.baseline, "bench", "core", *common, "-o", torch_out] + (["--only", a.only] if a.only else [])
    else:
        torch_cmd = [a.python, os.path.join(here, "pytorch_bench.py"), *common, "--json", torch_out] + (a.only.split(",") if a.only else [])
    sides = {name: subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
             for name, cmd in (("ours", ours_cmd), ("torch", torch_cmd))}

    def stop_all():
        for proc in sides.values():
            if proc.poll() is None:
                proc.kill()

    atexit.register(stop_all)

    def send(side, command):
        sides[side].stdin.write(command + "\n")
        sides[side].stdin.flush()

    def reply(side):
        line = sides[side].stdout.readline()
        if not line:
            sys.exit(f"paired.py: the {side} process ended unexpectedly (exit {sides[side].wait()})")
        return line.strip()

    def ready(side):
        while True:
            line = sides[side].stdout.readline()
            if not line:
                return None
            if line.startswith("ready "):
                return line.split(" ", 1)[1].strip()

    while True:
        names = {side: ready(side) for side in sides}
        if names["ours"] != names["torch"]:
            sys.exit(f"paired.py: workloads out of step: ours {names['ours']}, torch {names['torch']}")
        name = names["ours"]
        if name is None:
            break
        for side in ("ours", "torch"):  # warm-ups run one after the other, never concurrently
            send(side, "warmup")
            reply(side)
        times = {"ours": [], "torch": []}
        turns = 0
        while turns < 6 or min(len(t) for t in times.values()) < a.repeats:
            for side in (("ours", "torch") if turns % 2 == 0 else ("torch", "ours")):
                send(side, "turn")
                times[side] += [float(t) for t in reply(side).split(",")]
            turns += 1
        for side in sides:
            send(side, "next")
        ratio = statistics.median(times["torch"]) / statistics.median(times["ours"])
        other = "baseline" if a.baseline else "torch"
        print(f"{name}: ours {statistics.median(times['ours']):.3f} ms, {other} {statistics.median(times['torch']):.3f} ms, "
              f"ratio {ratio:.2f}", file=sys.stderr)
    for side, proc in sides.items():
        proc.stdin.close()
        if proc.wait() != 0:
            sys.exit(f"paired.py: the {side} process failed (exit {proc.returncode})")
    for src, dst in ((ours_out, a.ours_json), (torch_out, a.torch_json)):
        with open(src) as f:
            report = json.load(f)
        report["paired"] = True
        with open(dst, "w") as f:
            json.dump(report, f)
