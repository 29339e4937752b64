#!/usr/bin/env bash
# Experiment (issue #31): SFT and SePPO toward a preferred attribute on the project's RGB shapes, with no
# learned scorer. `diffuse dataset shapes` draws N_BASE shapes of random colours (the base data; about one
# in eight is warm) and N_PREFERRED warm ones (the preferred set); per seed, a base model (diffuse train
# image, class-conditional, CFG dropout 0.1) is aligned by each METHOD toward the warm shapes with the same
# updates; every model (base included) is sampled with the same DDIM seed (PER_CLASS per class) and judged:
# the warm fraction (the exact attribute: `dataset shapes --judge`), and `seppo score --preferred` —
# Fréchet distance to the preferred and to the base images and precision / recall of the preferred set,
# in PCA features of the base data.
#   bash experiments/seppo_shapes.sh [SEEDS="0 1 2" SIDE=16 BASE_STEPS=4000 STEPS=210 METHODS="sft seppo" PER_CLASS=100]
# Rows: experiments/results/seppo-shapes.jsonl (ROWS); table: docs/seppo-shapes-results.md
# (experiments/seppo_shapes_table.py) with a grid of base vs aligned samples.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"0 1 2"}
SIDE=${SIDE:-16}
N_BASE=${N_BASE:-3000}
N_PREFERRED=${N_PREFERRED:-300}
BASE_STEPS=${BASE_STEPS:-4000}
STEPS=${STEPS:-210}
BANK_EVERY=${BANK_EVERY:-30}
BETA=${BETA:-2000}
LR=${LR:-0.0001}
METHODS=${METHODS:-"sft seppo"}
PER_CLASS=${PER_CLASS:-100}
SCORE_STEPS=${SCORE_STEPS:-50}
THREADS=${THREADS:-1}
ROWS=${ROWS:-experiments/results/seppo-shapes.jsonl}
TABLE=${TABLE:-docs/seppo-shapes-results.md}
FIGURES=${FIGURES:-$(dirname "$TABLE")/figures}
WORK=${WORK:-$(mktemp -d)}
. experiments/lib.sh
experiment_binary   # D: a private copy of the release binary
T=(--threads "$THREADS" --quiet)
"$D" dataset shapes -n "$N_BASE" --side "$SIDE" --seed 0 -o "$WORK/shapes.npz" > /dev/null
"$D" dataset shapes -n "$N_PREFERRED" --side "$SIDE" --seed 1 --warm-only -o "$WORK/warm.npz" > /dev/null
: > "$ROWS"
judge() {  # judge SEED METHOD MODEL SECONDS → one row
  local seed=$1 method=$2 model=$3 seconds=$4
  "$D" sample --model "$model" -n "$((3 * PER_CLASS))" --sampler ddim --steps "$SCORE_STEPS" --seed "$((1000 + seed))" -o "$WORK/samples.npy" \
    --png "$WORK/$method-$seed.png" "${T[@]}" > /dev/null
  local warm score
  warm=$("$D" dataset shapes --judge "$WORK/samples.npy" --json)
  score=$("$D" seppo score --model "$model" --preferred "$WORK/warm.npz" --images "$WORK/shapes.npz" --per-class "$PER_CLASS" --steps "$SCORE_STEPS" \
    --seed "$((1000 + seed))" --json "${T[@]}")
  python3 -c '
import json, sys
w, s = json.loads(sys.argv[5]), json.loads(sys.argv[6])
print(json.dumps(dict(seed=int(sys.argv[1]), method=sys.argv[2], train_seconds=float(sys.argv[3]), steps=int(sys.argv[4]), warm_fraction=w["warm_fraction"],
                      frechet_preferred=s["frechet_preferred"], frechet_base=s["frechet_base"], precision=s["precision"], recall=s["recall"], diversity=s["diversity"])))' \
    "$seed" "$method" "$seconds" "$STEPS" "$warm" "$score" >> "$ROWS"
}
for seed in $SEEDS; do
  base="$WORK/base-$seed.safetensors"
  seconds=$("$D" train image --data "$WORK/shapes.npz" --steps "$BASE_STEPS" --seed "$seed" -o "$base" --json "${T[@]}" | python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])")
  judge "$seed" base "$base" "$seconds"
  for method in $METHODS; do
    out="$WORK/$method-$seed.safetensors"
    seconds=$("$D" seppo align --base "$base" --preferred "$WORK/warm.npz" --method "$method" --steps "$STEPS" --bank-every "$BANK_EVERY" --beta "$BETA" --lr "$LR" \
      --seed "$seed" -o "$out" --json "${T[@]}" | python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])")
    judge "$seed" "$method" "$out" "$seconds"
  done
done
mkdir -p "$FIGURES"
first=$(echo $SEEDS | cut -d' ' -f1)
for method in base $METHODS; do  # the figure: 12 samples per class of the first seed's models (same DDIM seed)
  "$D" sample --model "$WORK/$method-$first.safetensors" -n 36 --sampler ddim --steps "$SCORE_STEPS" --seed "$((1000 + first))" -o "$WORK/figure.npy" \
    --png "$FIGURES/seppo-shapes-$method.png" "${T[@]}" > /dev/null
done
python3 experiments/seppo_shapes_table.py "$ROWS" "$TABLE" --methods "base $METHODS" \
  --command "bash experiments/seppo_shapes.sh SEEDS=\"$SEEDS\" SIDE=$SIDE N_BASE=$N_BASE N_PREFERRED=$N_PREFERRED BASE_STEPS=$BASE_STEPS STEPS=$STEPS BETA=$BETA LR=$LR METHODS=\"$METHODS\" PER_CLASS=$PER_CLASS THREADS=$THREADS"
cat "$TABLE"
