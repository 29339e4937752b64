#!/usr/bin/env bash
# `make datasets`: the D4RL-style locomotion datasets (docs/environments.md §7), rebuilt from the SAC
# agents shipped in Checkpoints/ — no training. One file per task and recipe in data/locomotion/,
# D4RL's keys (h5py loads them); each is checked with `diffuse dataset info` and its mean episode
# return printed. STEPS=1000000 is D4RL's size (minutes per file on 2 cores); smaller for a quick look;
# ROBOTS="hopper" rebuilds one robot's files.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-1000000}
THREADS=${THREADS:-1}
OUT=${OUT:-data/locomotion}
D=${DIFFUSE:-.build/release/diffuse}
mkdir -p "$OUT"
collect() {  # collect ENV QUALITY
  local f="$OUT/$1-$2.hdf5"
  "$D" dataset collect --env "$1" --quality "$2" --steps "$STEPS" --seed 0 --threads "$THREADS" --quiet -o "$f"
  "$D" dataset info "$f" --json > /dev/null
}
# Robots whose behaviour agents are shipped (Checkpoints/<robot>-sac-{medium,expert}.safetensors).
for robot in ${ROBOTS:-halfcheetah hopper walker2d}; do
  [ -f "Checkpoints/$robot-sac-expert.safetensors" ] || { echo "skip $robot: no Checkpoints/$robot-sac-expert.safetensors" >&2; continue; }
  for q in random medium medium-replay expert medium-expert; do collect "$robot" "$q"; done
  collect "$robot-velocity" mixed
done
