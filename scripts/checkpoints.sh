#!/usr/bin/env bash
# `make checkpoints`: regenerates every model in Checkpoints/ with the project's own commands, exports
# each without its training state (diffuse checkpoint export), measures one reproducible metric per
# model and writes Checkpoints/manifest.json: file, the commands that made it, the metric command,
# its recorded value and the tolerance that Tests/DiffuseCLITests/CheckpointTests.swift checks it
# with. About 2.5 hours on 2 cores (most of it the three SAC runs) (THREADS=1 makes every result reproducible bit for bit on a
# machine with the same BLAS kernels; the tolerances cover other CPUs' rounding).
# SECTIONS="toys pointmaze safe-circle sac digits locomotion" (default: all) regenerates only those sections'
# files; the manifest keeps the other files' entries as they were.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-1}
SECTIONS=${SECTIONS:-"toys pointmaze safe-circle sac digits locomotion"}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cp .build/release/diffuse "$W/diffuse"   # a private copy: a rebuild during the run cannot change it
D=$W/diffuse
C=Checkpoints
T=(--threads "$THREADS" --quiet)
entries="$W/entries.jsonl"
: > "$entries"
# made FILE "cmd1" ["cmd2" …]: records how FILE was made (commands as run, $W shown as <tmp>).
made() { local f=$1; shift; printf '%s\n' "$@" | python3 -c "import json,sys; print(json.dumps({'file': sys.argv[1], 'made_by': [l.rstrip() for l in sys.stdin]}))" "$f" >> "$W/made.jsonl"; }
run() { echo "+ diffuse $*" >&2; "$D" "$@"; }
export_to() { run checkpoint export "$1" -o "$2" > /dev/null; }
# One metric per model: a short, seeded command whose --json output holds `key` (the last command's).
metric() {  # metric FILE KEY TOLERANCE CMD… (CMDs separated by ';;'; <tmp> is a scratch file)
  python3 - "$D" "$W" "$@" >> "$entries" <<'PY'
import json, subprocess, sys
d, w, name, key, tol, *words = sys.argv[1:]
commands, cur = [], []
for x in words:
    if x == ";;": commands.append(cur); cur = []
    else: cur.append(x)
commands.append(cur)
out = ""
for c in commands:
    out = subprocess.run([d] + [a.replace("<tmp>", f"{w}/metric-tmp.hdf5") for a in c], check=True, capture_output=True, text=True).stdout
value = json.loads(out.strip().splitlines()[-1])[key]
print(json.dumps({"file": name, "metric": {"commands": commands, "key": key, "value": value, "tolerance": float(tol)}}))
PY
}

section_toys() {
  run train regression --seed 0 -o "$C/toy-regression.safetensors" "${T[@]}" > /dev/null
  made toy-regression.safetensors "diffuse train regression --seed 0 -o Checkpoints/toy-regression.safetensors"
  run train toy --dist two-moons --objective edm --seed 0 -o "$W/two-moons.safetensors" "${T[@]}" > /dev/null
  export_to "$W/two-moons.safetensors" "$C/two-moons-edm.safetensors"
  made two-moons-edm.safetensors "diffuse train toy --dist two-moons --objective edm --seed 0 -o two-moons.safetensors" "diffuse checkpoint export two-moons.safetensors -o Checkpoints/two-moons-edm.safetensors"
  metric toy-regression.safetensors test_mse 0.001 eval regression --model Checkpoints/toy-regression.safetensors --threads 1 --json
  metric two-moons-edm.safetensors std 0.02 sample --model Checkpoints/two-moons-edm.safetensors -n 1000 --seed 0 --threads 1 --json
}

