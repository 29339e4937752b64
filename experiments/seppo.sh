#!/usr/bin/env bash
# Experiment (issue G): SePPO vs Diffusion-DPO, SFT and SPIN on the 8×8 digits (docs/seppo.md §6, Setup A)
# or on pointmaze-umaze trajectory windows (SETUP=trajectories, docs/seppo.md §7).
#   make experiment-seppo [SETUP=digits SEEDS="0 1 2 3 4" BASE_STEPS=4000 STEPS=210 BETA=2000 LR=0.0001 PER_CLASS=50 THREADS=1 JOBS=1]
#   make experiment-seppo SETUP=trajectories [TRAJ_ENV=pointmaze-umaze|halfcheetah|hopper|walker2d BASE_STEPS=6000 TOP=0.2 SAMPLES=256 …]
# Cost at the defaults, per seed on one thread: digits ≈ 4–6 min for the base model, ≈ 1 min per
# alignment (with the held-out diagnostics), ≈ 10 s per scoring — about 15 min per seed; trajectories
# ≈ 3.5 min for the base model, ≈ 1–2 min per alignment.
# Trajectories: one mixed-quality pointmaze-umaze dataset (seed 0); per seed a trajectory model
# (diffuse train trajectory, EDM, H = 32) is the base; the preferred set is the best TOP fraction of
# the dataset's windows by the exact path score, which also scores the samples (no learned scorer).
# Once: the held-out scorer (scorer split only). Per seed: a base model on clean + degraded digits,
# then every method from that base with the same number of updates and preferred digits per update
# (Base, SFT, Diffusion-DPO on oracle pairs, SPIN, SePPO with ref ∈ {random, initial, latest} and
# flip ∈ {sign, indicator, off}); each model is sampled with the same DDIM seed (paired samples) and
# scored (diffuse seppo score); during alignment the held-out scorer also logs a score-vs-step curve
# and the flipper's precision (diagnostics only; the scorer never enters a loss). Rows go to experiments/results/seppo.jsonl; experiments/seppo_table.py
# writes docs/seppo-results.md; base-vs-aligned grids go to docs/figures/seppo-*.png.
# A METHODS entry may carry its own setting, METHOD[:REF[:FLIP]]@BETA,LR,STEPS (what the sweep's picks
# look like); the row records beta, lr and steps either way. STEPS may be snapshots of one run, 210+630
# (one row each).
# JUDGE=validation (the sweep's selection phase, experiments/seppo_sweep.sh): digits are judged by the
# validation judge (seppo train-scorer --split evaluation), never by the test judge, which is not even
# trained; every score (both setups) uses sampling seeds 2000 + seed instead of 1000 + seed.
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP=${SETUP:-digits}            # digits | trajectories
SEEDS=${SEEDS:-"0 1 2 3 4"}
if [ "$SETUP" = trajectories ]; then BASE_STEPS=${BASE_STEPS:-6000}; else BASE_STEPS=${BASE_STEPS:-4000}; fi
STEPS=${STEPS:-210}
BANK_EVERY=${BANK_EVERY:-30}
BETA=${BETA:-2000}
LR=${LR:-0.0001}
PER_CLASS=${PER_CLASS:-50}        # digits: samples per class scored
SAMPLES=${SAMPLES:-256}           # trajectories: windows scored
TOP=${TOP:-0.2}                   # trajectories: preferred fraction of the dataset's windows
DATA_STEPS=${DATA_STEPS:-100000}  # trajectories: transitions in the dataset (pointmaze)
TRAJ_ENV=${TRAJ_ENV:-pointmaze-umaze}  # trajectories: pointmaze-umaze, or a MuJoCo robot (its medium-replay recipe; issue #28)
SCORE_STEPS=${SCORE_STEPS:-50}
EVAL_EVERY=${EVAL_EVERY:-30}      # score-vs-step curve and flip precision (held-out diagnostics, not training signal)
THREADS=${THREADS:-1}
JOBS=${JOBS:-1}                   # seeds run in parallel (each with THREADS threads); 2 on a 2-core machine
METHODS=${METHODS-"sft dpo spin seppo:random:sign seppo:random:indicator seppo:random:off seppo:initial:sign seppo:latest:sign"}
JUDGE=${JUDGE:-test}              # test | validation
PNGS=${PNGS:-1}                   # digits: seed 0's base / SFT / SePPO grids (the test judge's runs only)
OUT=experiments/results
if [ "$SETUP" = trajectories ]; then TAG=seppo-trajectories; else TAG=seppo; fi
[ "$SETUP" = trajectories ] && [ "$TRAJ_ENV" != pointmaze-umaze ] && TAG=seppo-trajectories-$TRAJ_ENV
RESULTS=${RESULTS:-docs/$TAG-results.md}   # the table (a smoke run can write elsewhere)
FIGURES=${FIGURES:-docs/figures}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK" "$FIGURES"
. experiments/lib.sh
experiment_binary   # D: a private copy of the release binary
ROWS=${ROWS:-$OUT/$TAG.jsonl}
: > "$ROWS"
row() {  # row METHOD SEED ALIGN-JSON SCORE-JSON → one JSON line in the seed's own file (seeds may run in parallel)
  python3 -c "import json,sys; a=json.loads(sys.argv[3]); s=json.loads(sys.argv[4]); s.update(method=sys.argv[1], seed=int(sys.argv[2]), align=a, judge=sys.argv[5]); print(json.dumps(s))" "$@" "$JUDGE" >> "$ROWS.seed$2"
}
# Artifacts already in WORK are reused (runs are deterministic for a seed and thread count).
if [ "$SETUP" = trajectories ]; then
  if [ "$TRAJ_ENV" = pointmaze-umaze ]; then
    DATA="$WORK/umaze.hdf5"
    [ -f "$DATA" ] || "$D" dataset collect --env pointmaze-umaze --quality mixed --steps "$DATA_STEPS" --seed 0 -o "$DATA" > /dev/null 2>&1
  else   # a MuJoCo robot: D4RL's medium-replay recipe (docs/environments.md §7), as experiments/pgd.sh
    DATA="$WORK/$TRAJ_ENV.hdf5"
    [ -f "$DATA" ] || "$D" dataset collect --env "$TRAJ_ENV" --quality medium-replay --steps 1000000 --seed 0 -o "$DATA" > /dev/null 2>&1
  fi
  SETUP_ARGS=(--preferred "$DATA" --top "$TOP" --scorer exact)
