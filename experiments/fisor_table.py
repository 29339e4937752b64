#!/usr/bin/env python3
"""Tables of the FISOR experiment (experiments/fisor.sh): reads its rows (JSONL, one file or several; a
row repeated in a later file is ignored) and writes docs/fisor-results.md — the feasibility critic's
convergence per dataset (critic steps → feasible fraction, mean V_h over no-cost and cost episodes and
their gap, mean |ΔV_h|, V_r's expectile loss; from --convergence files, curves drawn by
`diffuse plot curves` from --logs), then per dataset and cost limit κ, DSRL's normalized return and
normalized cost (mean ± std over seeds, fractions) of FISOR in each schedule, its qc ablation, BC-All
and BC-Safe, how many seeds are safe (normalized cost ≤ 1), and whether issue #34's targets are met —
and, given `diffuse fisor rollout` files, an SVG of safe-circle trajectories against the safe region.
Standard library only."""
import argparse, collections, glob, json, os, statistics, subprocess

# Rows of kind fisor / fisor-qc carry their schedule; rows from before it existed were joint.
KINDS = [("fisor:joint", "FISOR (joint)"), ("fisor:critic-first", "FISOR (critic-first)"), ("fisor-qc:joint", "FISOR (qc, joint)"),
         ("fisor-qc:critic-first", "FISOR (qc, critic-first)"), ("bc-all", "BC-All"), ("bc-safe", "BC-Safe")]
CONV_STEPS = [1000, 2000, 5000, 10000, 20000, 30000, 40000, 60000, 80000]

# The paper's numbers for scale (Zheng et al. 2024, Table 1; normalized return / cost at κ = 10, 20 episodes × 3 seeds).
PAPER = {
    "halfcheetah-velocity": "For scale, the FISOR paper's HalfCheetahVel row (DSRL's dataset, from many behaviour policies "
                            "with costs spanning 0–250; 10⁶ actor iterations at width 1,024): FISOR 0.89 / 0.00, BC-All 0.97 / 17.93.",
    "hopper-velocity": "The FISOR paper has no HopperVel row (its velocity tasks are AntVel, HalfCheetahVel and SwimmerVel).",
}


def kind_of(r):
    """A column: the kind, FISOR's schedule and, for critic-first runs of another budget than the earlier
    runs' 40,000 critic steps and 2,000 actor iterations, that budget (so runs of two budgets sit side by side)."""
    if not r["kind"].startswith("fisor"):
        return r["kind"]
    k = f'{r["kind"]}:{r.get("schedule", "joint")}'
    budget = (r.get("critic_steps", 40000), r.get("actor_steps", 2000))
    if r.get("schedule") == "critic-first" and budget != (40000, 2000):
        k += f":{budget[0]}:{budget[1]}"
    if r.get("feasible_margin"):
        k += f"@{r['feasible_margin']:g}"
    return k

def margin_of(k):
    """(column without its feasibility margin, the margin δ or None)."""
    base, _, m = k.partition("@")
    return base, (float(m) if m else None)

def budget_of(k):
    """(critic steps, actor iterations) of a critic-first column."""
    parts = margin_of(k)[0].split(":")
    return (int(parts[2]), int(parts[3])) if len(parts) == 4 else (40000, 2000)

def kind_name(k):
    names = dict(KINDS)
    k, margin = margin_of(k)
    if margin is not None:
        return kind_name(k)[:-1] + f", δ = {margin:g})"
    if k in names:
        return names[k]
    c, n = budget_of(k)
    base = names[":".join(k.split(":")[:2])][:-1]
    return base + (f", {c:,} critic steps" if c != 40000 else "") + f", {n:,} actor it.)"

def mean_std(xs):
    if not xs:
        return "—"
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    return f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}"

