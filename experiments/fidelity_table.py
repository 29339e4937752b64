#!/usr/bin/env python3
"""Learning-curve table of experiments/fidelity.sh (issue #26): per environment, configuration
(width, training horizon, sampling length) and checkpoint, the mean over seeds of the training
wall-clock minutes, EMA validation loss, relative dynamics error (mean / median / p90), marginal W1
(max over observation and action dimensions, σ units) and roughness (synthetic ÷ real), then the
knob → relative error at the first checkpoint past 10 and 30 minutes. Writes
experiments/results/fidelity.md and prints it. Metrics: docs/pgd.md §6.1."""
import json
import math
import sys
from collections import defaultdict
from pathlib import Path


def mean(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return sum(xs) / len(xs) if xs else None


def fmt(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def ratio(r, a, b):
    return r[a] / r[b] if r.get(a) is not None and r.get(b) else None


def main(path):
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    groups = defaultdict(list)
    for r in rows:
        groups[(r["env"], r.get("network", "temporal-unet"), r["dim"], r["horizon"], r["length"], r["steps"])].append(r)
    md = ["# Trajectory-model fidelity against CPU time (issue #26)", "",
          f"From `{path}` ({len(rows)} rows; `make experiment-fidelity`, metrics in docs/pgd.md §6.1). "
          "Means over seeds; minutes are training wall-clock on the machine that ran it; roughness is synthetic ÷ real.", "",
          "| env | network | dim | horizon | length | steps | seeds | train min | val. loss | rel. dyn. error mean / median / p90 | W1 obs max | W1 act max | roughness obs / act ×real |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(groups):
        g = groups[key]
        env, network, dim, horizon, length, steps = key
        md.append(f"| {env} | {network} | {dim} | {horizon} | {length} | {steps} | {len(g)} | {fmt(mean([r['train_minutes'] for r in g]), 1)} | "
                  f"{fmt(mean([r.get('validation_loss') for r in g]), 4)} | "
                  f"{fmt(mean([r.get('relativeDynamicsError') for r in g]))} / {fmt(mean([r.get('relativeDynamicsErrorMedian') for r in g]))} / "
                  f"{fmt(mean([r.get('relativeDynamicsErrorP90') for r in g]))} | {fmt(mean([r.get('observationW1Max') for r in g]))} | "
                  f"{fmt(mean([r.get('actionW1Max') for r in g]))} | "
                  f"{fmt(mean([ratio(r, 'roughnessObservations', 'realRoughnessObservations') for r in g]), 2)} / "
                  f"{fmt(mean([ratio(r, 'roughnessActions', 'realRoughnessActions') for r in g]), 2)} |")
    # Knob → relative error (median) at the first checkpoint whose mean training time reaches 10 / 30 min.
    md += ["", "Median relative dynamics error at the first checkpoint past 10 and 30 training minutes (– : not reached):", "",
           "| env | network | dim | horizon | length | @10 min | @30 min | at the end (min) |", "|---|---|---|---|---|---|---|---|"]
    curves = defaultdict(list)
    for (env, network, dim, horizon, length, steps), g in groups.items():
        curves[(env, network, dim, horizon, length)].append((mean([r["train_minutes"] for r in g]), mean([r.get("relativeDynamicsErrorMedian") for r in g])))
    for key in sorted(curves):
        c = sorted(curves[key])
        at = lambda t: next((e for m, e in c if m >= t), None)
        md.append(f"| {' | '.join(str(k) for k in key)} | {fmt(at(10))} | {fmt(at(30))} | {fmt(c[-1][1])} ({fmt(c[-1][0], 1)}) |")
    text = "\n".join(md) + "\n"
    out = Path(path).with_suffix(".md")
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "experiments/results/fidelity.jsonl")
