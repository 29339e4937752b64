#!/usr/bin/env python3
"""Picks each method's setting of a SePPO sweep (experiments/seppo_sweep.sh, issue #29) from validation rows only.

Usage: seppo_pick.py VALIDATION.jsonl [--json PICKED.json] [--svg SCORE_VS_BETA.svg] [--title T]
       seppo_pick.py --merge KEPT.jsonl NEW.jsonl... > MERGED.jsonl
       seppo_pick.py --self-test

Reads one file, the selection phase's rows (experiments/seppo.sh with JUDGE=validation), and refuses any row
that a test judge scored: the picker has no way to see the test split. Per method (the row's `method`), every
setting (beta, lr, steps) is scored by the mean of `mean_score` over its rows; the highest wins, ties going to
fewer updates, then the smaller learning rate, then the smaller β. Prints the picks as seppo.sh METHODS entries,
METHOD[:REF[:FLIP]]@BETA,LR,STEPS; --json also writes every setting's validation score; --svg plots the validation
score against β per method at the method's picked lr and update count. A pick at the edge of its grid (the
largest or smallest β, lr or update count tried for that method) is named on stderr and in the JSON (`edges`):
the best setting may lie outside, so the grid should grow there (seppo_sweep.sh EXTEND=1). --merge joins row
files, a (method, seed, setting) seen twice keeping its last row.
"""
import argparse
import collections
import json
import math
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgd_table import line_plot  # noqa: E402


class PickError(Exception):
    pass


def setting_of(row):
    a = row["align"]
    return (float(a["beta"]), float(a["lr"]), int(a["steps"]))


def pick(rows):
    """rows → {method: {"setting": (beta, lr, steps), "score": s, "grid": {setting: s}}}."""
    grid = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in rows:
        if r.get("judge") != "validation":
            raise PickError(f"row of {r.get('method')} (seed {r.get('seed')}) was scored by the {r.get('judge', 'unnamed')} judge; "
                            "the picker reads validation rows only")
        if r["method"] == "base":
            continue
        if not math.isfinite(r["mean_score"]):
            continue  # a diverged setting cannot win
        grid[r["method"]][setting_of(r)].append(r["mean_score"])
    picks = {}
    for method, settings in grid.items():
        scores = {s: statistics.mean(v) for s, v in settings.items()}
        best = max(scores, key=lambda s: (scores[s], -s[2], -s[1], -s[0]))
        picks[method] = {"setting": best, "score": scores[best], "grid": scores}
    if not picks:
        raise PickError("no validation rows of an aligned method")
    return picks


def edges(grid, setting):
    """Which axes of `setting` sit at the end of the values tried for that axis (with the others fixed)."""
    out = []
    for axis, name in enumerate(("beta", "lr", "steps")):
        line = sorted({s[axis] for s in grid if all(s[i] == setting[i] for i in range(3) if i != axis)})
        if len(line) > 1 and setting[axis] in (line[0], line[-1]):
            out.append(f"{name} {'max' if setting[axis] == line[-1] else 'min'}")
    return out


def merge(paths):
    """Row files → rows, a (method, seed, setting) seen twice keeping its last row (base rows once per seed)."""
    merged = {}
    for path in paths:
        for line in open(path):
            if line.strip():
                r = json.loads(line)
                key = (r["method"], r.get("seed"), r.get("judge")) + (() if r["method"] == "base" else setting_of(r))
                merged.pop(key, None)
                merged[key] = r
    return list(merged.values())


