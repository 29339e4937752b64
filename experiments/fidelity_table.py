#!/usr/bin/env python3
"""Learning-curve table of experiments/fidelity.sh (issue #26): per environment, configuration
(knob variant, width, training horizon, sampling length) and checkpoint, the mean over seeds of the training
wall-clock minutes, EMA validation loss, relative dynamics error (mean / median / p90), marginal W1
(max over observation and action dimensions, σ units) and roughness (synthetic ÷ real), then the
knob → relative error at the first checkpoint past 10 and 30 minutes. Writes
experiments/results/fidelity.md and prints it; with --svg DIR, also per environment the curves of
median relative error and of the worst marginal W1 against training minutes
(DIR/NAME-ENV-{error,w1}.svg, --name NAME, default fidelity); with --cost FILE (fidelity_knobs.sh COST=1
rows), rows without measured CPU minutes get steps × their knob's CPU cost, and the curves use CPU minutes. Metrics: docs/pgd.md §6.1."""
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


def curve_svg(path, title, ylabel, series, xlabel="training minutes"):
    """series: {label: [(minutes, value), ...]} → an SVG line chart, linear x, log y."""
    pts = [(x, y) for c in series.values() for x, y in c if y is not None and y > 0]
    if not pts:
        return
    w, h, m = 560, 360, 64
    x1 = max(x for x, _ in pts) or 1
    lo, hi = math.log10(min(y for _, y in pts)), math.log10(max(y for _, y in pts))
    lo, hi = math.floor(lo * 2) / 2, math.ceil(hi * 2) / 2 + (0.5 if hi == lo else 0)
    px = lambda x: m + (w - 2 * m) * x / x1
    py = lambda y: h - m - (h - 2 * m) * (math.log10(y) - lo) / (hi - lo)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w + 150}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="100%" height="100%" fill="white"/>', f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>',
           f'<line x1="{m}" y1="{h - m}" x2="{w - m}" y2="{h - m}" stroke="black"/><line x1="{m}" y1="{m}" x2="{m}" y2="{h - m}" stroke="black"/>',
           f'<text x="{w / 2}" y="{h - 18}" text-anchor="middle">{xlabel}</text>',
           f'<text x="16" y="{h / 2}" transform="rotate(-90 16 {h / 2})" text-anchor="middle">{ylabel} (log scale)</text>']
    for k in range(5):
        x = x1 * k / 4
        out.append(f'<text x="{px(x):.1f}" y="{h - m + 16}" text-anchor="middle">{x:.0f}</text>')
    e = lo
    while e <= hi + 1e-9:
        y = 10 ** e
        out.append(f'<line x1="{m}" y1="{py(y):.1f}" x2="{w - m}" y2="{py(y):.1f}" stroke="#ddd"/><text x="{m - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.3g}</text>')
        e += 0.5
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]
    for i, (label, c) in enumerate(sorted(series.items())):
        col = colours[i % len(colours)]
        c = sorted((x, y) for x, y in c if y is not None and y > 0)
        out.append(f'<polyline fill="none" stroke="{col}" stroke-width="2" points="{" ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in c)}"/>')
        out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{col}"/>' for x, y in c]
        out.append(f'<text x="{w - m + 8}" y="{m + 16 * i}" fill="{col}">{label}</text>')
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(out + ["</svg>"]) + "\n")


