#!/usr/bin/env bash
# Regenerates docs/fisor-results.md and its figures from the committed FISOR rows (no training): the critic-first
# and joint runs, the budget and actor-curve probes, the feasibility-margin comparison, the convergence records
# and logs, and seed 0's safe-circle rollouts. DIFFUSE: the binary that draws the convergence curves.
set -euo pipefail
cd "$(dirname "$0")/.."
R=experiments/results
D=${DIFFUSE:-.build/release/diffuse}
[ -x "$D" ] || swift build -c release --product diffuse
# The MuJoCo velocity run (issue #28) first, then the built-in tasks' runs; the commands are kept in the page's
# header lines (the first two indented lines), which this script reads back.
commands=$(sed -n '/^    /p' docs/fisor-results.md | head -2 | sed 's/^    //')
python3 experiments/fisor_table.py $R/fisor-halfcheetah-velocity.jsonl $R/fisor-hopper-velocity.jsonl $R/fisor-safe-circle.jsonl $R/fisor-safe-goal.jsonl $R/fisor-budget.jsonl $R/fisor-joint.jsonl \
  -o docs/fisor-results.md --logs $R/fisor-logs --diffuse "$D" \
  --convergence $R/fisor-convergence-halfcheetah-velocity.jsonl $R/fisor-convergence-hopper-velocity.jsonl $R/fisor-convergence-safe-circle.jsonl $R/fisor-convergence-safe-goal.jsonl $R/fisor-convergence-safe-goal-80k.jsonl \
  --curve $R/fisor-actor-curve.jsonl $R/fisor-actor-curve-halfcheetah-velocity.jsonl $R/fisor-actor-curve-hopper-velocity.jsonl --margin $R/fisor-margin.jsonl --rules $R/fisor-rules-halfcheetah-velocity.jsonl $R/fisor-rules-hopper-velocity.jsonl \
  --trajectories fisor=$R/fisor-rollout-fisor.json bc-all=$R/fisor-rollout-bc-all.json \
  --command "$(sed -n 1p <<< "$commands")" --command "$(sed -n 2p <<< "$commands")"
