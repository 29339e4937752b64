#!/usr/bin/env python3
"""Tables and SVG plots of the PGD experiment (experiments/pgd.sh): reads experiments/results/pgd.jsonl,
writes docs/pgd-results.md and docs/figures/pgd-*.svg. Standard library only (h5py optional, for the
maze trajectory plot)."""
import argparse, collections, json, math, os, statistics

def mean_std(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    if len(xs) == 1:
        return f"{xs[0]:.4g}"
    return f"{statistics.mean(xs):.4g} ± {statistics.stdev(xs):.2g}"

def line_plot(path, title, xlabel, ylabel, series):
    """series: {label: [(x, y), ...]} → a small SVG line chart with axes (x on a symlog-like index scale)."""
    w, h, m = 520, 340, 60
    xs = sorted({x for pts in series.values() for x, _ in pts})
    ys = [y for pts in series.values() for _, y in pts if y is not None and math.isfinite(y)]
    if not xs or not ys:
        return
    lo, hi = min(ys), max(ys)
    if hi == lo:
        hi = lo + 1
    px = lambda x: m + (w - 2 * m) * (xs.index(x) / max(len(xs) - 1, 1))
    py = lambda y: h - m - (h - 2 * m) * (y - lo) / (hi - lo)
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w/2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
           f'<line x1="{m}" y1="{h-m}" x2="{w-m}" y2="{h-m}" stroke="black"/>',
           f'<line x1="{m}" y1="{m}" x2="{m}" y2="{h-m}" stroke="black"/>',
           f'<text x="{w/2}" y="{h-15}" text-anchor="middle">{xlabel}</text>',
           f'<text x="15" y="{h/2}" transform="rotate(-90 15 {h/2})" text-anchor="middle">{ylabel}</text>']
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{h-m+16}" text-anchor="middle">{x:g}</text>')
    for k in range(5):
        y = lo + (hi - lo) * k / 4
        out.append(f'<text x="{m-6}" y="{py(y)+4:.1f}" text-anchor="end">{y:.3g}</text>')
        out.append(f'<line x1="{m}" y1="{py(y):.1f}" x2="{w-m}" y2="{py(y):.1f}" stroke="#ddd"/>')
    for i, (label, pts) in enumerate(series.items()):
        c = colors[i % len(colors)]
        pts = sorted((x, y) for x, y in pts if y is not None)
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (c, " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)))
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>')
        out.append(f'<text x="{w-m+4}" y="{m+16*i}" fill="{c}">{label}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out))

def maze_plot(path, files, windows=12):
    """Positions of the first windows of each file (label → path) in the umaze grid."""
    try:
        import h5py
    except ImportError:
        return False
    grid = ["#####", "#GOO#", "###O#", "#OOO#", "#####"]
    s, pad = 60, 20
    w = len(files) * (5 * s + pad) + pad
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{5*s+60}" font-family="sans-serif" font-size="13">',
           f'<rect width="{w}" height="{5*s+60}" fill="white"/>']
    for k, (label, f) in enumerate(files.items()):
        ox = pad + k * (5 * s + pad)
        out.append(f'<text x="{ox + 2.5*s}" y="20" text-anchor="middle">{label}</text>')
        for i, row in enumerate(grid):
            for j, ch in enumerate(row):
                # cell (i, j) is centred at (x, y) = (i, j); draw x down, y right
                fill = "#444" if ch == "#" else ("#cfc" if ch == "G" else "#f7f7f7")
                out.append(f'<rect x="{ox + j*s}" y="{30 + i*s}" width="{s}" height="{s}" fill="{fill}" stroke="#ccc"/>')
        with h5py.File(f, "r") as h:
            obs, nobs, timeouts, terms = h["observations"][:], h["next_observations"][:], h["timeouts"][:], h["terminals"][:]
        # One-transition windows (the window MLP) are drawn as their steps s → s′, many of them.
        limit = windows if not (timeouts[0] or terms[0]) else 40 * windows
        start, drawn = 0, 0
        for i in range(len(obs)):
            if timeouts[i] or terms[i] or i == len(obs) - 1:
                seg = list(obs[start:i + 1]) + [nobs[i]]
                pts = " ".join(f"{ox + (p[1] + 0.5) * s:.1f},{30 + (p[0] + 0.5) * s:.1f}" for p in seg)
                out.append(f'<polyline fill="none" stroke="hsl({drawn*30 % 360},70%,45%)" stroke-width="1.5" points="{pts}"/>')
                start, drawn = i + 1, drawn + 1
                if drawn >= limit:
                    break
    out.append("</svg>")
    with open(path, "w") as fh:
        fh.write("\n".join(out))
    return True

# Observation coordinates drawn for the robots: forward velocity and two joint angles (Gymnasium's v4 layouts,
# docs/environments.md).
LAMBDA_FIG = 1  # the guidance drawn beside unguided and the largest
ROBOT_DIMS = {"halfcheetah": [(8, "x-velocity"), (2, "back thigh angle"), (5, "front thigh angle")],
              "hopper": [(5, "x-velocity"), (2, "thigh angle"), (4, "foot angle")],
              "walker2d": [(8, "x-velocity"), (2, "right thigh angle"), (5, "left thigh angle")]}

def robot_plot(path, env, files, bins=40):
    """Histograms (density) of a robot's forward velocity and two joint angles in each file (label → path)."""
    try:
        import h5py
    except ImportError:
        return False
    data = {}
    for label, f in files.items():
        with h5py.File(f, "r") as h:
            obs = h["observations"][:]
        data[label] = [[float(row[d]) for row in obs] for d, _ in ROBOT_DIMS[env]]
    pw, ph, m = 300, 220, 40
    colors = ["#7f7f7f", "#1f77b4", "#d62728", "#2ca02c"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{3 * pw}" height="{ph + 50}" font-family="sans-serif" font-size="12">',
           f'<rect width="{3 * pw}" height="{ph + 50}" fill="white"/>']
    for k, (_, name) in enumerate(ROBOT_DIMS[env]):
        xs = [x for cols in data.values() for x in cols[k]]
        xs.sort()
        lo, hi = xs[int(0.005 * len(xs))], xs[int(0.995 * len(xs)) - 1]
        hi = hi if hi > lo else lo + 1
        hists = {}
        for label, cols in data.items():
            counts = [0] * bins
            for x in cols[k]:
                if lo <= x <= hi:
                    counts[min(int((x - lo) / (hi - lo) * bins), bins - 1)] += 1
            n = max(len(cols[k]), 1)
            hists[label] = [c / n for c in counts]
        top = max(max(h) for h in hists.values()) or 1
        x0 = k * pw
        out += [f'<text x="{x0 + pw / 2}" y="18" text-anchor="middle" font-size="13">{env}: {name}</text>',
                f'<line x1="{x0 + m}" y1="{ph}" x2="{x0 + pw - 10}" y2="{ph}" stroke="black"/>',
                f'<text x="{x0 + m}" y="{ph + 16}" text-anchor="middle">{lo:.2g}</text>',
                f'<text x="{x0 + pw - 10}" y="{ph + 16}" text-anchor="middle">{hi:.2g}</text>']
        for i, (label, h) in enumerate(hists.items()):
            pts = " ".join(f"{x0 + m + (pw - m - 10) * (b + 0.5) / bins:.1f},{ph - (ph - 40) * v / top:.1f}" for b, v in enumerate(h))
            out.append(f'<polyline fill="none" stroke="{colors[i % len(colors)]}" stroke-width="2" points="{pts}"/>')
            if k == 0:
                out.append(f'<text x="{10 + 170 * i}" y="{ph + 40}" fill="{colors[i % len(colors)]}">{label}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write("\n".join(out))
    return True

def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows", nargs="+", help="JSONL rows of one or more runs (e.g. the robots' and the small tasks')")
    p.add_argument("markdown")
    p.add_argument("--command", action="append", help="the command of each rows file, in order (default: make experiment-pgd)")
    p.add_argument("--work", action="append", help="a run's work folder (synthetic files for the maze and robot plots); repeatable")
    a = p.parse_args()
    rows = [json.loads(l) for f in a.rows for l in open(f) if l.strip()]
    commands = a.command or ["make experiment-pgd"]
    if len(commands) != len(a.rows):
        p.error("give one --command per rows file")
    works = a.work or []
    figures = os.path.join(os.path.dirname(a.markdown), "figures")
    md = ["# PGD experiment results", ""] + [f"Command: `{c}` (raw rows: `{f}`)." for c, f in zip(commands, a.rows)] + ["",
          "Synthetic transitions measured by `diffuse pgd evaluate` against the exact environment: dynamics error",
          "‖(s′ − f(s, a))/σ_s‖ in state-std units of the real data, reward error |r − r(s, a, f(s, a))|, and the",
          "target policy's mean log π(a|s). Mean ± std over seeds.", ""]
    # The MuJoCo robots first, then the small tasks.
    envs = sorted({r["env"] for r in rows}, key=lambda e: (e not in ROBOT_DIMS, e))
    for env in envs:
        er = [r for r in rows if r["env"] == env]
        md += [f"## {env}", "", "| data | λ | log π(a\\|s) | dynamics error | relative error mean / median | W1 obs / act max (σ) | reward error | out of bounds | terminals |",
               "|---|---|---|---|---|---|---|---|---|"]
        by = collections.defaultdict(list)
        for r in er:
            if r["kind"] in ("pgd", "world-model") and r.get("terminals", "model") == "model":  # the λ sweep as first run
                by[(r["kind"], r["guidance"])].append(r)
        for (kind, lam), rs in sorted(by.items(), key=lambda kv: (kv[0][0] != "pgd", kv[0][1])):
            name = "world model" if kind == "world-model" else ("unguided diffusion" if lam == 0 else "PGD")
            md.append(f"| {name} | {lam:g} | {mean_std([r.get('meanLogLikelihood') for r in rs])} | {mean_std([r['dynamicsError'] for r in rs])} | "
                      f"{mean_std([r.get('relativeDynamicsError') for r in rs])} / {mean_std([r.get('relativeDynamicsErrorMedian') for r in rs])} | "
                      f"{mean_std([r.get('observationW1Max') for r in rs])} / {mean_std([r.get('actionW1Max') for r in rs])} | "
                      f"{mean_std([r['rewardError'] for r in rs])} | {mean_std([r['outOfBoundsFraction'] for r in rs])} | {mean_std([r['terminalFraction'] for r in rs])} |")
        # Claims, per seed.
        seeds = sorted({r["seed"] for r in er if r["kind"] == "pgd"})
        mono, within = [], []
        for s in seeds:
            pts = sorted((r["guidance"], r.get("meanLogLikelihood")) for r in er if r["kind"] == "pgd" and r["seed"] == s)
            ll = [y for _, y in pts]
            mono.append(all(b >= a for a, b in zip(ll, ll[1:])))
            base = [r["dynamicsError"] for r in er if r["kind"] == "pgd" and r["seed"] == s and r["guidance"] == 0]
            if base:
                within.append(max(r["dynamicsError"] for r in er if r["kind"] == "pgd" and r["seed"] == s) / base[0])
        md += ["", f"- log π(a|s) rises monotonically with λ: {sum(mono)}/{len(mono)} seeds.",
               f"- worst PGD dynamics error ÷ unguided, per seed: {', '.join(f'{x:.2f}' for x in within) or '—'} (claim: ≤ 1.5)."]
        wm = [r["dynamicsError"] for r in er if r["kind"] == "world-model"]
        if wm:
            md.append(f"- world model dynamics error {mean_std(wm)} vs PGD at λ = max {mean_std([r['dynamicsError'] for r in er if r['kind'] == 'pgd' and r['guidance'] == max(x['guidance'] for x in er if x['kind'] == 'pgd')])}.")
        # Downstream agents, one table per algorithm (rows without "algo" predate the knob: TD3+BC).
        names = {"td3bc": "TD3+BC", "iql": "IQL"}
        # Pools labelled by the environment's termination rule (terminals "rule", docs/pgd.md §6) get their own table
        # beside the model-terminal rows (rows without the field predate the rule); real-only rows serve both.
        synthetic = ("downstream", "downstream-wm")
        groups = sorted({(r.get("algo", "td3bc"), r.get("terminals", "model")) for r in er if r["kind"] in synthetic},
                        key=lambda g: (g[0], g[1] != "model"))
        groups += [(a, "model") for a in sorted({r.get("algo", "td3bc") for r in er if r["kind"] == "real"}) if (a, "model") not in groups]
        for algo, term in groups:
            down = [r for r in er if r.get("algo", "td3bc") == algo
                    and (r["kind"] == "real" or (r["kind"] in synthetic and r.get("terminals", "model") == term))]
            if any(r["kind"] != "real" for r in down):
                label = names.get(algo, algo) + (", synthetic rows ended by the environment's termination rule" if term == "rule" else "")
                md += ["", f"| agent ({label}) trained on | normalized score | seeds |", "|---|---|---|"]
                def arm(name, pick):
                    xs = {r["seed"]: r["normalized_score"] for r in down if pick(r)}
                    if xs:
                        md.append(f"| {name} | {mean_std(list(xs.values()))} | {len(xs)} |")
                    return xs
                real = arm("real data only", lambda r: r["kind"] == "real")
                lams = sorted({r["guidance"] for r in down if r["kind"] == "downstream"})
                arms = {lam: arm("unguided diffusion + real" if lam == 0 else f"PGD (λ = {lam:g}) + real",
                                 lambda r, lam=lam: r["kind"] == "downstream" and r["guidance"] == lam) for lam in lams}
                wm = arm("world-model rollouts + real", lambda r: r["kind"] == "downstream-wm")
                # Paired by seed (same target agent, trajectory model and world model per seed).
                for lam in [l for l in lams if l > 0]:
                    pgd = arms[lam]
                    for name, other in (("unguided", arms.get(0, {})), ("real only", real), ("world model", wm)):
                        common = sorted(set(pgd) & set(other))
                        if common:
                            wins = sum(pgd[s] >= other[s] for s in common)
                            md.append(f"- PGD (λ = {lam:g}) − {name}, per seed: {', '.join(f'{pgd[s] - other[s]:+.1f}' for s in common)} (PGD at least as high in {wins}/{len(common)}).")
        series_ll = {f"seed {s}": [(r["guidance"], r.get("meanLogLikelihood")) for r in er if r["kind"] == "pgd" and r["seed"] == s] for s in seeds}
        series_de = {f"seed {s}": [(r["guidance"], r["dynamicsError"]) for r in er if r["kind"] == "pgd" and r["seed"] == s] for s in seeds}
        line_plot(os.path.join(figures, f"pgd-{env}-loglik.svg"), f"{env}: target-policy log-likelihood vs λ", "guidance λ", "mean log π(a|s)", series_ll)
        line_plot(os.path.join(figures, f"pgd-{env}-dynamics.svg"), f"{env}: dynamics error vs λ", "guidance λ", "dynamics error (state std)", series_de)
        md += ["", f"![log-likelihood vs λ](figures/pgd-{env}-loglik.svg) ![dynamics error vs λ](figures/pgd-{env}-dynamics.svg)", ""]
        work = next((w for w in works if os.path.exists(os.path.join(w, f"{env}-{seeds[0]}-pgd-0.hdf5"))), None) if seeds else None
        if env in ROBOT_DIMS and work:
            lams = sorted({r["guidance"] for r in er if r["kind"] == "pgd"})
            files = {"real (the dataset)": os.path.join(work, f"{env}.hdf5")}
            files.update({("unguided" if l == 0 else f"PGD λ = {l:g}"): os.path.join(work, f"{env}-{seeds[0]}-pgd-{l:g}.hdf5") for l in (0, LAMBDA_FIG, lams[-1]) if l in lams})
            if robot_plot(os.path.join(figures, f"pgd-{env}-states.svg"), env, files):
                md += [f"Where the synthetic states lie (seed {seeds[0]}): densities of the forward velocity and two joint angles, real vs synthetic:", "",
                       f"![{env} states, real vs synthetic](figures/pgd-{env}-states.svg)", ""]
        if env == "pointmaze-umaze" and work:
            lams = sorted({r["guidance"] for r in er if r["kind"] == "pgd"})
            files = {f"λ = {l:g}": os.path.join(work, f"{env}-{seeds[0]}-pgd-{l:g}.hdf5") for l in (lams[0], lams[-1])}
            files = {k: v for k, v in files.items() if os.path.exists(v)}
            if files and maze_plot(os.path.join(figures, "pgd-maze.svg"), files):
                md += ["Sampled windows in the maze (first 12 of seed %d, or 480 one-transition windows; unguided left, most guided right):" % seeds[0], "",
                       "![PGD windows in the maze](figures/pgd-maze.svg)", ""]
    with open(a.markdown, "w") as f:
        f.write("\n".join(md) + "\n")

if __name__ == "__main__":
    main()
