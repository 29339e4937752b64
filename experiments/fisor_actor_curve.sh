#!/usr/bin/env bash
# Experiment (issue #34): FISOR's return and cost against the actor's training budget, on shared critics.
#   CRITICS=<dir of seed checkpoints> bash experiments/fisor_actor_curve.sh
# For each dataset (ENV:QUALITY) and seed: one critic-first run whose critic phase is taken from
# $CRITICS/$env-$quality-$seed-fisor.safetensors (--critics-from: a finished critic-first run of the same
# seed, e.g. the WORK directory of experiments/fisor.sh), its actor trained for ITERS iterations and
# stopped (--stop-after, then --resume) at each of SNAPSHOTS; every snapshot is evaluated with each
# candidate rule of RULES (min-qh: the reference's safest of 16; feasible-sample: the first of 16 with
# Q_h ≤ 0; raw: one candidate, the actor's own sample) over EPISODES seeded episodes at κ = KAPPA.
# Rows (JSON lines) go to ROWS as each evaluation finishes. CRITIC_STEPS: the critic phase of the CRITICS runs.
# MARGIN: the actor's feasibility margin δ (--feasible-margin; docs/fisor.md, "A feasibility margin"), recorded
# in the rows when > 0: MARGIN=0.5 ITERS=2000 SNAPSHOTS=2000 compares margins on the same critics.
set -euo pipefail
cd "$(dirname "$0")/.."
DATASETS=${DATASETS:-"safe-circle:expert safe-goal:mixed"}
SEEDS=${SEEDS:-0}
ITERS=${ITERS:-12000}
SNAPSHOTS=${SNAPSHOTS:-"1000 2000 4000 8000 12000"}
RULES=${RULES:-"min-qh feasible-sample raw"}
EPISODES=${EPISODES:-20}
KAPPA=${KAPPA:-10}
THREADS=${THREADS:-1}
CRITIC_STEPS=${CRITIC_STEPS:-40000}   # the critic phase of the CRITICS runs
MARGIN=${MARGIN:-0}
CRITICS=${CRITICS:?the directory of finished critic-first checkpoints}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
ROWS=${ROWS:-experiments/results/fisor-actor-curve.jsonl}
D=${D:-.build/release/diffuse}
. experiments/lib.sh   # fisor_rule_row
for ds in $DATASETS; do
  env=${ds%%:*} quality=${ds##*:}
  for seed in $SEEDS; do
    src="$CRITICS/$env-$quality-$seed-fisor.safetensors" out="$WORK/$env-$quality-$seed-curve-$MARGIN.safetensors"
    rm -f "$out"; start=$(date +%s.%N)
    for snap in $SNAPSHOTS; do
      resume=(); [ -f "$out" ] && resume=(--resume)
      "$D" fisor train --data "$CRITICS/$env-$quality.hdf5" --critics-from "$src" --critic-steps "$CRITIC_STEPS" --actor-steps "$ITERS" --stop-after "$snap" --feasible-margin "$MARGIN" \
        --seed "$seed" --log-every 1000 --checkpoint-every "$ITERS" --eval-episodes 0 --threads "$THREADS" -o "$out" ${resume[@]+"${resume[@]}"} 2>> "$WORK/train.log" > /dev/null
      secs=$(python3 -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$start")
      for rule in $RULES; do
        fisor_rule_row "$out" "$rule" "$ds" "$seed" "$CRITIC_STEPS" "$snap" "$ITERS" "$secs" "$MARGIN" >> "$ROWS"
        tail -1 "$ROWS"
      done
    done
  done
done
