#!/usr/bin/env bash
# Experiment (issues F, #34): FISOR against BC-All and BC-Safe on the built-in safe tasks (docs/fisor.md).
#   make experiment-fisor [SEEDS="0 1 2" DATASETS="safe-circle:expert safe-goal:mixed" SCHEDULE=critic-first
#                          CRITIC_STEPS=40000 STEPS=2000 KAPPAS="10 20 40" MARGIN=0]
# Per dataset (ENV:QUALITY, 100k transitions from diffuse dataset collect, containing unsafe episodes)
# and seed: FISOR (HJ feasibility; trained once, it never uses κ) with SCHEDULE critic-first (CRITIC_STEPS
# critic steps, then STEPS actor iterations on the frozen critics) or joint (STEPS iterations of the
# reference loop), the qc cost-critic ablation (trained per κ in QC_KAPPAS: its threshold uses κ), BC-All
# (once) and BC-Safe (per κ: the episodes with cost return ≤ κ). Every policy is evaluated for every κ in
# KAPPAS over EPISODES seeded episodes (DSRL's normalized return and cost, fractions). Raw rows go to
# experiments/results/fisor.jsonl (ROWS), appended as each evaluation finishes; the feasibility critic's
# convergence records (every LOG_EVERY critic steps) to experiments/results/fisor-convergence.jsonl (CONV)
# and its training logs to experiments/results/fisor-logs/ (diffuse plot curves reads them); the first
# seed's safe-circle trajectories of FISOR and BC-All to experiments/results/fisor-rollout-*.json.
# experiments/fisor_table.py writes docs/fisor-results.md (with the rows of EXTRA_ROWS, by default the joint
# schedule's earlier run in experiments/results/fisor-joint.jsonl; EXTRA_ROWS="" leaves them out) and
# docs/figures/fisor-*.svg.
# Continuing an interrupted run: the same command with APPEND=1 and the same WORK resumes each
# checkpoint (--resume) and skips evaluations whose rows exist.
# Sharing a critic phase: CRITICS_FROM=DIR trains each FISOR run's actor on the critics of
# DIR/$env-$quality-$seed-fisor.safetensors (a finished critic-first run of the same seed and critic
# settings, e.g. an earlier WORK; --critics-from), so only the actor phase is run and timed; the
# rows record critics_from. BC_SAFE=0 skips BC-Safe.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"0 1 2"}
DATASETS=${DATASETS:-"safe-circle:expert safe-goal:mixed"}
DATA_STEPS=${DATA_STEPS:-100000}
SCHEDULE=${SCHEDULE:-critic-first}
CRITIC_STEPS=${CRITIC_STEPS:-40000}   # critic-first only: critic steps before the actor's
STEPS=${STEPS:-2000}            # FISOR actor iterations (2 actor steps each; joint: + 4 critic steps each)
BC_STEPS=${BC_STEPS:-$STEPS}
KAPPAS=${KAPPAS:-"10 20 40"}
QC_KAPPAS=${QC_KAPPAS-"10"}     # QC_KAPPAS="" skips the ablation (unset: κ = 10)
BC_ALL=${BC_ALL:-1}             # BC_ALL=0 skips BC-All
BC_SAFE=${BC_SAFE:-1}           # BC_SAFE=0 skips BC-Safe
CRITICS_FROM=${CRITICS_FROM:-}  # a directory of finished critic-first runs whose critic phase is reused
MARGIN=${MARGIN:-0}             # FISOR's feasibility margin δ (--feasible-margin; 0: the paper's weights)
EPISODES=${EPISODES:-20}
THREADS=${THREADS:-1}
LOG_EVERY=${LOG_EVERY:-1000}
OUT=experiments/results
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK"
. experiments/lib.sh
experiment_binary   # D: a private copy of the release binary
ROWS=${ROWS:-$OUT/fisor.jsonl}
CONV=${CONV:-$OUT/fisor-convergence.jsonl}
RDIR=$(dirname "$ROWS")   # rollouts and logs go beside the rows
LOGS=$RDIR/fisor-logs
mkdir -p "$LOGS"
if [ "${APPEND:-0}" != 1 ]; then
  : > "$ROWS"; : > "$CONV"
  rm -f "$RDIR"/fisor-rollout-*.json
