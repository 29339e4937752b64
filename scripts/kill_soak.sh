#!/usr/bin/env bash
# Kill-soak (issue #32; docs/architecture.md, "Checkpoints and resume"): every resumable trainer — an
# offline agent, a trajectory model, FISOR, SePPO alignment and online SAC — is run once straight, then
# again as a scheduler would run it: the same command plus --resume, killed with SIGKILL at KILLS random
# moments and requeued each time, then left to finish. Passes when, for every job,
#   - after every kill the output is absent (killed before its first checkpoint: the requeued run starts
#     from scratch) or a complete checkpoint (`diffuse checkpoint info` reads it), never half a file;
#   - the checkpointed step never goes backwards;
#   - the final weights equal the straight run's bit for bit (every tensor, optimizer state included);
#   - no temporary file is left beside the output.
#   make kill-soak [KILLS=10 SIZE=short|long JOBS="agent trajectory fisor seppo online" SEED=0]
# SIZE=short is CI's (about a minute); long runs each job ~10× longer. One line per job; exit 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${KILLS:-10}
SIZE=${SIZE:-short}
JOBS=${JOBS:-"agent trajectory fisor seppo online"}
SEED=${SEED:-0}
D=$(realpath "${DIFFUSE:-.build/release/diffuse}")
[ -x "$D" ] || { echo "kill-soak: build diffuse first ($D)" >&2; exit 2; }
case $SIZE in short) k=1 ;; long) k=10 ;; *) echo "kill-soak: SIZE must be short or long" >&2; exit 2 ;; esac
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
RANDOM=$SEED
common=(--threads 1 --seed 1 --quiet)

# The data and base model the jobs train on.
for env in pendulum pointmaze-umaze safe-circle; do "$D" dataset collect --env $env --steps 3000 --seed 0 -o "$W/$env.hdf5" --quiet > /dev/null; done
"$D" seppo train-base --data data/digits.csv --steps 20 --width 8 --batch-size 16 -o "$W/base.safetensors" --quiet > /dev/null

job_args() {  # job_args JOB → the training command's arguments, without -o
  case $1 in
    agent) args=(train agent --algo td3bc --data "$W/pendulum.hdf5" --steps $((600 * k)) --batch-size 64 --checkpoint-every 25 --eval-episodes 1) ;;
    trajectory) args=(train trajectory --data "$W/pointmaze-umaze.hdf5" --steps $((600 * k)) --dim 32 --batch-size 64 --checkpoint-every 20) ;;
    fisor) args=(fisor train --data "$W/safe-circle.hdf5" --critic-steps $((150 * k)) --actor-steps $((30 * k)) --checkpoint-every 10 --eval-episodes 0) ;;
    seppo) args=(seppo align --base "$W/base.safetensors" --preferred data/digits.csv --ref random --flip sign --steps $((24 * k))
                 --bank-every 6 --batch-size 8 --sampling-steps 4 --checkpoint-every 3) ;;
    online) args=(train online --env pendulum --steps $((1200 * k)) --learning-starts 300 --checkpoint-every 25 --eval-every 600 --eval-episodes 1) ;;
    *) echo "kill-soak: unknown job $1" >&2; exit 2 ;;
  esac
}

# checkpoint_step FILE → the training step stored in its metadata ("-" when absent); fails on a partial file.
checkpoint_step() {
  "$D" checkpoint info "$1" --json | python3 -c 'import json, sys; m = json.load(sys.stdin).get("metadata", {}); print(m.get("training.step", "-"))'
}

elapsed() { python3 -c "import sys, time; print(time.time() - float(sys.argv[1]))" "$1"; }  # elapsed T0 → seconds since
failures=0
for job in $JOBS; do
  job_args "$job"
  straight="$W/$job-straight.safetensors" killed="$W/$job-killed.safetensors"
  t0=$(date +%s.%N); "$D" "${args[@]}" "${common[@]}" -o "$straight" > /dev/null; seconds=$(elapsed "$t0")
  # Start-up (loading, the first step and its checkpoint), so the kills can be spread over the steps.
  t0=$(date +%s.%N); "$D" "${args[@]}" "${common[@]}" -o "$W/$job-startup.safetensors" --stop-after 1 > /dev/null; startup=$(elapsed "$t0")
  problems=() steps=() last=0
  for ((i = 0; i < KILLS; i++)); do
    # 0.8 × start-up (so some kills land before the first checkpoint) plus a random share of the steps'
    # time, 1.5 × training time / KILLS at most, so the kills spread over the whole run (a requeued run
    # restarts from its last checkpoint and loses the steps since).
    delay=$(python3 -c "import sys; s, t, u, n = map(float, sys.argv[1:]); print(0.8 * s + max(t - s, 0) * 1.5 / n * u / 32767)" \
            "$startup" "$seconds" "$RANDOM" "$KILLS")
    "$D" "${args[@]}" "${common[@]}" -o "$killed" --resume > /dev/null 2>&1 & pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    if [ -e "$killed" ]; then
      step=$(checkpoint_step "$killed" 2> /dev/null) || { problems+=("kill $i: unreadable checkpoint"); step="?"; }
      if [[ $step =~ ^[0-9]+$ ]]; then
        (( step >= last )) || problems+=("kill $i: step went back from $last to $step")
        last=$step
      fi
    else
      step=none
    fi
    steps+=("$step")
  done
  "$D" "${args[@]}" "${common[@]}" -o "$killed" --resume > /dev/null
  differing=$(python3 scripts/tensors_differ.py "$straight" "$killed") || true
  [ -z "$differing" ] || problems+=("final tensors differ from the straight run: ${differing:0:200}")
  leftovers=$(find "$W" -name ".$job-killed.safetensors.tmp-*" | wc -l)
  [ "$leftovers" = 0 ] || problems+=("$leftovers temporary files left")
  if [ ${#problems[@]} = 0 ]; then
    printf '%-10s ok: %d kills (checkpointed step after each: %s), final weights bit-identical to the straight run (%.1f s, start-up %.1f s)\n' \
      "$job" "$KILLS" "${steps[*]}" "$seconds" "$startup"
  else
    failures=$((failures + 1))
    printf '%-10s FAILED: %s (steps at kills: %s)\n' "$job" "${problems[*]}" "${steps[*]}"
  fi
done
[ "$failures" = 0 ]
