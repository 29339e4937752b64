#!/usr/bin/env bash
# Regenerates docs/fisor-results.md and its figures from the committed FISOR rows (no training): the critic-first
# and joint runs, the budget and actor-curve probes, the feasibility-margin comparison, the convergence records
# and logs, and seed 0's safe-circle rollouts. DIFFUSE: the binary that draws the convergence curves.
set -euo pipefail
cd "$(dirname "$0")/.."
R=experiments/results
D=${DIFFUSE:-.build/release/diffuse}
[ -x "$D" ] || swift build -c release --product diffuse
python3 experiments/fisor_table.py $R/fisor-safe-circle.jsonl $R/fisor-safe-goal.jsonl $R/fisor-budget.jsonl $R/fisor-joint.jsonl \
  -o docs/fisor-results.md --logs $R/fisor-logs --diffuse "$D" \
  --convergence $R/fisor-convergence-safe-circle.jsonl $R/fisor-convergence-safe-goal.jsonl $R/fisor-convergence-safe-goal-80k.jsonl \
  --curve $R/fisor-actor-curve.jsonl --margin $R/fisor-margin.jsonl \
  --trajectories fisor=$R/fisor-rollout-fisor.json bc-all=$R/fisor-rollout-bc-all.json \
  --command "$(sed -n 5p docs/fisor-results.md | sed 's/^    //')"
