#!/usr/bin/env bash
# Experiment (issue #26, deliverable 2, first knobs): what buys trajectory-model fidelity per CPU-minute.
#   make experiment-fidelity [ENVS="pointmaze-umaze pendulum" SEEDS="0 1 2" STEPS=20000 EVERY=2000
#                             LENGTHS="32 128" DIMS=32 HORIZONS=32 N_EVAL=4064 SAMPLE_STEPS=64 THREADS=2
#                             NETWORKS="temporal-unet window-mlp" MLP_DIMS=256 MLP_HORIZONS=2 MLP_STEPS=20000
#                             KNOB=base TRAJ_ARGS="" TRAIN_DATA_STEPS= APPEND=0]
# Per environment, seed, network, width (DIMS) and training horizon (HORIZONS): one trajectory model trained for
# STEPS optimizer steps in legs of EVERY steps (--stop-after / --resume, bit-identical to a straight run;
# the schedule is the STEPS-step one, so a point at k·EVERY is that run's state, not a k·EVERY-step run).
# After every leg: the EMA validation loss, and for every sampling length in LENGTHS (rows per window;
# the horizon is the length trained on) N_EVAL unguided transitions measured by `diffuse pgd evaluate
# --real` (relative dynamics error, marginal W1, roughness, docs/pgd.md §6.1). Each row records the
# training wall-clock and CPU minutes so far (sampling and evaluation excluded; CPU time does not grow when other jobs share the cores). Rows: experiments/results/
# fidelity.jsonl (ROWS=…); table: experiments/fidelity_table.py. The window-mlp network (SynthER-style
# transitions at horizon 2, docs/pgd.md §2.1) trains at its own defaults (stride 1, batch 256) for MLP_STEPS
# with widths MLP_DIMS and horizons MLP_HORIZONS, and samples only its horizon. KNOB names a variant whose extra `train trajectory` flags are TRAJ_ARGS (e.g.
# KNOB=lr1e-3 TRAJ_ARGS="--lr 1e-3"); it is recorded in every row and model name (experiments/fidelity_knobs.sh
# runs the knob sweep this way, APPEND=1 adds to ROWS instead of starting it afresh). Smoke run (a few minutes):
#   ENVS=pendulum SEEDS=0 STEPS=200 EVERY=100 LENGTHS="32 64" N_EVAL=500 SAMPLE_STEPS=16 DATA_STEPS=5000 bash experiments/fidelity.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ENVS=${ENVS:-"pointmaze-umaze pendulum"}
SEEDS=${SEEDS:-"0 1 2"}
DATA_STEPS=${DATA_STEPS:-100000}
STEPS=${STEPS:-20000}
EVERY=${EVERY:-2000}
LENGTHS=${LENGTHS:-"32 128"}
DIMS=${DIMS:-32}
HORIZONS=${HORIZONS:-32}
NETWORKS=${NETWORKS:-"temporal-unet window-mlp"}
MLP_DIMS=${MLP_DIMS:-256}
MLP_HORIZONS=${MLP_HORIZONS:-2}
MLP_STEPS=${MLP_STEPS:-$STEPS}
N_EVAL=${N_EVAL:-4064}            # 32 windows of 128 rows
SAMPLE_STEPS=${SAMPLE_STEPS:-64}  # EDM steps, as the demo
THREADS=${THREADS:-2}
KNOB=${KNOB:-base}
read -r -a TRAJ_EXTRA <<< "${TRAJ_ARGS:-}"
OUT=experiments/results
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK"
. experiments/lib.sh
experiment_binary   # D: a private copy of the release binary
ROWS=${ROWS:-$OUT/fidelity.jsonl}
[ "${APPEND:-0}" = 1 ] || : > "$ROWS"
for n in $STEPS $MLP_STEPS; do (( n % EVERY == 0 )) || { echo "steps ($n) must be a multiple of EVERY ($EVERY)" >&2; exit 2; }; done
now() { date +%s.%N; }
# CPU=seconds (user + system) of this shell's finished children: unlike wall time, it does not grow when
# other jobs share the cores. `times` must run in this shell, not in $(…) (a subshell's children start at zero).
cpu_now() { times > "$WORK/times.$$"; CPU=$(tail -1 "$WORK/times.$$" | awk '{ split($1, u, "m"); split($2, s, "m"); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }'); }
row() {  # row JSON-METRICS KEY=VALUE… → one JSON line (values that parse as numbers stay numbers)
  python3 - "$@" >> "$ROWS" <<'PY'
import json, sys
m = json.loads(sys.argv[1])
for kv in filter(None, sys.argv[2:]):
    k, v = kv.split("=", 1)
    try: m[k] = int(v)
    except ValueError:
        try: m[k] = float(v)
        except ValueError: m[k] = v
print(json.dumps(m))
PY
}
for env in $ENVS; do
  real="$WORK/$env.hdf5"
  [ -f "$real" ] || "$D" dataset collect --env "$env" --quality mixed --steps "$DATA_STEPS" --seed 0 -o "$real" --threads "$THREADS" --quiet > /dev/null
  # TRAIN_DATA_STEPS (the dataset-size knob): train on a smaller collection, still judged against the full one.
  train_data=$real
  if [ -n "${TRAIN_DATA_STEPS:-}" ]; then
    train_data="$WORK/$env-n$TRAIN_DATA_STEPS.hdf5"
    [ -f "$train_data" ] || "$D" dataset collect --env "$env" --quality mixed --steps "$TRAIN_DATA_STEPS" --seed 0 -o "$train_data" --threads "$THREADS" --quiet > /dev/null
  fi
  # One configuration per line: network, width, horizon, steps, sampling lengths.
  configs=()
  for net in $NETWORKS; do
    case $net in
      window-mlp) for dim in $MLP_DIMS; do for h in $MLP_HORIZONS; do configs+=("$net $dim $h $MLP_STEPS $h"); done; done ;;
      *) for dim in $DIMS; do for horizon in $HORIZONS; do configs+=("$net $dim $horizon $STEPS $LENGTHS"); done; done ;;
    esac
  done
  for seed in $SEEDS; do for config in "${configs[@]}"; do
    read -r net dim horizon steps lengths <<< "$config"
    model="$WORK/$env-s$seed-$net-d$dim-h$horizon-$KNOB.safetensors"
    train=("$D" train trajectory --data "$train_data" --network "$net" --steps "$steps" --horizon "$horizon" --dim "$dim" --seed "$seed" --threads "$THREADS"
           --checkpoint-every "$EVERY" --log-every "$EVERY" -o "$model" ${TRAJ_EXTRA[@]+"${TRAJ_EXTRA[@]}"})
    rm -f "$model"
    minutes=0 cpu_minutes=0
    for ((done = EVERY; done <= steps; done += EVERY)); do
      t0=$(now); cpu_now; c0=$CPU
      if (( done == EVERY )); then extra=(); else extra=(--resume); fi
      if (( done < steps )); then extra+=(--stop-after "$done"); fi
      log=$("${train[@]}" "${extra[@]}" --json 2>&1 >/dev/null) || { echo "$log" >&2; exit 1; }
      minutes=$(python3 -c "import sys; print(float(sys.argv[1]) + (float(sys.argv[3]) - float(sys.argv[2])) / 60)" "$minutes" "$t0" "$(now)")
      cpu_now
      cpu_minutes=$(python3 -c "import sys; print(float(sys.argv[1]) + (float(sys.argv[3]) - float(sys.argv[2])) / 60)" "$cpu_minutes" "$c0" "$CPU")
      val=$(sed -n "s/.*step $done: validation loss (EMA) \([0-9.eE+-]*\).*/\1/p" <<< "$log" | tail -1)
      for length in $lengths; do
        syn="$WORK/$env-s$seed-$net-d$dim-h$horizon-$KNOB-$done-L$length.hdf5"
        "$D" pgd generate --model "$model" -n "$N_EVAL" --length "$length" --steps "$SAMPLE_STEPS" --seed "$seed" --threads "$THREADS" --quiet -o "$syn" > /dev/null
        m=$("$D" pgd evaluate --data "$syn" --real "$real" --threads "$THREADS" --json --quiet)
        row "$m" env="$env" seed="$seed" knob="$KNOB" network="$net" dim="$dim" horizon="$horizon" length="$length" steps="$done" total_steps="$steps" \
            train_minutes="$minutes" train_cpu_minutes="$cpu_minutes" sample_steps="$SAMPLE_STEPS" "${val:+validation_loss=$val}"
        rm -f "$syn"
      done
      echo "$env seed $seed $net dim $dim horizon $horizon $KNOB: step $done, $(printf %.1f "$minutes") min, validation loss ${val:-?}" >&2
    done
  done; done
done
python3 experiments/fidelity_table.py "$ROWS"
