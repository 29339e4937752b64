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
. experiments/lib.sh   # fisor_rule_row
for ds in $DATASETS; do
  env=${ds%%:*}; quality=${ds#*:}
  for seed in $SEEDS; do
    policy="$WORK/$env-$quality-$seed-fisor.safetensors"
    [ -f "$policy" ] || { echo "skipping $policy (not trained)" >&2; continue; }
    for rule in $RULES; do
      fisor_rule_row "$policy" "$rule" "$ds" "$seed" "$CRITIC_STEPS" "$ACTOR_STEPS" "$ACTOR_STEPS" 0 0 >> "$ROWS"
      tail -1 "$ROWS"
    done
  done
done
