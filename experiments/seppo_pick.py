#!/usr/bin/env python3
"""Picks each method's setting of a SePPO sweep (experiments/seppo_sweep.sh, issue #29) from validation rows only.

Usage: seppo_pick.py VALIDATION.jsonl [--json PICKED.json] [--svg SCORE_VS_BETA.svg] [--title T]
       seppo_pick.py --self-test

Reads one file, the selection phase's rows (experiments/seppo.sh with JUDGE=validation), and refuses any row
that a test judge scored: the picker has no way to see the test split. Per method (the row's `method`), every
setting (beta, lr, steps) is scored by the mean of `mean_score` over its rows; the highest wins, ties going to
fewer updates, then the smaller learning rate, then the smaller β. Prints the picks as seppo.sh METHODS entries,
METHOD[:REF[:FLIP]]@BETA,LR,STEPS; --json also writes every setting's validation score; --svg plots the validation
score against β per method at the method's picked lr and update count.
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


def spec(method, setting):
    beta, lr, steps = setting
    return f"{method.replace('-', ':')}@{beta:g},{lr:g},{steps}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows", nargs="?")
    p.add_argument("--json")
    p.add_argument("--svg")
    p.add_argument("--title", default="validation score vs β")
    p.add_argument("--self-test", action="store_true")
    a = p.parse_args()
    if a.self_test:
        return self_test()
    rows = [json.loads(line) for line in open(a.rows) if line.strip()]
    try:
        picks = pick(rows)
    except PickError as e:
        sys.exit(f"seppo_pick: {e}")
    print(" ".join(spec(m, v["setting"]) for m, v in sorted(picks.items())))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({m: {"setting": dict(zip(("beta", "lr", "steps"), v["setting"])), "validation_score": v["score"],
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
    print("seppo_pick self-test: 4 checks passed")


if __name__ == "__main__":
    main()
