#!/usr/bin/env bash
# Experiment (issue #27): diffusion BC, IDQL and Diffusion-QL next to BC, TD3+BC and IQL on mixed data.
#   make experiment-diffusion-policies [STEPS=30000 SEEDS="0 1 2" JOBS=2 DATA_STEPS=100000 EPISODES=50
#                                       ENVS="pendulum pointmaze-umaze hopper" ROWS=experiments/results/x.jsonl]
# Collects pendulum and pointmaze-umaze "mixed" datasets (seed 0, as experiment-agents; the MuJoCo robots:
# D4RL's medium-replay recipe, every row of the shipped replay buffer — docs/environments.md §7), trains every
# algorithm with one thread per run (JOBS runs in parallel), evaluates each on EPISODES seeded episodes,
# and writes raw results (ROWS, default experiments/results/diffusion_policies.jsonl, with training seconds
# per run) and a table of normalized scores, mean ± std over seeds (TABLE, default ROWS with .md).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-30000}
SEEDS=${SEEDS:-"0 1 2"}
JOBS=${JOBS:-2}
DATA_STEPS=${DATA_STEPS:-100000}
EPISODES=${EPISODES:-50}
ALGOS=${ALGOS:-"bc td3bc iql diffusion-bc idql dql"}
ENVS=${ENVS:-"pendulum pointmaze-umaze"}
LOCO_QUALITY=${LOCO_QUALITY:-medium-replay}   # halfcheetah / hopper / walker2d
LOCO_DATA_STEPS=${LOCO_DATA_STEPS:-1000000}    # medium-replay: at most this many rows of the replay buffer
OUT=${OUT:-experiments/results}
ROWS=${ROWS:-$OUT/diffusion_policies.jsonl}
TABLE=${TABLE:-${ROWS%.jsonl}.md}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# DIFFUSE=path uses an already built binary (e.g. a smoke run from a -enable-testing build tree).
. experiments/lib.sh
experiment_binary   # D: a private copy of the binary
mkdir -p "$OUT"
for env in $ENVS; do
  case $env in
    halfcheetah|hopper|walker2d) quality=$LOCO_QUALITY; data_steps=$LOCO_DATA_STEPS ;;
    *) quality=mixed; data_steps=$DATA_STEPS ;;
  esac
  "$D" dataset collect --env "$env" --quality "$quality" --steps "$data_steps" --seed 0 -o "$WORK/$env.hdf5" >/dev/null
done
jobs_file="$WORK/jobs"
: > "$jobs_file"
# Seed-major, so a run cut short still has every algorithm on both environments at the first seeds.
for seed in $SEEDS; do for env in $ENVS; do for algo in $ALGOS; do
  echo "$env $algo $seed" >> "$jobs_file"
done; done; done
run_one() {
  local env=$1 algo=$2 seed=$3
  local seconds
  seconds=$("$D" train agent --algo "$algo" --data "$WORK/$env.hdf5" --steps "$STEPS" --seed "$seed" --threads 1 \
    --eval-episodes 1 --log-every "$STEPS" --checkpoint-every "$STEPS" -o "$WORK/$env-$algo-$seed.safetensors" --json 2>/dev/null \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])")
  "$D" eval --policy "$WORK/$env-$algo-$seed.safetensors" --episodes "$EPISODES" --seed 1000 --threads 1 --json \
    | python3 -c "import json,sys; r=json.load(sys.stdin); r.update(algo='$algo', seed=$seed, steps=$STEPS, train_seconds=$seconds); r.pop('returns', None); r.pop('costs', None); print(json.dumps(r))"
}
export -f run_one
export WORK STEPS EPISODES D
xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _ < "$jobs_file" > "$ROWS"
python3 experiments/diffusion_policies_table.py "$ROWS" "$TABLE" --algos "$ALGOS" --steps "$STEPS" \
  --command "make experiment-diffusion-policies STEPS=$STEPS SEEDS=\"$SEEDS\" JOBS=$JOBS DATA_STEPS=$DATA_STEPS EPISODES=$EPISODES ENVS=\"$ENVS\"" > /dev/null
cat "$TABLE"