else
  if [ "$JUDGE" = validation ]; then SCORER="$WORK/validation-scorer.safetensors"; SPLIT=evaluation
  else SCORER="$WORK/scorer.safetensors"; SPLIT=scorer; fi
  [ -f "$SCORER" ] || "$D" seppo train-scorer --split "$SPLIT" --seed 0 --threads "$THREADS" -o "$SCORER" 2> /dev/null
  SETUP_ARGS=(--scorer "$SCORER")
fi
if [ "$JUDGE" = validation ]; then SCORE_SEED_BASE=2000; else SCORE_SEED_BASE=1000; fi
run_seed() {
  local seed=$1
  : > "$ROWS.seed$seed"
  base="$WORK/base-$seed.safetensors"
  if [ "$SETUP" = trajectories ]; then
    [ -f "$base" ] || "$D" train trajectory --network temporal-unet --data "$DATA" --steps "$BASE_STEPS" --seed "$seed" --threads "$THREADS" --log-every "$BASE_STEPS" \
      --checkpoint-every "$BASE_STEPS" -o "$base" > /dev/null 2>&1
  else
    [ -f "$base" ] || "$D" seppo train-base --steps "$BASE_STEPS" --seed "$seed" --threads "$THREADS" --log-every "$BASE_STEPS" \
      --checkpoint-every "$BASE_STEPS" -o "$base" > /dev/null 2>&1
  fi
  score() {  # score MODEL [PNG] → JSON; the sampling seed is shared by all methods of this seed (paired samples)
    if [ "$SETUP" = trajectories ]; then
      "$D" seppo score --model "$1" --samples "$SAMPLES" --steps "$SCORE_STEPS" --seed $((SCORE_SEED_BASE + seed)) --threads "$THREADS" --json
    else
      "$D" seppo score --model "$1" --scorer "$SCORER" --per-class "$PER_CLASS" --steps "$SCORE_STEPS" \
        --seed $((SCORE_SEED_BASE + seed)) --threads "$THREADS" --json ${2:+--png "$2"}
    fi
  }
  row base "$seed" '{}' "$(score "$base" "$([ "$seed" = 0 ] && [ "$SETUP" = digits ] && [ "$JUDGE$PNGS" = test1 ] && echo "$FIGURES/seppo-base.png")")"
  for spec in $METHODS; do
    local setting="" beta=$BETA lr=$LR steps=$STEPS
    if [[ $spec == *@* ]]; then setting=${spec#*@}; spec=${spec%@*}; IFS=, read -r beta lr steps <<< "$setting"; fi
    IFS=: read -r method ref flip <<< "$spec"
    name=${spec//:/-}
    extra=()
    [ -n "${ref:-}" ] && extra+=(--ref "$ref")
    [ -n "${flip:-}" ] && extra+=(--flip "$flip")
    # STEPS may list snapshots, e.g. 210+630: one run to the last, stopped and scored at each earlier
    # one (--stop-after, then --resume). The learning rate is constant and the bank grows every
    # BANK_EVERY updates, so the model after 210 of 630 updates is the model of a 210-update run
    # (Tests/DiffuseCLITests/SePPOCLITests.swift checks it), and the update-count axis of a sweep costs
    # one run at its largest count.
    IFS=+ read -ra snaps <<< "$steps"
    last=${snaps[${#snaps[@]}-1]}
    out="$WORK/$name${setting:+-${setting//,/-}}-$seed.safetensors"
    resume=() elapsed=0
    for s in "${snaps[@]}"; do
      start=$(date +%s.%N)
      stop=(); [ "$s" = "$last" ] || stop=(--stop-after "$s")
      align=$("$D" seppo align --base "$base" --method "$method" "${extra[@]}" --steps "$last" --bank-every "$BANK_EVERY" --beta "$beta" \
        --lr "$lr" --seed "$seed" --threads "$THREADS" --log-every "$last" --checkpoint-every "$last" "${SETUP_ARGS[@]}" \
        --eval-every "$EVAL_EVERY" --json -o "$out" ${resume[@]+"${resume[@]}"} ${stop[@]+"${stop[@]}"} 2> /dev/null)
      align=${align:-"{}"}   # a stop prints no summary; the row still records the setting, updates and time
      resume=(--resume)
      elapsed=$(python3 -c "print($elapsed + $(date +%s.%N) - $start)")
      snapshot=$out
      if [ "$s" != "$last" ]; then snapshot="${out%.safetensors}-at$s.safetensors"; cp "$out" "$snapshot"; fi
      # The row: beta, lr, the snapshot's update count and the wall time to reach it.
      align=$(python3 -c "import json,sys; a=json.loads(sys.argv[1]); a.update(beta=float(sys.argv[2]), lr=float(sys.argv[3]), steps=int(sys.argv[4]), seconds=float(sys.argv[5]), checkpoint=sys.argv[6]); print(json.dumps(a))" \
        "$align" "$beta" "$lr" "$s" "$elapsed" "$snapshot")
      echo "seed $seed $name${setting:+ @ $setting}, $s updates: $(python3 -c "print(f'{$elapsed:.0f}')") s" >&2
      png=""
      if [ "$seed" = 0 ] && [ "$SETUP" = digits ] && [ "$JUDGE$PNGS" = test1 ] && [ "$s" = "$last" ]; then
        [ "$name" = "seppo-random-sign" ] && png="$FIGURES/seppo-aligned.png"
        [ "$name" = "sft" ] && png="$FIGURES/seppo-sft.png"
      fi
      row "$name" "$seed" "$align" "$(score "$snapshot" "$png")"
    done
  done
}
# Each seed runs in the background (set -e: a failure ends it) and marks its end; `wait` without pids, since
# bash may have forgotten a seed that finished long ago ("not a child of this shell" stopped a 5-seed run).
for seed in $SEEDS; do
  rm -f "$ROWS.done$seed"
  ( run_seed "$seed"; touch "$ROWS.done$seed" ) &
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
done
wait
for seed in $SEEDS; do
  [ -f "$ROWS.done$seed" ] || { echo "seppo.sh: seed $seed failed (its rows so far: $ROWS.seed$seed)" >&2; exit 1; }
  rm -f "$ROWS.done$seed"
done
for seed in $SEEDS; do cat "$ROWS.seed$seed"; rm -f "$ROWS.seed$seed"; done >> "$ROWS"
[ "${TABLE:-1}" = 1 ] || exit 0
if [ "$SETUP" = trajectories ]; then SIZE="TRAJ_ENV=$TRAJ_ENV SAMPLES=$SAMPLES TOP=$TOP DATA_STEPS=$DATA_STEPS"; else SIZE="PER_CLASS=$PER_CLASS"; fi
SETTINGS=(); [[ $METHODS == *@* ]] && SETTINGS=(--settings)   # per-method settings (a sweep's picks)
python3 experiments/seppo_table.py "$ROWS" "$RESULTS" --setup "$SETUP" --svg "${CURVES:-$FIGURES/$TAG-curves.svg}" ${SETTINGS[@]+"${SETTINGS[@]}"} \
  --command "${COMMAND:-make experiment-seppo SETUP=$SETUP SEEDS=\"$SEEDS\" BASE_STEPS=$BASE_STEPS STEPS=$STEPS BANK_EVERY=$BANK_EVERY BETA=$BETA LR=$LR $SIZE SCORE_STEPS=$SCORE_STEPS EVAL_EVERY=$EVAL_EVERY THREADS=$THREADS JOBS=$JOBS}"
