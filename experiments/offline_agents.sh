#!/usr/bin/env bash
# Experiment (issue D): TD3+BC and IQL vs BC on mixed-quality data, 3 seeds each.
#   make experiment-agents [STEPS=30000 SEEDS="0 1 2" JOBS=2]
# Collects pendulum and pointmaze-umaze "mixed" datasets, trains every agent with one thread per
# run (JOBS runs in parallel), evaluates each on 50 seeded episodes, and writes the raw results
# (experiments/results/agents.jsonl) and the table (docs/offline-agents.md).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-30000}
SEEDS=${SEEDS:-"0 1 2"}
JOBS=${JOBS:-2}
DATA_STEPS=${DATA_STEPS:-100000}
OUT=experiments/results
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
swift build -c release --product diffuse
cp .build/release/diffuse "$WORK/diffuse"   # rebuilds during the run cannot change the binary
mkdir -p "$OUT"
ENVS="pendulum pointmaze-umaze"
for env in $ENVS; do
  "$WORK/diffuse" dataset collect --env "$env" --quality mixed --steps "$DATA_STEPS" --seed 0 -o "$WORK/$env.hdf5"
done
jobs_file="$WORK/jobs"
: > "$jobs_file"
for env in $ENVS; do for algo in bc td3bc iql; do for seed in $SEEDS; do
  echo "$env $algo $seed" >> "$jobs_file"
done; done; done
run_one() {
  local env=$1 algo=$2 seed=$3
  "$WORK/diffuse" train agent --algo "$algo" --data "$WORK/$env.hdf5" --steps "$STEPS" --seed "$seed" --threads 1 \
    --log-every "$STEPS" --checkpoint-every "$STEPS" -o "$WORK/$env-$algo-$seed.safetensors" 2>/dev/null >/dev/null
  "$WORK/diffuse" eval --policy "$WORK/$env-$algo-$seed.safetensors" --episodes 50 --seed 1000 --json \
    | python3 -c "import json,sys; r=json.load(sys.stdin); r.update(algo='$algo', seed=$seed, steps=$STEPS); del r['returns'], r['costs']; print(json.dumps(r))"
}
export -f run_one
export WORK STEPS
xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _ < "$jobs_file" > "$OUT/agents.jsonl"
python3 experiments/agents_table.py "$OUT/agents.jsonl" docs/offline-agents.md \
  --command "make experiment-agents STEPS=$STEPS SEEDS=\"$SEEDS\" DATA_STEPS=$DATA_STEPS"
cat docs/offline-agents.md