section_pointmaze() {
  # PGD on pointmaze-umaze: the trajectory model and the target agent it is guided toward.
  run dataset collect --env pointmaze-umaze --quality mixed --steps 100000 --seed 0 -o "$W/umaze.hdf5" "${T[@]}" > /dev/null
  # The defaults (window MLP 128 × 4, 20k steps, EMA 0.99): the seed-0 run of docs/fidelity-results.md, "Defaults".
  run train trajectory --data "$W/umaze.hdf5" --seed 0 -o "$W/traj.safetensors" "${T[@]}" > /dev/null
  export_to "$W/traj.safetensors" "$C/pointmaze-trajectory.safetensors"
  made pointmaze-trajectory.safetensors "diffuse dataset collect --env pointmaze-umaze --quality mixed --steps 100000 --seed 0 -o umaze.hdf5" \
    "diffuse train trajectory --data umaze.hdf5 --seed 0 --threads 1 -o traj.safetensors" "diffuse checkpoint export traj.safetensors -o Checkpoints/pointmaze-trajectory.safetensors"
  run train agent --algo td3bc --data "$W/umaze.hdf5" --steps 10000 --seed 0 -o "$W/td3bc.safetensors" "${T[@]}" > /dev/null
  export_to "$W/td3bc.safetensors" "$C/pointmaze-td3bc.safetensors"
  made pointmaze-td3bc.safetensors "(umaze.hdf5 as above)" "diffuse train agent --algo td3bc --data umaze.hdf5 --steps 10000 --seed 0 -o td3bc.safetensors" \
    "diffuse checkpoint export td3bc.safetensors -o Checkpoints/pointmaze-td3bc.safetensors"
  metric pointmaze-trajectory.safetensors dynamicsError 0.02 pgd generate --model Checkpoints/pointmaze-trajectory.safetensors -n 1000 --steps 32 \
    --seed 0 --threads 1 -o "<tmp>" ";;" pgd evaluate --data "<tmp>" --env pointmaze-umaze --json
  metric pointmaze-td3bc.safetensors normalizedReturnMean 0.05 eval --policy Checkpoints/pointmaze-td3bc.safetensors --episodes 5 --seed 0 --threads 1 --json
}

section_safe_circle() {
  # FISOR on safe-circle (expert data with unsafe episodes; docs/fisor.md).
  run dataset collect --env safe-circle --quality expert --steps 100000 --seed 0 -o "$W/circle.hdf5" "${T[@]}" > /dev/null
  run fisor train --data "$W/circle.hdf5" --schedule joint --steps 2000 --eval-episodes 0 --seed 0 -o "$W/fisor.safetensors" "${T[@]}" > /dev/null
  export_to "$W/fisor.safetensors" "$C/safe-circle-fisor.safetensors"
  made safe-circle-fisor.safetensors "diffuse dataset collect --env safe-circle --quality expert --steps 100000 --seed 0 -o circle.hdf5" \
    "diffuse fisor train --data circle.hdf5 --schedule joint --steps 2000 --eval-episodes 0 --seed 0 -o fisor.safetensors" "diffuse checkpoint export fisor.safetensors -o Checkpoints/safe-circle-fisor.safetensors"
  # BC-Safe on the same data (the episodes with cost ≤ κ = 10): the baseline the demo shows beside FISOR.
  run fisor train --algo bc-safe --cost-limit 10 --data "$W/circle.hdf5" --actor-steps 2000 --eval-episodes 0 --seed 0 -o "$W/bc-safe.safetensors" "${T[@]}" > /dev/null
  export_to "$W/bc-safe.safetensors" "$C/safe-circle-bc-safe.safetensors"
  made safe-circle-bc-safe.safetensors "(circle.hdf5 as above)" "diffuse fisor train --algo bc-safe --cost-limit 10 --data circle.hdf5 --actor-steps 2000 --eval-episodes 0 --seed 0 -o bc-safe.safetensors" \
    "diffuse checkpoint export bc-safe.safetensors -o Checkpoints/safe-circle-bc-safe.safetensors"
  metric safe-circle-fisor.safetensors normalizedCostMean 0.05 eval --policy Checkpoints/safe-circle-fisor.safetensors --cost-limit 10 --episodes 2 \
    --seed 0 --threads 1 --json
  metric safe-circle-bc-safe.safetensors normalizedReturnMean 0.05 eval --policy Checkpoints/safe-circle-bc-safe.safetensors --cost-limit 10 --episodes 5 \
    --seed 0 --threads 1 --json
}