fi
FISOR_ARGS=(--schedule "$SCHEDULE")
[ "$SCHEDULE" = joint ] || FISOR_ARGS+=(--critic-steps "$CRITIC_STEPS")
FISOR_ARGS+=(--feasible-margin "$MARGIN")
has_row() {  # has_row KIND DATASET SEED KAPPA → status 0 if ROWS already holds it
  python3 -c '
import json, sys
k, d, s, c = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if any(r["kind"] == k and r["dataset"] == d and r["seed"] == s and r["kappa"] == c for r in rows) else 1)' "$ROWS" "$@"
}
row() {  # row KIND DATASET SEED TRAIN-SECONDS EVAL-JSON → one JSON line
  python3 -c '
import json, sys
e = json.loads(sys.argv[5])
r = dict(kind=sys.argv[1], dataset=sys.argv[2], seed=int(sys.argv[3]), train_seconds=float(sys.argv[4]),
         kappa=e["costLimit"], normalized_return=e["normalizedReturnMean"], normalized_cost=e["normalizedCostMean"],
         safe=e["safe"], return_mean=e["returnMean"], cost_mean=e["costMean"], episodes=e["episodes"])
if sys.argv[1].startswith("fisor"):
    r.update(schedule=sys.argv[6], critic_steps=int(sys.argv[7]), actor_steps=int(sys.argv[8]))
    if sys.argv[9]:
        r.update(critics_from=sys.argv[9])
    if float(sys.argv[10]) > 0:
        r.update(feasible_margin=float(sys.argv[10]))
print(json.dumps(r))' "$@" "$SCHEDULE" "$CRITIC_STEPS" "$STEPS" "${SHARED:-}" "$MARGIN" >> "$ROWS"
}
train() {  # train OUTPUT LOG ARGS… → prints the training seconds (an existing checkpoint is resumed)
  local out=$1 log=$2; shift 2
  local resume=()
  if [ -f "$out" ]; then resume=(--resume); fi
  "$D" fisor train "$@" ${resume[@]+"${resume[@]}"} --eval-episodes 0 --threads "$THREADS" --json -o "$out" 2> "$log.raw" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])'
  grep '^step ' "$log.raw" >> "$log" || true
  rm -f "$log.raw"
}
convergence() {  # convergence DATASET SEED LOG → the log's convergence records as rows of CONV
  python3 -c '
import json, sys
for line in open(sys.argv[3]):
    w = line.split()
    if len(w) < 3 or w[0] != "step" or "critic_steps" not in w:
        continue
    r = dict(dataset=sys.argv[1], seed=int(sys.argv[2]), schedule=sys.argv[4])
    r.update({w[i]: float(w[i + 1]) for i in range(2, len(w) - 1, 2)})
    print(json.dumps(r))' "$@" "$SCHEDULE" >> "$CONV"
}
evaluate() {  # evaluate KIND DATASET SEED SECONDS CHECKPOINT KAPPA…
  local kind=$1 ds=$2 seed=$3 secs=$4 ckpt=$5; shift 5
  for k in "$@"; do
    has_row "$kind" "$ds" "$seed" "$k" && continue
    row "$kind" "$ds" "$seed" "$secs" "$("$D" eval --policy "$ckpt" --episodes "$EPISODES" --seed 1000 --cost-limit "$k" --threads "$THREADS" --json 2>/dev/null)"
  done
}
for ds in $DATASETS; do
  env=${ds%%:*} quality=${ds##*:}
  data="$WORK/$env-$quality.hdf5"
  [ -f "$data" ] || "$D" dataset collect --env "$env" --quality "$quality" --steps "$DATA_STEPS" --seed 0 -o "$data" > /dev/null
  for seed in $SEEDS; do
    tag="$WORK/$env-$quality-$seed"
    log="$LOGS/$env-$quality-$SCHEDULE-$seed.log"
    [ "${APPEND:-0}" = 1 ] || rm -f "$log"
    SHARED=; shared=()
    if [ -n "$CRITICS_FROM" ]; then SHARED="$CRITICS_FROM/$env-$quality-$seed-fisor.safetensors"; shared=(--critics-from "$SHARED"); fi
    s=$(train "$tag-fisor.safetensors" "$log" --data "$data" "${FISOR_ARGS[@]}" ${shared[@]+"${shared[@]}"} --actor-steps "$STEPS" --seed "$seed" --log-every "$LOG_EVERY" --checkpoint-every 5000)
    python3 - "$CONV" "$ds" "$seed" <<'PY' || convergence "$ds" "$seed" "$log"   # once per run
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if any(r["dataset"] == sys.argv[2] and r["seed"] == int(sys.argv[3]) for r in rows) else 1)
PY
    evaluate fisor "$ds" "$seed" "$s" "$tag-fisor.safetensors" $KAPPAS
    SHARED=
    for k in $QC_KAPPAS; do
      s=$(train "$tag-qc-$k.safetensors" "$WORK/qc.log" --data "$data" --critic qc --cost-limit "$k" "${FISOR_ARGS[@]}" --actor-steps "$STEPS" --seed "$seed" --log-every "$LOG_EVERY" --checkpoint-every 5000)
      evaluate fisor-qc "$ds" "$seed" "$s" "$tag-qc-$k.safetensors" "$k"
    done
    if [ "$BC_ALL" = 1 ]; then
      s=$(train "$tag-bc-all.safetensors" "$WORK/bc.log" --algo bc-all --data "$data" --actor-steps "$BC_STEPS" --seed "$seed" --log-every "$BC_STEPS" --checkpoint-every "$BC_STEPS")
      evaluate bc-all "$ds" "$seed" "$s" "$tag-bc-all.safetensors" $KAPPAS
    fi
    if [ "$env" = safe-circle ] && [ "$seed" = "${SEEDS%% *}" ]; then  # trajectories of the first seed
      for kind in fisor bc-all; do
        [ -f "$tag-$kind.safetensors" ] || continue
        "$D" fisor rollout --policy "$tag-$kind.safetensors" --episodes 4 --seed 1000 --threads "$THREADS" > "$RDIR/fisor-rollout-$kind.json" 2>/dev/null
      done
    fi
    for k in $KAPPAS; do
      [ "$BC_SAFE" = 1 ] || continue
      s=$(train "$tag-bc-safe-$k.safetensors" "$WORK/bc.log" --algo bc-safe --cost-limit "$k" --data "$data" --actor-steps "$BC_STEPS" --seed "$seed" --log-every "$BC_STEPS" --checkpoint-every "$BC_STEPS")
      evaluate bc-safe "$ds" "$seed" "$s" "$tag-bc-safe-$k.safetensors" "$k"
    done
  done
done
[ "${TABLE:-1}" = 1 ] || exit 0
TRAJ=()
for kind in fisor bc-all; do
  if [ -f "$RDIR/fisor-rollout-$kind.json" ]; then TRAJ+=("$kind=$RDIR/fisor-rollout-$kind.json"); fi
done
python3 experiments/fisor_table.py "$ROWS" ${EXTRA_ROWS-$OUT/fisor-joint.jsonl} -o docs/fisor-results.md --convergence "$CONV" --logs "$LOGS" --diffuse "$D" \
  ${TRAJ[@]+--trajectories "${TRAJ[@]}"} \
  --command "make experiment-fisor SEEDS=\"$SEEDS\" DATASETS=\"$DATASETS\" SCHEDULE=$SCHEDULE CRITIC_STEPS=$CRITIC_STEPS STEPS=$STEPS BC_STEPS=$BC_STEPS KAPPAS=\"$KAPPAS\" QC_KAPPAS=\"$QC_KAPPAS\" EPISODES=$EPISODES THREADS=$THREADS"
cat docs/fisor-results.md
