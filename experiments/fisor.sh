#!/usr/bin/env bash
# Experiment (issue F): FISOR against BC-All and BC-Safe on the built-in safe tasks (docs/fisor.md).
#   make experiment-fisor [SEEDS="0 1 2" DATASETS="safe-circle:expert safe-goal:mixed" STEPS=2000 KAPPAS="10 20 40"]
# Per dataset (ENV:QUALITY, 100k transitions from diffuse dataset collect, containing unsafe episodes)
# and seed: FISOR (HJ feasibility; trained once, it never uses κ), the qc cost-critic ablation (trained
# per κ in QC_KAPPAS: its threshold uses κ), BC-All (once) and BC-Safe (per κ: the episodes with cost
# return ≤ κ). Every policy is evaluated for every κ in KAPPAS over EPISODES seeded episodes (DSRL's
# normalized return and cost, fractions). Raw rows go to experiments/results/fisor.jsonl (and the first
# seed's safe-circle trajectories of FISOR and BC-All to experiments/results/fisor-rollout-*.json);
# experiments/fisor_table.py writes docs/fisor-results.md and docs/figures/fisor-trajectories.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"0 1 2"}
DATASETS=${DATASETS:-"safe-circle:expert safe-goal:mixed"}
DATA_STEPS=${DATA_STEPS:-100000}
STEPS=${STEPS:-2000}            # FISOR iterations (2 actor + 4 critic steps each)
BC_STEPS=${BC_STEPS:-$STEPS}
KAPPAS=${KAPPAS:-"10 20 40"}
QC_KAPPAS=${QC_KAPPAS-"10"}     # QC_KAPPAS="" skips the ablation (unset: κ = 10)
EPISODES=${EPISODES:-20}
THREADS=${THREADS:-1}
OUT=experiments/results
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK"
. experiments/lib.sh
experiment_binary   # D: a private copy of the release binary
ROWS=${ROWS:-$OUT/fisor.jsonl}
RDIR=$(dirname "$ROWS")   # rollouts go beside the rows
: > "$ROWS"
rm -f "$RDIR"/fisor-rollout-*.json
row() {  # row KIND DATASET SEED TRAIN-SECONDS EVAL-JSON → one JSON line
  python3 -c '
import json, sys
e = json.loads(sys.argv[5])
print(json.dumps(dict(kind=sys.argv[1], dataset=sys.argv[2], seed=int(sys.argv[3]), train_seconds=float(sys.argv[4]),
                      kappa=e["costLimit"], normalized_return=e["normalizedReturnMean"], normalized_cost=e["normalizedCostMean"],
                      safe=e["safe"], return_mean=e["returnMean"], cost_mean=e["costMean"], episodes=e["episodes"])))' "$@" >> "$ROWS"
}
train() {  # train OUTPUT ARGS… → prints the training seconds (an existing checkpoint is reused: 0)
  local out=$1; shift
  if [ -f "$out" ]; then echo 0; return; fi
  "$D" fisor train "$@" --eval-episodes 0 --threads "$THREADS" --json -o "$out" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])'
}
evaluate() {  # evaluate KIND DATASET SEED SECONDS CHECKPOINT KAPPA…
  local kind=$1 ds=$2 seed=$3 secs=$4 ckpt=$5; shift 5
  for k in "$@"; do
    row "$kind" "$ds" "$seed" "$secs" "$("$D" eval --policy "$ckpt" --episodes "$EPISODES" --seed 1000 --cost-limit "$k" --threads "$THREADS" --json 2>/dev/null)"
  done
}
for ds in $DATASETS; do
  env=${ds%%:*} quality=${ds##*:}
  data="$WORK/$env-$quality.hdf5"
  [ -f "$data" ] || "$D" dataset collect --env "$env" --quality "$quality" --steps "$DATA_STEPS" --seed 0 -o "$data" > /dev/null
  for seed in $SEEDS; do
    tag="$WORK/$env-$quality-$seed"
    s=$(train "$tag-fisor.safetensors" --data "$data" --steps "$STEPS" --seed "$seed" --log-every "$STEPS" --checkpoint-every "$STEPS")
    evaluate fisor "$ds" "$seed" "$s" "$tag-fisor.safetensors" $KAPPAS
    for k in $QC_KAPPAS; do
      s=$(train "$tag-qc-$k.safetensors" --data "$data" --critic qc --cost-limit "$k" --steps "$STEPS" --seed "$seed" --log-every "$STEPS" --checkpoint-every "$STEPS")
      evaluate fisor-qc "$ds" "$seed" "$s" "$tag-qc-$k.safetensors" "$k"
    done
    s=$(train "$tag-bc-all.safetensors" --algo bc-all --data "$data" --steps "$BC_STEPS" --seed "$seed" --log-every "$BC_STEPS" --checkpoint-every "$BC_STEPS")
    evaluate bc-all "$ds" "$seed" "$s" "$tag-bc-all.safetensors" $KAPPAS
    if [ "$env" = safe-circle ] && [ "$seed" = "${SEEDS%% *}" ]; then  # trajectories of the first seed
      for kind in fisor bc-all; do
        "$D" fisor rollout --policy "$tag-$kind.safetensors" --episodes 4 --seed 1000 --threads "$THREADS" > "$RDIR/fisor-rollout-$kind.json" 2>/dev/null
      done
    fi
    for k in $KAPPAS; do
      s=$(train "$tag-bc-safe-$k.safetensors" --algo bc-safe --cost-limit "$k" --data "$data" --steps "$BC_STEPS" --seed "$seed" --log-every "$BC_STEPS" --checkpoint-every "$BC_STEPS")
      evaluate bc-safe "$ds" "$seed" "$s" "$tag-bc-safe-$k.safetensors" "$k"
    done
  done
done
[ "${TABLE:-1}" = 1 ] || exit 0
TRAJ=()
for kind in fisor bc-all; do
  if [ -f "$RDIR/fisor-rollout-$kind.json" ]; then TRAJ+=("$kind=$RDIR/fisor-rollout-$kind.json"); fi
done
python3 experiments/fisor_table.py "$ROWS" docs/fisor-results.md ${TRAJ[@]+--trajectories "${TRAJ[@]}"} \
  --command "make experiment-fisor SEEDS=\"$SEEDS\" DATASETS=\"$DATASETS\" STEPS=$STEPS BC_STEPS=$BC_STEPS KAPPAS=\"$KAPPAS\" QC_KAPPAS=\"$QC_KAPPAS\" EPISODES=$EPISODES THREADS=$THREADS"
cat docs/fisor-results.md
