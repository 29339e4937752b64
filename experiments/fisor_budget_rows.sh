#!/usr/bin/env bash
# Rows of docs/fisor-results.md for a finished FISOR checkpoint trained outside experiments/fisor.sh
# (e.g. the last snapshot of experiments/fisor_actor_curve.sh): evaluates it at κ = 10, 20, 40 over 20
# seeded episodes (seed 1000, as fisor.sh) and appends one row per κ to ROWS.
#   bash experiments/fisor_budget_rows.sh DATASET SEED TRAIN_SECONDS CHECKPOINT CRITIC_STEPS ACTOR_ITERATIONS CRITICS_FROM
set -euo pipefail
cd "$(dirname "$0")/.."
D=${D:-.build/release/diffuse}
ROWS=${ROWS:-experiments/results/fisor-budget.jsonl}
ds=$1 seed=$2 secs=$3 ckpt=$4 cs=$5 as=$6 src=$7
for k in 10 20 40; do
  "$D" eval --policy "$ckpt" --episodes 20 --seed 1000 --cost-limit $k --threads 1 --json 2>/dev/null | python3 -c '
import json, sys
e = json.loads(sys.stdin.read())
r = dict(kind="fisor", dataset=sys.argv[1], seed=int(sys.argv[2]), train_seconds=float(sys.argv[3]), kappa=e["costLimit"],
         normalized_return=e["normalizedReturnMean"], normalized_cost=e["normalizedCostMean"], safe=e["safe"], return_mean=e["returnMean"],
         cost_mean=e["costMean"], episodes=e["episodes"], schedule="critic-first", critic_steps=int(sys.argv[4]), actor_steps=int(sys.argv[5]),
         critics_from=sys.argv[6])
print(json.dumps(r))' "$ds" "$seed" "$secs" "$cs" "$as" "$src" >> "$ROWS"
done
