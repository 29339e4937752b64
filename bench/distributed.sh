#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/distributed.md): the same training run on 1 process and
# on R ranks under mpirun (1 thread each), wall time per update, all-reduce time and bytes per update,
# then a projection to 8–64 ranks from those numbers.
#   make bench-distributed [STEPS=200 RANKS="1 2" BATCH=64]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-200}
RANKS=${RANKS:-"1 2"}
BATCH=${BATCH:-64}
OUT=${OUT:-bench-results/distributed.jsonl}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$OUT")"
swift build -c release --product diffuse > /dev/null
D=.build/release/diffuse
"$D" dataset collect --env pointmaze-umaze --steps 50000 --seed 0 -o "$WORK/umaze.hdf5" --quiet > /dev/null
: > "$OUT"
# Workloads: Diffuser's temporal U-Net on H = 32 windows (PGD's generator) and IQL's MLPs.
for workload in trajectory agent; do
  case $workload in
    trajectory) steps=$STEPS; args=(train trajectory --network temporal-unet --data "$WORK/umaze.hdf5" --batch-size "$BATCH");;
    agent) steps=$((STEPS * 10)); args=(train agent --algo iql --data "$WORK/umaze.hdf5" --batch-size 256 --eval-episodes 1);;
  esac
  for r in $RANKS; do
    dist=()
    launch=()
    if [ "$r" -gt 1 ]; then dist=(--distributed); launch=(mpirun --allow-run-as-root --oversubscribe --bind-to none -n "$r"); fi
    log="$WORK/$workload-$r.log"
    "${launch[@]}" "$D" "${args[@]}" --steps "$steps" "${dist[@]}" --threads 1 --checkpoint-every 1000000 --log-every 1000000 -o "$WORK/$workload-$r.safetensors" \
      > "$log" 2>&1
    python3 - "$workload" "$r" "$log" "$OUT" "$steps" <<'PY'
import json, re, sys
workload, ranks, log, out, steps = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read(), sys.argv[4], int(sys.argv[5])
secs = float(re.search(r"in ([0-9.]+) s", log).group(1))
m = re.search(r"all-reduce ([0-9.]+) ms and ([0-9.]+) MB per update \((\d+) updates\)", log)
row = dict(workload=workload, ranks=ranks, seconds=secs, steps=steps, ms_per_update=secs / steps * 1000,
           allreduce_ms=float(m.group(1)) if m else 0.0, allreduce_mb=float(m.group(2)) if m else 0.0, updates=int(m.group(3)) if m else steps)
open(out, "a").write(json.dumps(row) + "\n")
print(json.dumps(row))
PY
  done
done
