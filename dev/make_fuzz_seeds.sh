#!/usr/bin/env bash
# Seeds for the libFuzzer corpora (issue #32 item 3): valid files of every format our parsers read, made
# two ways — by the project's own writers (diffuse dataset collect / convert, train agent, checkpoint export,
# the bundled digits CSV, real command lines) and by the reference writers (h5py, numpy, safetensors, in
# dev/make_fuzz_seeds.py). A corpus that starts from valid files lets the fuzzer reach the code behind the
# header checks instead of spending its time on magic numbers.
#   bash dev/make_fuzz_seeds.sh [OUT=fuzz/corpus]   # then make fuzz TARGET=… SECONDS=600 (docs/conventions.md)
# Needs a release build of diffuse and python3 with numpy, h5py and safetensors (scripts/setup.sh with
# PD_SETUP_PYTHON=1). Files are named by content hash, so rerunning adds nothing twice.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-fuzz/corpus}
D=${DIFFUSE:-.build/release/diffuse}
[ -x "$D" ] || swift build -c release --product diffuse
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# add TARGET FILE: copy FILE into the target's corpus under its SHA-1 (libFuzzer's own naming).
add() {
  mkdir -p "$OUT/$1"
  cp "$2" "$OUT/$1/$(sha1sum "$2" | cut -c1-40)"
}

# Project-made datasets: a few episodes of each built-in task, both containers.
for env in pendulum pointmaze-umaze safe-circle; do
  "$D" dataset collect --env "$env" --quality mixed --steps 40 --seed 0 -o "$WORK/$env.hdf5" --quiet
  "$D" dataset convert "$WORK/$env.hdf5" -o "$WORK/$env.npz" --quiet
  add hdf5 "$WORK/$env.hdf5"
  add npz "$WORK/$env.npz"
done

# A project-made checkpoint: the smallest agent (BC's actor, 256-256, about 270 kB once exported without
# its optimizer state; the loader's path behind the safetensors header is what this seed opens up).
"$D" train agent --algo bc --data "$WORK/pendulum.hdf5" --steps 2 --batch-size 4 --seed 0 --threads 1 \
  -o "$WORK/agent.safetensors" --quiet
"$D" checkpoint export "$WORK/agent.safetensors" -o "$WORK/agent-export.safetensors" --quiet
add checkpoint "$WORK/agent-export.safetensors"

# The bundled digits, a few lines and the header-less tail.
head -n 3 data/digits.csv > "$WORK/digits-head.csv"; add digits "$WORK/digits-head.csv"
tail -n 2 data/digits.csv > "$WORK/digits-tail.csv"; add digits "$WORK/digits-tail.csv"

# Images (issue #31): Pillow-written PNGs of every colour type we read (and two we refuse), our own writer's
# grids, and image arrays in the layouts users hand over (dev/make_image_fixtures.py made them).
for f in Tests/SePPOTests/Fixtures/images/*.png; do add png "$f"; done
"$D" sample --model Checkpoints/digits-base.safetensors -n 4 --steps 2 --seed 0 --threads 1 --png "$WORK/grid.png" --quiet > /dev/null
add png "$WORK/grid.png"
for f in Tests/SePPOTests/Fixtures/images/*.np[yz]; do add images "$f"; done

# Command lines users type, NUL-separated (the arguments target splits on NUL).
while IFS= read -r line; do
  printf '%s' "$line" | tr ' ' '\0' > "$WORK/args"; add arguments "$WORK/args"
done <<'EOF'
--data d.hdf5 --algo idql --steps 1000 --seed 3 -o out.safetensors --threads 2 --json
--env pointmaze-umaze --quality mixed --steps 100000 -o umaze.hdf5
--policy agent.safetensors --episodes 20 --seed 1000 --kappa 10 --selection min-qh
--critic-steps 40000 --actor-steps 2000 --schedule critic-first --resume --checkpoint-every 500
-h
--guidance-scale=0.5 --network window-mlp --ema-decay 0.99 --log-every 100 --quiet
EOF

# Reference writers: h5py, numpy, safetensors.
python3 dev/make_fuzz_seeds.py "$WORK/ref"
for target in hdf5 npz npy safetensors; do
  for f in "$WORK/ref/$target"/*; do add "$target" "$f"; done
done
for t in "$OUT"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) files"; done