section_sac() {
  # SAC behaviour agents of the locomotion recipes (docs/environments.md §7; make datasets): one online run per
  # robot snapshots its actor and replay buffer every 5,000 steps; medium = the snapshot at about a third of the
  # expert's return (like D4RL's medium), medium-replay = the buffer up to it, expert = the snapshot with the best
  # 10-episode evaluation on the run's curve (halfcheetah's: its last).
  # The shipped files came from the same commands with --steps 200000 (halfcheetah) / 1000000 (hopper, walker2d)
  # stopped after the expert snapshot (--steps does not enter the training: the snapshots are the same; hopper's
  # run was also interrupted once and resumed, which is bit-identical). About 25 min (halfcheetah) and 60 min
  # (hopper, walker2d) each on one thread.
  sac_agents() {  # sac_agents ROBOT MEDIUM_STEP EXPERT_STEP
    local robot=$1 medium=$2 expert=$3
    local made_by="diffuse train online --env $robot --steps $expert --eval-every 5000 --eval-episodes 10 --snapshot-every 5000 --seed 0 -o sac.safetensors"
    run train online --env "$robot" --steps "$expert" --eval-every 5000 --eval-episodes 10 --snapshot-every 5000 --seed 0 \
      -o "$W/$robot-sac.safetensors" "${T[@]}" > /dev/null
    cp "$W/$robot-sac.step$medium.safetensors" "$C/$robot-sac-medium.safetensors"
    cp "$W/$robot-sac.step$medium.replay.hdf5" "$C/$robot-sac-medium.replay.hdf5"
    cp "$W/$robot-sac.step$expert.safetensors" "$C/$robot-sac-expert.safetensors"
    made "$robot-sac-medium.safetensors" "$made_by" "cp sac.step$medium.safetensors Checkpoints/$robot-sac-medium.safetensors"
    made "$robot-sac-medium.replay.hdf5" "$made_by" "cp sac.step$medium.replay.hdf5 Checkpoints/$robot-sac-medium.replay.hdf5"
    made "$robot-sac-expert.safetensors" "$made_by" "cp sac.step$expert.safetensors Checkpoints/$robot-sac-expert.safetensors"
}
sac_agents halfcheetah 25000 75000   # medium at 0.43 of the expert's return
sac_agents hopper 70000 180000        # medium at 0.31; expert = the best 10-episode evaluation (the curve swings late)
sac_agents walker2d 65000 170000      # medium at 0.31; expert = the best 10-episode evaluation
# Hopper and walker2d can fall: another CPU's rounding can end an episode at a different step, so their
# recorded scores get a wider tolerance than halfcheetah's (which never terminates).
for robot in halfcheetah hopper walker2d; do
  tolerance=$([ "$robot" = halfcheetah ] && echo 3 || echo 10)
  for q in medium expert; do
    metric "$robot-sac-$q.safetensors" normalizedScoreMean "$tolerance" eval --policy "Checkpoints/$robot-sac-$q.safetensors" --episodes 5 --seed 0 --threads 1 --json
  done
done
}

section_digits() {
  # SePPO on the 8×8 digits: held-out scorer, base model, SePPO-aligned model (docs/seppo.md §6).
  run seppo train-scorer --seed 0 -o "$C/digits-scorer.safetensors" "${T[@]}" > /dev/null
  made digits-scorer.safetensors "diffuse seppo train-scorer --seed 0 -o Checkpoints/digits-scorer.safetensors"
  run seppo train-base --steps 4000 --seed 0 -o "$W/base.safetensors" "${T[@]}" > /dev/null
  export_to "$W/base.safetensors" "$C/digits-base.safetensors"
  made digits-base.safetensors "diffuse seppo train-base --steps 4000 --seed 0 -o base.safetensors" "diffuse checkpoint export base.safetensors -o Checkpoints/digits-base.safetensors"
  run seppo align --base "$W/base.safetensors" --method seppo --ref random --flip indicator --seed 0 -o "$W/seppo.safetensors" "${T[@]}" > /dev/null
  export_to "$W/seppo.safetensors" "$C/digits-seppo.safetensors"
  made digits-seppo.safetensors "(base.safetensors as above)" "diffuse seppo align --base base.safetensors --method seppo --ref random --flip indicator --seed 0 -o seppo.safetensors" \
    "diffuse checkpoint export seppo.safetensors -o Checkpoints/digits-seppo.safetensors"
  metric digits-base.safetensors mean_score 0.1 seppo score --model Checkpoints/digits-base.safetensors --scorer Checkpoints/digits-scorer.safetensors \
    --per-class 10 --steps 20 --seed 0 --threads 1 --json
  metric digits-seppo.safetensors mean_score 0.1 seppo score --model Checkpoints/digits-seppo.safetensors --scorer Checkpoints/digits-scorer.safetensors \
    --per-class 10 --steps 20 --seed 0 --threads 1 --json
}