def spec(method, setting):
    beta, lr, steps = setting
    return f"{method.replace('-', ':')}@{beta:g},{lr:g},{steps}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows", nargs="?")
    p.add_argument("--json")
    p.add_argument("--svg")
    p.add_argument("--title", default="validation score vs β")
    p.add_argument("--merge", nargs="+", metavar="ROWS")
    p.add_argument("--self-test", action="store_true")
    a = p.parse_args()
    if a.self_test:
        return self_test()
    if a.merge:
        paths = ([a.rows] if a.rows else []) + a.merge
        for r in merge(paths):
            print(json.dumps(r))
        return
    rows = [json.loads(line) for line in open(a.rows) if line.strip()]
    try:
        picks = pick(rows)
    except PickError as e:
        sys.exit(f"seppo_pick: {e}")
    print(" ".join(spec(m, v["setting"]) for m, v in sorted(picks.items())))
    for m, v in sorted(picks.items()):
        if edges(v["grid"], v["setting"]):
            print(f"seppo_pick: {m}'s pick {spec(m, v['setting'])} is at its grid's edge ({', '.join(edges(v['grid'], v['setting']))})", file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({m: {"setting": dict(zip(("beta", "lr", "steps"), v["setting"])), "validation_score": v["score"],
                           "edges": edges(v["grid"], v["setting"]),
                           "grid": [dict(beta=s[0], lr=s[1], steps=s[2], validation_score=x) for s, x in sorted(v["grid"].items())]}
                       for m, v in sorted(picks.items())}, f, indent=1)
    if a.svg:
        series = {}
        for m, v in sorted(picks.items()):
            _, lr, steps = v["setting"]
            pts = [(s[0], x) for s, x in v["grid"].items() if s[1] == lr and s[2] == steps]
            if len({b for b, _ in pts}) > 1:  # SFT has no β
                series[f"{m} (lr {lr:g}, {steps} upd.)"] = pts
        line_plot(a.svg, a.title, "β", "validation score", series)


def self_test():
    """The picker follows validation scores, breaks ties toward less compute, and refuses test rows."""
    def row(method, beta, lr, steps, score, judge="validation", seed=0):
        return {"method": method, "seed": seed, "judge": judge, "mean_score": score,
                "align": {"beta": beta, "lr": lr, "steps": steps}}
    rows = [row("base", 0, 0, 0, -9.0),
            row("sft", 2000, 1e-4, 210, -2.0), row("sft", 2000, 1e-4, 630, -1.0),
            row("seppo-random-sign", 200, 1e-4, 210, -3.0), row("seppo-random-sign", 2000, 1e-4, 210, -1.5),
            row("seppo-random-sign", 2000, 3e-4, 210, -1.5), row("seppo-random-sign", 2000, 1e-4, 630, -1.5),
            row("seppo-random-sign", 20000, 1e-4, 210, float("nan"))]
    picks = pick(rows)
    assert picks["sft"]["setting"] == (2000, 1e-4, 630), picks["sft"]
    # three settings tie at −1.5: fewer updates first, then the smaller learning rate
    assert picks["seppo-random-sign"]["setting"] == (2000, 1e-4, 210), picks["seppo-random-sign"]
    assert spec("seppo-random-sign", (2000.0, 1e-4, 210)) == "seppo:random:sign@2000,0.0001,210"
    # edges: SFT's 630 is the most updates tried; seppo's β 2000 is inside (200, 2000, 20000 tried at lr 1e-4, 210),
    # its lr 1e-4 the smallest of two, its 210 the fewer of two
    assert edges(picks["sft"]["grid"], picks["sft"]["setting"]) == ["steps max"], edges(picks["sft"]["grid"], picks["sft"]["setting"])
    assert edges({s: 0 for s in [(200, 1e-4, 210), (2000, 1e-4, 210), (20000, 1e-4, 210), (2000, 3e-4, 210), (2000, 1e-4, 630)]},
                 (2000, 1e-4, 210)) == ["lr min", "steps min"]
    # merge: a setting scored again keeps its newest row; others stay
    with tempfile.TemporaryDirectory() as d:
        old, new = os.path.join(d, "old.jsonl"), os.path.join(d, "new.jsonl")
        with open(old, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        with open(new, "w") as f:
            f.write(json.dumps(row("sft", 2000, 1e-4, 210, -0.5)) + "\n")
        m = merge([old, new])
        assert len(m) == len(rows) and pick(m)["sft"]["setting"] == (2000, 1e-4, 210), m
    # a row scored by the test judge is refused, even one that would change the pick
    for bad in (row("sft", 2000, 1e-4, 210, 5.0, judge="test"), {k: v for k, v in row("sft", 2000, 1e-4, 210, 5.0).items() if k != "judge"}):
        try:
            pick(rows + [bad])
        except PickError:
            pass
        else:
            raise AssertionError("a non-validation row was accepted")
    # end to end through the command line: the printed specs, and exit status on a test row
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "v.jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows + [row("sft", 2000, 1e-4, 210, 5.0, judge="test")])
        import subprocess
        r = subprocess.run([sys.executable, __file__, path], capture_output=True, text=True)
        assert r.returncode != 0 and "validation rows only" in r.stderr, (r.returncode, r.stderr)
    print("seppo_pick self-test: 6 checks passed")


if __name__ == "__main__":
    main()
