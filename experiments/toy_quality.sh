#!/usr/bin/env bash
# Toy quality: trains `diffuse train toy` with its defaults on every distribution and objective,
# samples each model with the default samplers (DDPM 1000 and DDIM 50 for ddpm, EDM 64 for edm)
# and prints a markdown table of the structure metrics (docs/toy.md), then an ablation of the
# checkerboard defaults.
#   [THREADS=1] [N=2000] [SEED=0] [ABLATION=1] [DIFFUSE=path] bash experiments/toy_quality.sh
# THREADS unset: the CLI's default (every core). DIFFUSE: use this binary instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
SEED=${SEED:-0}
ABLATION=${ABLATION:-1}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "${DIFFUSE:-}" ]; then
  swift build -c release --product diffuse >&2
  DIFFUSE=.build/release/diffuse
fi
cp "$DIFFUSE" "$WORK/diffuse"   # rebuilds during the run cannot change the binary
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")

# One table row per sampler: train (wall seconds measured here), then sample and parse the CLI's
# MMD and structure lines.
row() {  # name dist objective [train args…]
  local name=$1 dist=$2 obj=$3; shift 3
  local model="$WORK/$name.safetensors" start end
  start=$(date +%s.%N)
  "$WORK/diffuse" train toy --dist "$dist" --objective "$obj" --seed "$SEED" "${threads[@]}" -o "$model" "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  local train
  train=$(python3 -c "print(f'{$end - $start:.1f}')")
  local samplers
  if [ "$obj" = ddpm ]; then samplers="ddpm:1000 ddim:50"; else samplers="edm:64"; fi
  for s in $samplers; do
    "$WORK/diffuse" sample --model "$model" -n "$N" --sampler "${s%:*}" --steps "${s#*:}" "${threads[@]}" \
      | python3 -c '
import re, sys
lines = sys.stdin.read().splitlines()
mmd = re.search(r"MMD² to fresh data ([0-9.e-]+)", lines[0]).group(1)
st = lines[1]
on = re.search(r"([0-9.]+) % (on dark squares|within)", st).group(1)
dist = re.search(r"mean distance [a-z ]+ ([0-9.]+)", st)
cov = re.search(r"(\d+/\d+)", st).group(1)
name, dist_name, obj, sampler, train, args = sys.argv[1:7]
cells = [dist_name, obj, sampler, args or "defaults", on + " %", dist.group(1) if dist else "–", cov, "%.5f" % float(mmd), train]
print("| " + " | ".join(cells) + " |")
' "$name" "$dist" "$obj" "${s%:*} ${s#*:}" "$train" "$*"
  done
}

echo "| distribution | objective | sampler | training | on structure | mean distance | covered | MMD² | train s |"
echo "|---|---|---|---|---|---|---|---|---|"
for dist in checkerboard two-moons eight-gaussians; do
  for obj in ddpm edm; do row "$dist-$obj" "$dist" "$obj"; done
done
if [ "$ABLATION" = 1 ]; then
  # What each default buys on the hardest case: the previous defaults (lr 1e-3, no encoding), each
  # change alone, half and twice the steps.
  row ab-old checkerboard ddpm --lr 0.001 --input-frequencies 0
  row ab-lr checkerboard ddpm --input-frequencies 0
  row ab-enc checkerboard ddpm --lr 0.001
  row ab-half checkerboard ddpm --steps 2000
  row ab-double checkerboard ddpm --steps 8000
fi
echo
echo "Produced by \`${THREADS:+THREADS=$THREADS }bash experiments/toy_quality.sh\` (n = $N samples, seed $SEED, $(nproc) cores)."
