#!/usr/bin/env bash
# Experiment (issues #28, #34): the candidate rule at action time, on FISOR policies already trained by
# experiments/fisor.sh. Each $WORK/$env-$quality-$seed-fisor.safetensors (DATASETS × SEEDS) is evaluated with
# each rule of RULES over EPISODES seeded episodes at κ = KAPPA, nothing retrained: min-qh (the reference's:
# the candidate of 16 with the smallest Q_h), max-qr (the feasible candidate with the largest Q_r), feasible-sample
# (the first feasible candidate) and raw (one candidate, the actor's own sample). Rows (the format of
# experiments/fisor_actor_curve.sh) go to ROWS; fisor_table.py --rules renders them.
#   WORK=<fisor.sh work folder> DATASETS="halfcheetah-velocity:mixed" SEEDS="0 1 2" bash experiments/fisor_rules.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:?the work folder of a finished experiments/fisor.sh run}
DATASETS=${DATASETS:-"halfcheetah-velocity:mixed"}
SEEDS=${SEEDS:-"0 1 2"}
RULES=${RULES:-"min-qh max-qr feasible-sample raw"}
EPISODES=${EPISODES:-20}
KAPPA=${KAPPA:-10}
THREADS=${THREADS:-1}
CRITIC_STEPS=${CRITIC_STEPS:-40000}
ACTOR_STEPS=${ACTOR_STEPS:-2000}
ROWS=${ROWS:-experiments/results/fisor-rules.jsonl}
D=${D:-$WORK/diffuse}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for ds in $DATASETS; do
  env=${ds%%:*}; quality=${ds#*:}
  for seed in $SEEDS; do
    policy="$WORK/$env-$quality-$seed-fisor.safetensors"
    [ -f "$policy" ] || { echo "skipping $policy (not trained)" >&2; continue; }
    for rule in $RULES; do
      case $rule in
        raw) python3 dev/fisor_patch_checkpoint.py "$policy" "$scratch/eval.safetensors" candidates=1 ;;
        *) python3 dev/fisor_patch_checkpoint.py "$policy" "$scratch/eval.safetensors" "selection=\"$rule\"" ;;
      esac
      "$D" eval --policy "$scratch/eval.safetensors" --episodes "$EPISODES" --seed 1000 --cost-limit "$KAPPA" --threads "$THREADS" --json 2>/dev/null | python3 -c '
import json, sys
e = json.load(sys.stdin)
print(json.dumps(dict(dataset=sys.argv[1], seed=int(sys.argv[2]), critic_steps=int(sys.argv[3]), actor_iterations=int(sys.argv[4]), total_iterations=int(sys.argv[4]),
      rule=sys.argv[5], train_seconds=0.0, kappa=e["costLimit"], normalized_return=e["normalizedReturnMean"], normalized_cost=e["normalizedCostMean"],
      return_mean=e["returnMean"], cost_mean=e["costMean"], episodes=e["episodes"])))' "$ds" "$seed" "$CRITIC_STEPS" "$ACTOR_STEPS" "$rule" >> "$ROWS"
      tail -1 "$ROWS"
    done
  done
done