section_locomotion() {
  # The methods on halfcheetah (issue #28; docs/pgd-results.md, docs/fisor-results.md): D4RL's medium-replay recipe
  # (every row of the shipped replay buffer), its TD3+BC agent (PGD's target policy) and trajectory model (the
  # defaults), and FISOR on halfcheetah-velocity mixed data — the seed-0 runs of experiments/pgd.sh and fisor.sh.
  run dataset collect --env halfcheetah --quality medium-replay --steps 1000000 --seed 0 -o "$W/cheetah.hdf5" "${T[@]}" > /dev/null
  run train agent --algo td3bc --data "$W/cheetah.hdf5" --steps 30000 --seed 0 -o "$W/cheetah-td3bc.safetensors" "${T[@]}" > /dev/null
  export_to "$W/cheetah-td3bc.safetensors" "$C/halfcheetah-td3bc.safetensors"
  made halfcheetah-td3bc.safetensors "diffuse dataset collect --env halfcheetah --quality medium-replay --steps 1000000 --seed 0 -o cheetah.hdf5" \
    "diffuse train agent --algo td3bc --data cheetah.hdf5 --steps 30000 --seed 0 --threads 1 -o td3bc.safetensors" \
    "diffuse checkpoint export td3bc.safetensors -o Checkpoints/halfcheetah-td3bc.safetensors"
  run train trajectory --data "$W/cheetah.hdf5" --seed 0 -o "$W/cheetah-traj.safetensors" "${T[@]}" > /dev/null
  export_to "$W/cheetah-traj.safetensors" "$C/halfcheetah-trajectory.safetensors"
  made halfcheetah-trajectory.safetensors "(cheetah.hdf5 as above)" "diffuse train trajectory --data cheetah.hdf5 --seed 0 --threads 1 -o traj.safetensors" \
    "diffuse checkpoint export traj.safetensors -o Checkpoints/halfcheetah-trajectory.safetensors"
  run dataset collect --env halfcheetah-velocity --quality mixed --steps 100000 --seed 0 -o "$W/cheetah-vel.hdf5" "${T[@]}" > /dev/null
  # max-qr: the best-Q_r feasible candidate (the reference's "maxq" option) — on this task several times the return of the
  # default min-qh at zero cost (docs/fisor-results.md, "The candidate rule at action time"). 2,000 actor iterations:
  # the file predates the 12,000-iteration MuJoCo default.
  run fisor train --data "$W/cheetah-vel.hdf5" --selection max-qr --actor-steps 2000 --eval-episodes 0 --seed 0 -o "$W/cheetah-fisor.safetensors" "${T[@]}" > /dev/null
  export_to "$W/cheetah-fisor.safetensors" "$C/halfcheetah-velocity-fisor.safetensors"
  made halfcheetah-velocity-fisor.safetensors "diffuse dataset collect --env halfcheetah-velocity --quality mixed --steps 100000 --seed 0 -o vel.hdf5" \
    "diffuse fisor train --data vel.hdf5 --selection max-qr --actor-steps 2000 --eval-episodes 0 --seed 0 --threads 1 -o fisor.safetensors" \
    "diffuse checkpoint export fisor.safetensors -o Checkpoints/halfcheetah-velocity-fisor.safetensors"
  metric halfcheetah-td3bc.safetensors normalizedScoreMean 3 eval --policy Checkpoints/halfcheetah-td3bc.safetensors --episodes 2 --seed 0 --threads 1 --json
  metric halfcheetah-trajectory.safetensors dynamicsError 0.05 pgd generate --model Checkpoints/halfcheetah-trajectory.safetensors -n 1000 --steps 32 \
    --seed 0 --threads 1 -o "<tmp>" ";;" pgd evaluate --data "<tmp>" --env halfcheetah --json
  metric halfcheetah-velocity-fisor.safetensors normalizedReturnMean 0.05 eval --policy Checkpoints/halfcheetah-velocity-fisor.safetensors --cost-limit 10 \
    --episodes 2 --seed 0 --threads 1 --json
}

for section in $SECTIONS; do "section_${section//-/_}"; done

python3 - "$W/made.jsonl" "$entries" "$C/manifest.json" <<'PY'
import json, sys, os
made = {json.loads(l)["file"]: json.loads(l)["made_by"] for l in open(sys.argv[1])}
# Files of the sections not run this time keep their entries.
old = json.load(open(sys.argv[3]))["checkpoints"] if os.path.exists(sys.argv[3]) else []
entries = [e for e in old if e["file"] not in made]
for l in open(sys.argv[2]):
    e = json.loads(l)
    e["made_by"] = made[e["file"]]
    e["bytes"] = os.path.getsize(os.path.join("Checkpoints", e["file"]))
    entries.append(e)
for f in made:
    if not any(e["file"] == f for e in entries):
        entries.append({"file": f, "made_by": made[f], "bytes": os.path.getsize(os.path.join("Checkpoints", f))})
json.dump({"note": "written by make checkpoints (scripts/checkpoints.sh); checked by CheckpointTests", "checkpoints": entries},
          open(sys.argv[3], "w"), indent=1)
print(f"{len(entries)} checkpoints, {sum(e['bytes'] for e in entries) / 1e6:.1f} MB → {sys.argv[3]}")
PY
