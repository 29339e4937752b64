#!/usr/bin/env bash
# Experiment (issue #26, sampler knobs): how EDM's sampler steps and churn change the fidelity of one
# trained trajectory model — knobs that cost no training, only sampling time.
#   bash experiments/fidelity_sampler.sh MODEL REAL [STEPS="32 64 128" CHURNS="0 10 80" N_EVAL=4064 THREADS=2 SEED=0
#                                                   GEN_ARGS="--policy AGENT --guidance 1" EVAL_ARGS="--policy AGENT"]
# For every (steps, churn): N_EVAL unguided transitions at the model's default length, measured by
# `diffuse pgd evaluate --real REAL` (docs/pgd.md §6.1), one JSON row each with the sampling seconds,
# appended to ROWS (default experiments/results/fidelity_sampler.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=$1 REAL=$2
STEPS=${STEPS:-"32 64 128"}
CHURNS=${CHURNS:-"0 10 80"}
N_EVAL=${N_EVAL:-4064}
THREADS=${THREADS:-2}
SEED=${SEED:-0}
GEN_ARGS=${GEN_ARGS:-}   # e.g. guided sampling: --policy AGENT --guidance λ (recorded in the row)
EVAL_ARGS=${EVAL_ARGS:-} # e.g. --policy AGENT: the rows also get log π(a|s)
ROWS=${ROWS:-experiments/results/fidelity_sampler.jsonl}
WORK=${WORK:-$(mktemp -d)}
. experiments/lib.sh
experiment_binary
for steps in $STEPS; do for churn in $CHURNS; do
  syn="$WORK/sampler-$steps-$churn.hdf5"
  t0=$(date +%s.%N)
  "$D" pgd generate --model "$MODEL" -n "$N_EVAL" --steps "$steps" --churn "$churn" --seed "$SEED" --threads "$THREADS" $GEN_ARGS --quiet -o "$syn" > /dev/null
  seconds=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$(date +%s.%N)")
  "$D" pgd evaluate --data "$syn" --real "$REAL" --threads "$THREADS" $EVAL_ARGS --json --quiet \
    | python3 -c "import json,sys; r=json.load(sys.stdin); r.update(model='$MODEL', sample_steps=$steps, churn=$churn, sample_seconds=$seconds, generate_args='$GEN_ARGS'); print(json.dumps(r))" >> "$ROWS"
  rm -f "$syn"
  echo "steps $steps churn $churn: $(tail -1 "$ROWS" | python3 -c "import json,sys; r=json.load(sys.stdin); print('rel. error mean %.3f median %.3f, W1 obs %.3f act %.3f, %.0f s' % (r['relativeDynamicsError'], r['relativeDynamicsErrorMedian'], r['observationW1Max'], r['actionW1Max'], r['sample_seconds']))")" >&2
done; done
