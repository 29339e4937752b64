#!/usr/bin/env bash
# End-to-end wall time of `diffuse train agent` (issue L): a 50k-transition mixed pendulum file,
# TD3+BC for STEPS updates (default 10 000), REPEATS runs (default 3), median reported. Everything a
# user waits for is inside the timing: loading, preprocessing, batching, updates, the final checkpoint.
#   bash bench/train_agent_wall.sh [DIFFUSE] (env: STEPS, REPEATS, THREADS, ALGO)
set -euo pipefail
D=${1:-.build/release/diffuse}
STEPS=${STEPS:-10000} REPEATS=${REPEATS:-3} THREADS=${THREADS:-2} ALGO=${ALGO:-td3bc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$D" dataset collect --env pendulum --quality mixed --steps 50000 --seed 0 -o "$work/pendulum.hdf5" > /dev/null
times=()
for i in $(seq "$REPEATS"); do
  t0=$(date +%s.%N)
  "$D" train agent --algo "$ALGO" --data "$work/pendulum.hdf5" --steps "$STEPS" --threads "$THREADS" --seed 0 \
    --log-every "$STEPS" --checkpoint-every "$STEPS" -o "$work/agent.safetensors" > /dev/null 2>&1
  t1=$(date +%s.%N)
  times+=("$(python3 -c "print(f'{$t1 - $t0:.2f}')")")
done
python3 - "$ALGO" "$STEPS" "$THREADS" "$("$D" bench core --only sgemm_256 --repeats 1 --warmup 0 | head -1)" "${times[@]}" <<'PY'
import statistics, sys
algo, steps, threads, header, *times = sys.argv[1:]
t = sorted(map(float, times))
print(f"train agent --algo {algo}, {steps} steps, {threads} threads ({header}): median {statistics.median(t):.1f} s "
      f"over {len(t)} runs ({', '.join(f'{x:.1f}' for x in t)}); {statistics.median(t) / int(steps) * 1e3:.2f} ms per update")
PY