def main(path, svg_dir=None, name="fidelity", cost_path=None):
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    # CPU minutes of training: measured (train_cpu_minutes), else estimated from the knob's measured cost per
    # 1,000 steps (fidelity_knobs.sh COST=1) when --cost is given; wall-clock minutes depend on the load.
    cost = {}
    if cost_path:
        for line in Path(cost_path).read_text().splitlines():
            if line.strip():
                c = json.loads(line)
                cost[(c["knob"].split("@")[0], c["env"])] = c["cpu_seconds_per_1k_steps"]
    for r in rows:
        c = cost.get((r.get("knob", "base").split("@")[0], r["env"]))
        r["cpu_min"] = r.get("train_cpu_minutes") or (c * r["steps"] / 60000 if c else None)
    use_cpu = all(r["cpu_min"] is not None for r in rows)
    clock, unit = ("cpu_min", "CPU min") if use_cpu else ("train_minutes", "train min")
    groups = defaultdict(list)
    for r in rows:
        groups[(r["env"], r.get("network", "temporal-unet"), r.get("knob", "base"), r["dim"], r["horizon"], r["length"], r["steps"])].append(r)
    md = ["# Trajectory-model fidelity against CPU time (issue #26)", "",
          f"From `{path}` ({len(rows)} rows; `make experiment-fidelity`, metrics in docs/pgd.md §6.1). "
          "Means over seeds; train min is wall-clock on the machine that ran it, CPU min the training's CPU time "
          "(measured, or steps × the knob's measured cost per step from " + (f"`{cost_path}`" if cost_path else "–") + "); roughness is synthetic ÷ real.", "",
          "| env | network | knob | dim | horizon | length | steps | seeds | train min | CPU min | val. loss | rel. dyn. error mean / median / p90 | W1 obs max | W1 act max | roughness obs / act ×real |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(groups):
        g = groups[key]
        env, network, knob, dim, horizon, length, steps = key
        md.append(f"| {env} | {network} | {knob} | {dim} | {horizon} | {length} | {steps} | {len(g)} | {fmt(mean([r['train_minutes'] for r in g]), 1)} | "
                  f"{fmt(mean([r['cpu_min'] for r in g]), 1)} | {fmt(mean([r.get('validation_loss') for r in g]), 4)} | "
                  f"{fmt(mean([r.get('relativeDynamicsError') for r in g]))} / {fmt(mean([r.get('relativeDynamicsErrorMedian') for r in g]))} / "
                  f"{fmt(mean([r.get('relativeDynamicsErrorP90') for r in g]))} | {fmt(mean([r.get('observationW1Max') for r in g]))} | "
                  f"{fmt(mean([r.get('actionW1Max') for r in g]))} | "
                  f"{fmt(mean([ratio(r, 'roughnessObservations', 'realRoughnessObservations') for r in g]), 2)} / "
                  f"{fmt(mean([ratio(r, 'roughnessActions', 'realRoughnessActions') for r in g]), 2)} |")
    # Knob → relative error (median) at the first checkpoint whose mean training time reaches 10 / 30 min.
    md += ["", f"Median relative dynamics error at the first checkpoint past 10 and 30 minutes ({unit}; – : not reached):", "",
           f"| env | network | knob | dim | horizon | length | @10 min | @30 min | at the end ({unit}) |", "|---|---|---|---|---|---|---|---|---|"]
    curves = defaultdict(list)
    for (env, network, knob, dim, horizon, length, steps), g in groups.items():
        curves[(env, network, knob, dim, horizon, length)].append((mean([r[clock] for r in g]), mean([r.get("relativeDynamicsErrorMedian") for r in g])))
    for key in sorted(curves):
        c = sorted(curves[key])
        at = lambda t: next((e for m, e in c if m >= t), None)
        md.append(f"| {' | '.join(str(k) for k in key)} | {fmt(at(10))} | {fmt(at(30))} | {fmt(c[-1][1])} ({fmt(c[-1][0], 1)}) |")
    if svg_dir:
        for env in sorted({k[0] for k in curves}):
            label = lambda k: (f"{k[1]} d{k[3]} h{k[4]}" + (f" L{k[5]}" if k[5] != k[4] else "")) if k[2] == "base" else k[2]
            for metric, kind, ylabel in (("relativeDynamicsErrorMedian", "error", "median relative dynamics error"),
                                         ("w1", "w1", "worst marginal W1 (σ)")):
                series = defaultdict(list)
                for (e, network, knob, dim, horizon, length, steps), g in groups.items():
                    if e != env:
                        continue
                    y = mean([max(r.get("observationW1Max") or 0, r.get("actionW1Max") or 0) if metric == "w1" else r.get(metric) for r in g])
                    series[label((e, network, knob, dim, horizon, length))].append((mean([r[clock] for r in g]), y))
                curve_svg(Path(svg_dir) / f"{name}-{env}-{kind}.svg", f"{env}: {ylabel} vs training time", ylabel, series, xlabel=f"training {unit}")
    text = "\n".join(md) + "\n"
    out = Path(path).with_suffix(".md")
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    args = sys.argv[1:]
    svg = None
    if "--svg" in args:
        i = args.index("--svg")
        svg = args[i + 1]
        del args[i:i + 2]
    name = "fidelity"
    if "--name" in args:
        i = args.index("--name")
        name = args[i + 1]
        del args[i:i + 2]
    cost = None
    if "--cost" in args:
        i = args.index("--cost")
        cost = args[i + 1]
        del args[i:i + 2]
    main(args[0] if args else "experiments/results/fidelity.jsonl", svg, name, cost)