def circle_plot(path, rollouts):
    """rollouts: [(label, rollout JSON)] on safe-circle → one panel each: the arena [-10, 10]², the unsafe
    band |x| > 6 (docs/environments.md §3) shaded, the reward circle ρ = 7 dashed, the episodes' paths."""
    s, pad = 260, 20
    scale = s / 20.0
    w = len(rollouts) * (s + pad) + pad
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{s + 70}" font-family="sans-serif" font-size="13">',
           f'<rect width="{w}" height="{s + 70}" fill="white"/>']
    for k, (label, r) in enumerate(rollouts):
        ox, oy = pad + k * (s + pad), 40
        X = lambda x: ox + (x + 10) * scale
        Y = lambda y: oy + (10 - y) * scale
        eps = r["episodes"]
        cost = statistics.mean(e["cost"] for e in eps)
        out.append(f'<text x="{ox + s / 2}" y="18" text-anchor="middle">{label}</text>')
        out.append(f'<text x="{ox + s / 2}" y="34" text-anchor="middle" font-size="11">mean cost {cost:.1f} over {len(eps)} episodes</text>')
        out.append(f'<rect x="{ox}" y="{oy}" width="{s}" height="{s}" fill="#f7f7f7" stroke="#999"/>')
        out.append(f'<rect x="{ox}" y="{oy}" width="{4 * scale}" height="{s}" fill="#fdd"/>')
        out.append(f'<rect x="{X(6)}" y="{oy}" width="{4 * scale}" height="{s}" fill="#fdd"/>')
        out.append(f'<circle cx="{X(0)}" cy="{Y(0)}" r="{7 * scale}" fill="none" stroke="#888" stroke-dasharray="4 3"/>')
        for i, e in enumerate(eps):
            pts = " ".join(f"{X(10 * o[0]):.1f},{Y(10 * o[1]):.1f}" for o in e["observations"])
            out.append(f'<polyline fill="none" stroke="hsl({i * 67 % 360},70%,40%)" stroke-width="1.3" points="{pts}"/>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out))

def convergence_section(rows, logs, diffuse, figures):
    """Convergence table per dataset (means over seeds) and, per dataset, curves of the first seed's log."""
    out = ["## Convergence of the feasibility critic", "",
           "Every record is taken over up to 20,000 dataset states, evenly strided (docs/fisor.md, \"Convergence log\"):",
           "the fraction with V_h ≤ 0, mean V_h over states of episodes without cost and with cost (their gap: cost − no-cost),",
           "the mean |ΔV_h| since the previous record (1,000 critic steps earlier) and V_r's expectile loss over those steps.",
           "Mean over seeds (n: seeds).", ""]
    by = collections.defaultdict(list)
    for r in rows:
        by[(r["dataset"], int(r["critic_steps"]))].append(r)
    for ds in sorted({r["dataset"] for r in rows}):
        out += [f"### {ds}", "", "| critic steps | n | feasible fraction | V_h no-cost | V_h cost | gap | mean \\|ΔV_h\\| | V_r expectile loss |",
                "|---|---|---|---|---|---|---|---|"]
        steps = sorted(k for d, k in by if d == ds)
        for k in [k for k in steps if k in CONV_STEPS] or steps:
            rs = by[(ds, k)]
            def m(key, fmt="{:.3f}"):
                xs = [r[key] for r in rs if key in r]
                return mean_std(xs) if len(xs) > 1 and fmt == "{:.3f}" else (fmt.format(statistics.mean(xs)) if xs else "—")
            gap = [r["vh_cost"] - r["vh_no_cost"] for r in rs if "vh_cost" in r and "vh_no_cost" in r]
            out.append(f"| {k:,} | {len(rs)} | {m('feasible_fraction')} | {m('vh_no_cost')} | {m('vh_cost')} | "
                       f"{mean_std(gap)} | {m('vh_change')} | {m('reward_expectile_loss', '{:.4f}')} |")
        later = [r for r in rows if r["dataset"] == ds and "continued_from" in r]
        if later:
            f = [r["feasible_fraction"] for r in later]
            out += ["", f"Past {min(r['continued_from'] for r in later):,.0f} steps: seed {', '.join(str(x) for x in sorted({r['seed'] for r in later}))} only, "
                    f"its critic phase continued (docs/fisor.md, \"Probe 4\"); over its {len(later)} records (one per 1,000 steps) the "
                    f"feasible fraction moved between {min(f):.2f} and {max(f):.2f}."]
        out.append("")
        first = sorted(glob.glob(os.path.join(logs, ds.replace(":", "-") + "-critic-first-*.log")))
        if first and diffuse:
            name = "fisor-convergence-" + ds.replace(":", "-") + ".svg"
            svg = os.path.join(figures, name)
            os.makedirs(figures, exist_ok=True)
            subprocess.run([diffuse, "plot", "curves", first[0], "--svg", svg, "--title", f"{ds}: {os.path.basename(first[0])}",
                            "--metrics", "feasible_fraction,vh_no_cost,vh_cost,vh_change,reward_expectile_loss"], check=True,
                           stdout=subprocess.DEVNULL)
            out += [f"![convergence on {ds}](figures/{name})", ""]
    return out

RULES = ["min-qh", "max-qr", "feasible-sample", "raw"]

def rule_table(rows, group, label, fmt, show_n=False, show_safe=False, show_time=True):
    """Per dataset, one line per value of group(row), one column per candidate rule; cells: return / cost over seeds
    (with the safe seeds if show_safe), then the mean actor-phase time (experiments/fisor_actor_curve.sh rows)."""
    out = []
    rules = [x for x in RULES if any(r["rule"] == x for r in rows)]
    for ds in sorted({r["dataset"] for r in rows}):
        rs = [r for r in rows if r["dataset"] == ds]
        out += [f"### {ds} (seeds {', '.join(map(str, sorted({r['seed'] for r in rs})))})", "",
                f"| {label} | " + ("n | " if show_n else "") + " | ".join(rules) + (" | actor-phase time |" if show_time else " |"),
                "|---|" + ("---|" if show_n else "") + "---|" * (len(rules) + (1 if show_time else 0))]
        for g in sorted({group(r) for r in rs}):
            line = [fmt(g)] + ([str(len({r["seed"] for r in rs if group(r) == g}))] if show_n else [])
            for rule in rules:
                c = [r for r in rs if group(r) == g and r["rule"] == rule]
                safe = f' ({sum(r["normalized_cost"] <= 1 for r in c)}/{len(c)} safe)' if show_safe else ""
                line.append(f'{mean_std([r["normalized_return"] for r in c])} / {mean_std([r["normalized_cost"] for r in c])}{safe}' if c else "—")
            t = [r["train_seconds"] for r in rs if group(r) == g and r["rule"] == rules[0]]
            if show_time:
                line.append(f"{statistics.mean(t):.0f} s" if t else "—")
            out.append("| " + " | ".join(line) + " |")
        out.append("")
    return out

def curve_section(rows):
    """Return and cost against the actor budget (experiments/fisor_actor_curve.sh): per dataset, one row per
    snapshot, one column per candidate rule, mean over seeds (the seeds listed)."""
    return (["## Return and cost against the actor budget", "",
             "`experiments/fisor_actor_curve.sh`: per seed, one actor phase on that seed's finished critic phase",
             "(`--critics-from` the critic-first run above), snapshots of one cosine schedule over the largest budget",
             "(`--stop-after`, `--resume`), each evaluated over 20 seeded episodes at κ = 10 with three candidate rules:",
             "min-qh (the reference's: the smallest max_k Q̄_h of 16), feasible-sample (the first of 16 with Q_h ≤ 0) and",
             "raw (one candidate: the actor's own sample). Cells: normalized return / normalized cost, mean over the n seeds",
             "(later seeds were snapshotted at 2,000 and 12,000 iterations only).", ""]
            + rule_table(rows, lambda r: r["actor_iterations"], "actor iterations", lambda n: f"{n:,}", show_n=True)
            + ["The actor-phase time is cumulative at each snapshot and includes the earlier snapshots' evaluations.", ""])

def rules_section(rows):
    """The candidate rule at action time on the fisor.sh policies themselves (experiments/fisor_rules.sh)."""
    return (["## The candidate rule at action time", "",
             "`experiments/fisor_rules.sh`: the FISOR policies of the runs above, nothing retrained, evaluated over 20 seeded",
             "episodes at κ = 10 with each rule: min-qh (the reference's: the smallest max_k Q̄_h of 16 candidates), max-qr",
             "(the feasible candidate, Q_h ≤ 0, with the largest Q_r; the safest if none is feasible), feasible-sample (the",
             "first feasible candidate) and raw (one candidate: the actor's own sample). Cells: normalized return / normalized",
             "cost, mean ± std over seeds, then the safe seeds.", ""]
            + rule_table(rows, lambda r: r["actor_iterations"], "actor iterations", lambda n: f"{n:,}", show_safe=True, show_time=False))

def margin_section(rows):
    """The feasibility margin δ on shared critics (experiments/fisor_actor_curve.sh with MARGIN): per dataset, one
    row per δ, one column per candidate rule; cells: return / cost mean ± std over seeds and the safe seeds."""
    return (["## Feasibility margin", "",
             "`experiments/fisor_actor_curve.sh` with `MARGIN=δ ITERS=2000 SNAPSHOTS=2000`: per seed, one 2,000-iteration actor",
             "phase per δ on the same finished critic phase (`--critics-from`) with the same seed, so for a seed the rows differ",
             "only in δ; 20 seeded episodes at κ = 10 per rule. δ = 0 is the paper's weighting; δ > 0 gives actions with",
             "−δ < Q_h ≤ 0 weight 0 (docs/fisor.md, \"A feasibility margin\"). Cells: normalized return / normalized cost,",
             "mean ± std over seeds, and the seeds whose policy is safe (normalized cost ≤ 1).", ""]
            + rule_table(rows, lambda r: r.get("feasible_margin", 0), "δ", lambda m: f"{m:g}", show_safe=True))

def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows", nargs="+", help="JSONL files of evaluation rows")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--command", action="append", help="the command(s) of the runs (repeatable; default: make experiment-fisor)")
    p.add_argument("--convergence", nargs="*", default=[], help="JSONL files of convergence records")
    p.add_argument("--logs", default="experiments/results/fisor-logs", help="training logs (for the curves)")
    p.add_argument("--diffuse", default="", help="the diffuse binary that draws the curves (none: no curves)")
    p.add_argument("--trajectories", nargs="*", default=[], help="LABEL=ROLLOUT.json (diffuse fisor rollout on safe-circle)")
    p.add_argument("--figure", default="docs/figures/fisor-trajectories.svg")
    p.add_argument("--curve", nargs="*", default=[], help="JSONL files of experiments/fisor_actor_curve.sh")
    p.add_argument("--rules", nargs="*", help="JSONL files of experiments/fisor_rules.sh")
    p.add_argument("--margin", nargs="*", default=[], help="JSONL files of experiments/fisor_actor_curve.sh run with MARGIN")
    a = p.parse_args()
    rows, seen = [], set()
    for path in a.rows:
        for l in open(path):
            if not l.strip():
                continue
            r = json.loads(l)
            key = (kind_of(r), r["dataset"], r["seed"], r["kappa"])
            if key not in seen:
                seen.add(key)
                rows.append(r)
    cells = collections.defaultdict(list)
    train = collections.defaultdict(list)
    for r in rows:
        cells[(r["dataset"], r["kappa"], kind_of(r))].append(r)
        if r["train_seconds"] > 0:
            train[(r["dataset"], kind_of(r))].append(r["train_seconds"])
    # The MuJoCo velocity tasks first, then the built-in tasks.
    datasets = sorted({r["dataset"] for r in rows}, key=lambda d: ("-velocity" not in d, d))
    kappas = sorted({r["kappa"] for r in rows})
    present = {kind_of(r) for r in rows}
    order = [k for k, _ in KINDS]
    # Critic-first columns of other actor budgets follow the 2,000-iteration one, by budget.
    extra = sorted((k for k in present if k not in order),
                   key=lambda k: (order.index(":".join(margin_of(k)[0].split(":")[:2])), budget_of(k), margin_of(k)[1] or 0))
    order = order[:2] + [k for k in extra if k.startswith("fisor:")] + order[2:] + [k for k in extra if not k.startswith("fisor:")]
    kinds = [(k, kind_name(k)) for k in order if k in present]
    critic_first = [k for k, _ in kinds if k.startswith("fisor:critic-first")]
    budgets = sorted({(r["critic_steps"], r["actor_steps"]) for r in rows if kind_of(r) in critic_first})
    out = ["# FISOR results", "",
           f"Generated by `experiments/fisor_table.py` from {', '.join(f'`{x}`' for x in a.rows)}; the run{'s' if len(a.command or []) > 1 else ''}:", ""]
    out += [f"    {c}" for c in (a.command or ["make experiment-fisor"])] + ["",
           "Each cell: DSRL's normalized return / normalized cost (fractions; mean ± std over seeds), then the",
           "number of seeds whose policy is safe (normalized cost ≤ 1). FISOR is trained once per seed (the HJ",
           "critic never uses κ); the qc ablation and BC-Safe are trained per κ. FISOR (joint): the reference loop,",
           "2,000 iterations (the earlier run, `experiments/results/fisor-joint.jsonl`); FISOR (critic-first): "
           + (", ".join(f"{c:,} critic steps, then {n:,} actor iterations" for c, n in budgets) or "—") + "."
           + (" Rows with `critics_from` (the columns of another budget) took their critic phase from an earlier run of the"
              " same seed (`--critics-from`: the critics never read the actor, so they are the critics that seed trains;"
              " docs/fisor.md, \"Sharing a critic phase\"), so their training time is the actor phase's alone."
              if any(r.get("critics_from") for r in rows) else ""),
           "A row (kind, dataset, seed, κ) present in several files is taken from the first one listed, so a",
           "column can mix runs. See docs/fisor.md.", ""]
    if a.convergence:
        conv = [json.loads(l) for path in a.convergence for l in open(path) if l.strip()]
        if conv:
            out += convergence_section(conv, a.logs, a.diffuse, os.path.join(os.path.dirname(a.output) or ".", "figures"))
    out += ["## Return and cost", ""]
    for ds in datasets:
        out += [f"### {ds}", "", "| κ | " + " | ".join(name for _, name in kinds) + " |", "|---|" + "---|" * len(kinds)]
        for k in kappas:
            line = [f"{k:g}"]
            for kind, _ in kinds:
                rs = cells.get((ds, k, kind), [])
                if not rs:
                    line.append("—")
                    continue
                ret = mean_std([r["normalized_return"] for r in rs])
                cost = mean_std([r["normalized_cost"] for r in rs])
                safe = sum(1 for r in rs if r["safe"])
                line.append(f"{ret} / {cost} ({safe}/{len(rs)} safe)")
            out.append("| " + " | ".join(line) + " |")
        out.append("")
        if ds.split(":")[0] in PAPER:
            out += [PAPER[ds.split(":")[0]], ""]
        times = [f"{name} {statistics.mean(train[(ds, kind)]):.0f} s" for kind, name in kinds if train.get((ds, kind))]
        if times:
            out += ["Mean training time per run: " + ", ".join(times) + ".", ""]
        # The targets are judged on every critic-first column with the most seeds.
        seeds_of = {k: len({r["seed"] for r in rows if r["dataset"] == ds and kind_of(r) == k}) for k in critic_first}
        most = max(seeds_of.values(), default=0)
        base = [r["normalized_return"] for r in cells.get((ds, 10, "bc-safe"), [])]
        for target in (k for k in critic_first if most and seeds_of[k] == most):
            new = [r for r in rows if r["dataset"] == ds and kind_of(r) == target]
            safe_all = all(r["safe"] for r in new)
            at10 = [r["normalized_return"] for r in new if r["kappa"] == 10]
            ret_ok = bool(at10 and base) and statistics.mean(at10) >= statistics.mean(base)
            out += [f"Issue #34's targets for {kind_name(target)} on {ds}: normalized cost ≤ 1 on every seed at every κ: "
                    f"**{'met' if safe_all else 'not met'}** ({sum(r['safe'] for r in new)}/{len(new)} seed×κ safe); "
                    f"mean normalized return ≥ BC-Safe's at κ = 10: **{'met' if ret_ok else 'not met'}** "
                    f"({statistics.mean(at10) if at10 else float('nan'):.2f} vs {statistics.mean(base) if base else float('nan'):.2f}; "
                    f"{len({r['seed'] for r in new})} seeds).", ""]
    if a.curve:
        curve = [json.loads(l) for path in a.curve for l in open(path) if l.strip()]
        if curve:
            out += curve_section(curve)
    if a.rules:
        rules = [json.loads(l) for path in a.rules for l in open(path) if l.strip()]
        if rules:
            out += rules_section(rules)
    if a.margin:
        margin = [json.loads(l) for path in a.margin for l in open(path) if l.strip()]
        if margin:
            out += margin_section(margin)
    if a.trajectories:
        rollouts = [(t.split("=", 1)[0], json.load(open(t.split("=", 1)[1]))) for t in a.trajectories]
        circle_plot(a.figure, rollouts)
        rel = os.path.relpath(a.figure, os.path.dirname(a.output) or ".")
        out += ["## Trajectories (safe-circle, seed 0)", "",
                "Positions of the first evaluation episodes; red: the unsafe band |x| > 6; dashed: the reward circle ρ = 7.", "",
                f"![safe-circle trajectories]({rel})", ""]
    with open(a.output, "w") as f:
        f.write("\n".join(out))

if __name__ == "__main__":
    main()
