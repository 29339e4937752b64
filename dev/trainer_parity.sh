#!/usr/bin/env bash
# Same commands, two builds of `diffuse`: every trained tensor must be bit-identical (what a
# refactor of the trainers promises). Usage: dev/trainer_parity.sh OLD_DIFFUSE NEW_DIFFUSE [WORKDIR]
# With OLD_THREADS=1 NEW_THREADS=2 and the same binary twice, it checks thread-count independence, which
# holds for the MLP trainers only: convolutions split per thread count (docs/conventions.md, Determinism),
# so the temporal U-Net's line differs there by design.
# Compares the tensors of each checkpoint (weights and training state), not the metadata (which
# records the command line, hence the binary's path).
set -euo pipefail
old=$1; new=$2; work=${3:-$(mktemp -d)}
mkdir -p "$work"
common=(--quiet --seed 3)
threads_old=${OLD_THREADS:-1}; threads_new=${NEW_THREADS:-1}
"$new" dataset collect --env pointmaze-umaze --quality mixed --steps 6000 -o "$work/maze.hdf5" "${common[@]}" --threads 1
"$new" dataset collect --env safe-circle --quality expert --steps 6000 -o "$work/circle.hdf5" "${common[@]}" --threads 1
run() {  # name, then the command's arguments after `diffuse`, with OUT where the checkpoint goes
  local name=$1; shift
  for side in old new; do
    local bin=$old threads=$threads_old; [ $side = new ] && bin=$new threads=$threads_new
    "$bin" "${@//OUT/$work/$name-$side.safetensors}" "${common[@]}" --threads "$threads" >/dev/null
  done
  local differing
  if differing=$(python3 "$(dirname "$0")/../scripts/tensors_differ.py" "$work/$name-old.safetensors" "$work/$name-new.safetensors"); then
    printf '%-18s identical\n' "$name"
  else
    printf '%-18s DIFFER: %s\n' "$name" "${differing:0:200}"; return 1
  fi
}
run agent-td3bc      train agent --algo td3bc --data "$work/maze.hdf5" --steps 300 -o OUT --eval-episodes 2
run agent-iql        train agent --algo iql --data "$work/maze.hdf5" --steps 300 -o OUT --eval-episodes 2
run trajectory       train trajectory --network temporal-unet --data "$work/maze.hdf5" --steps 60 --horizon 16 --stride 8 -o OUT
run world-model      train world-model --data "$work/maze.hdf5" --steps 100 -o OUT
run toy              train toy --dist two-moons --steps 200 -o OUT
run regression       train regression --steps 300 -o OUT
run agent-idql       train agent --algo idql --data "$work/maze.hdf5" --steps 100 --candidates 4 -o OUT --eval-episodes 1
run agent-dql        train agent --algo dql --data "$work/maze.hdf5" --steps 100 --candidates 4 -o OUT --eval-episodes 1
run fisor            fisor train --data "$work/circle.hdf5" --critic-steps 40 --actor-steps 20 --eval-episodes 1 -o OUT
run fisor-joint      fisor train --data "$work/circle.hdf5" --schedule joint --actor-steps 20 --eval-episodes 1 -o OUT
run seppo-base       seppo train-base --steps 20 -o OUT
"$new" seppo train-base --steps 20 -o "$work/base.safetensors" "${common[@]}" --threads 1 >/dev/null
run seppo-align      seppo align --base "$work/base.safetensors" --steps 6 --bank-every 3 --batch-size 8 --sampling-steps 4 -o OUT
"$new" train trajectory --network temporal-unet --data "$work/maze.hdf5" --steps 60 --horizon 16 --stride 8 -o "$work/traj.safetensors" "${common[@]}" --threads 1 >/dev/null
run pgd-agent        pgd train-agent --data "$work/maze.hdf5" --model "$work/traj.safetensors" --steps 200 --pool 2048 --regenerate-every 100 --sample-steps 4 --eval-episodes 2 -o OUT
