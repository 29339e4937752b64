#!/usr/bin/env bash
# Experiment (issue #26, deliverable 2): the knob sweep of the transition generator. Each variant changes one
# setting of `diffuse train trajectory` from its default (window MLP, width 256 × 4 blocks, H = 2, batch 256,
# peak LR 2e-3, EMA 0.995, EDM σ_data 1, ln σ ~ N(−1.2, 1.2²), 100k transitions) and is trained for STEPS
# steps by experiments/fidelity.sh, which records the learning curve (EMA validation loss, relative dynamics
# error, marginal W1 against training minutes) every EVERY steps. JOBS variants run at once, one thread each
# (so every variant shares the machine the same way), in the order listed.
#   make experiment-fidelity-knobs [ENVS=pointmaze-umaze SEEDS=0 STEPS=6000 EVERY=2000 JOBS=2 KNOBS="base dim128 …"]
# Rows: experiments/results/fidelity-knobs.jsonl (ROWS=…), each with its knob; table and curves:
#   python3 experiments/fidelity_table.py experiments/results/fidelity-knobs.jsonl --svg docs/figures --name fidelity-knobs
# COST=1 [COST_STEPS=500 COST_ROWS=…] measures each knob's CPU seconds per 1,000 steps instead (see cost below).
set -euo pipefail
cd "$(dirname "$0")/.."
ENVS=${ENVS:-pointmaze-umaze}
SEEDS=${SEEDS:-0}
STEPS=${STEPS:-6000}
EVERY=${EVERY:-2000}
JOBS=${JOBS:-2}
ROWS=${ROWS:-experiments/results/fidelity-knobs.jsonl}
WORK=${WORK:-$(mktemp -d)}
# name → extra `train trajectory` flags (dimN: width N; data25k: a quarter of the data, judged against the full
# file; steps2x: twice the steps; hN: windows of N rows, which makes roughness measurable).
declare -A ARGS=(
  [base]="" [dim128]="" [dim512]="" [blocks2]="--blocks 2" [blocks6]="--blocks 6"
  [batch128]="--batch-size 128" [batch512]="--batch-size 512" [lr1e-3]="--lr 1e-3" [lr4e-3]="--lr 4e-3"
  [ema0.999]="--ema-decay 0.999" [ema0.99]="--ema-decay 0.99" [sigma0.5]="--sigma-data 0.5"
  [noise-0.6]="--noise-mean -0.6" [noise-std0.8]="--noise-std 0.8" [data25k]="" [steps2x]="" [ddpm]="--objective ddpm"
  [h4]="" [h8]=""
)
KNOBS=${KNOBS:-"base dim128 dim512 blocks2 blocks6 batch128 batch512 lr1e-3 lr4e-3 ema0.999 ema0.99 sigma0.5 noise-0.6 noise-std0.8 data25k steps2x"}
# KNOB@N: that knob trained for N steps instead of STEPS (e.g. dim128@16000: a narrower model for the minutes of the base).
for k in $KNOBS; do [ "${ARGS[${k%@*}]+set}" = set ] || { echo "unknown knob '${k%@*}' (known: ${!ARGS[*]})" >&2; exit 2; }; done
. experiments/lib.sh
experiment_binary
export DIFFUSE=$D WORK ROWS APPEND=1 NETWORKS=window-mlp THREADS=1 EVERY ENVS SEEDS
# The real files once, before the lanes start (both would collect them otherwise).
for env in $ENVS; do
  [ -f "$WORK/$env.hdf5" ] || "$D" dataset collect --env "$env" --quality mixed --steps "${DATA_STEPS:-100000}" --seed 0 -o "$WORK/$env.hdf5" --threads 1 --quiet > /dev/null
done
run() {
  local k=$1 name=${1%@*} steps=$STEPS extra=()
  [[ $k == *@* ]] && steps=${k#*@}
  case $name in
    steps2x) steps=$((2 * STEPS)) ;;
    data25k) extra=(TRAIN_DATA_STEPS=25000) ;;
    dim*) extra=(MLP_DIMS="${name#dim}") ;;
    h*) extra=(MLP_HORIZONS="${name#h}") ;;
  esac
  if [ "${COST:-0}" = 1 ]; then cost "$k" "${extra[@]}"; return; fi
  env "${extra[@]}" KNOB="$k" TRAJ_ARGS="${ARGS[$name]}" MLP_STEPS="$steps" STEPS="$steps" bash experiments/fidelity.sh > /dev/null
}
# COST=1: instead of the sweep, each knob's training cost on one thread — CPU seconds (user + system, which
# other jobs on the machine do not inflate) per 1,000 steps over COST_STEPS steps — one row per knob and
# environment in COST_ROWS, so curves whose wall-clock minutes were taken under different loads can be
# compared in CPU minutes (experiments/fidelity_table.py --cost).
cost() {
  local k=$1 dim=256 horizon=2; shift
  for kv in "$@"; do case $kv in MLP_DIMS=*) dim=${kv#*=} ;; MLP_HORIZONS=*) horizon=${kv#*=} ;; esac; done
  local -a flags
  read -r -a flags <<< "${ARGS[${k%@*}]}"
  for env in $ENVS; do
    times > "$WORK/times.$k"
    "$D" train trajectory --data "$WORK/$env.hdf5" --steps "${COST_STEPS:-500}" --dim "$dim" --horizon "$horizon" --seed 0 --threads 1 --quiet \
      --checkpoint-every 1000000 -o "$WORK/cost-$k.safetensors" ${flags[@]+"${flags[@]}"} > /dev/null
    times >> "$WORK/times.$k"
    python3 - "$WORK/times.$k" "$k" "$env" "${COST_STEPS:-500}" >> "${COST_ROWS:-experiments/results/fidelity-knob-cost.jsonl}" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().split("\n")
sec = lambda line: sum(int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", line))
cpu = sec(lines[3]) - sec(lines[1])  # children's user + system, after minus before
print(json.dumps({"knob": sys.argv[2], "env": sys.argv[3], "steps": int(sys.argv[4]), "cpu_seconds_per_1k_steps": 1000 * cpu / int(sys.argv[4])}))
PY
    rm -f "$WORK/cost-$k.safetensors"
  done
}
# JOBS lanes, the knobs dealt round-robin; a failed variant is reported and the lane goes on.
read -r -a knobs <<< "$KNOBS"
pids=()
for ((lane = 0; lane < JOBS; lane++)); do
  (
    failed=0
    for ((i = lane; i < ${#knobs[@]}; i += JOBS)); do run "${knobs[$i]}" || { echo "knob ${knobs[$i]} failed" >&2; failed=1; }; done
    exit $failed
  ) & pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ "${COST:-0}" = 1 ] || python3 experiments/fidelity_table.py "$ROWS"
exit $status
