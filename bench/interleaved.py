#!/usr/bin/env python3
"""Runs our benchmark and PyTorch's workload by workload, alternating the two sides over several
rounds (ours, torch, torch, ours, ...), and pools each side's repetitions.

Why: on a shared VM the machine's speed drifts over minutes (a neighbour's load); running all of
our workloads and then all of PyTorch's put the two sides in different machine states, and a
ratio then measured the drift. Interleaving puts both sides of a ratio in the same minutes.

Writes the pooled results in the format of `diffuse bench core -o` and `pytorch_bench.py --json`
(median and minimum over all rounds), so compare.py makes the table.

Both sides run with the same glibc malloc tunables (large mmap and trim thresholds): the state a
long-running process reaches. A fresh process otherwise maps and unmaps every buffer above
128 KiB, page faults included — PyTorch's conv1d measured 2.0 ms that way in a process that ran
only conv1d, 0.85 ms after other workloads had run.
Usage: interleaved.py --diffuse BIN --python PY --threads T --rounds R --repeats N --warmup W OURS.json TORCH.json
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

GROUPS = ["sgemm_256", "sgemm_1024", "mlp_train_step", "mlp_sample_100", "fisor_actor_train_step", "fisor_select_action",
          "fisor_select_action_1", "unet1d_train_step", "unet1d_sample_100", "conv1d", "conv2d", "unet2d_train_step"]

p = argparse.ArgumentParser()
p.add_argument("--diffuse", required=True)
p.add_argument("--python", required=True)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--repeats", type=int, default=10, help="timed repetitions per round (rounds × repeats ≥ 20)")
p.add_argument("--warmup", type=int, default=3, help="warm-up runs per round")
p.add_argument("--only", default=",".join(GROUPS))
p.add_argument("ours_json")
p.add_argument("torch_json")
a = p.parse_args()
here = os.path.dirname(os.path.abspath(__file__))


def run(side, group, out):
    if side == "ours":
        cmd = [a.diffuse, "bench", "core", "--only", group, "--threads", str(a.threads), "--repeats", str(a.repeats),
               "--warmup", str(a.warmup), "-o", out]
    else:
        cmd = [a.python, os.path.join(here, "pytorch_bench.py"), "--threads", str(a.threads), "--repeats", str(a.repeats),
               "--warmup", str(a.warmup), "--json", out, group]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(64 << 20), MALLOC_TRIM_THRESHOLD_=str(256 << 20))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    with open(out) as f:
        return json.load(f)


pooled = {"ours": {}, "torch": {}}
header = {}
with tempfile.TemporaryDirectory() as tmp:
    for group in a.only.split(","):
        for r in range(a.rounds):
            order = ("ours", "torch") if r % 2 == 0 else ("torch", "ours")
            for side in order:
                report = run(side, group, os.path.join(tmp, f"{side}.json"))
                header[side] = {k: v for k, v in report.items() if k != "results"}
                for res in report["results"]:
                    slot = pooled[side].setdefault(res["name"], {"name": res["name"], "times_ms": [], "peak RSS MiB": 0, "extra": {}})
                    slot["times_ms"] += res["times_ms"]
                    slot["peak RSS MiB"] = max(slot["peak RSS MiB"], res.get("peak RSS MiB", 0))
                    # Derived rates (GFLOP/s) are rescaled to the pooled median below.
                    slot["extra"] = {k: (v, res["median_ms"]) for k, v in res.items() if k == "GFLOP/s"}
        print(f"{group}: {a.rounds} rounds done", file=sys.stderr)

for side, path in (("ours", a.ours_json), ("torch", a.torch_json)):
    results = []
    for slot in pooled[side].values():
        times = slot["times_ms"]
        median = statistics.median(times)
        r = {"name": slot["name"], "median_ms": median, "min_ms": min(times), "repeats": len(times), "times_ms": times,
             "peak RSS MiB": slot["peak RSS MiB"], "rounds": a.rounds}
        for k, (v, m) in slot["extra"].items():
            r[k] = v * m / median
        results.append(r)
    with open(path, "w") as f:
        json.dump({**header[side], "results": results, "interleaved_rounds": a.rounds}, f)
