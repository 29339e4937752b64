#!/usr/bin/env bash
# Experiment (issue G): SePPO vs Diffusion-DPO, SFT and SPIN on the 8×8 digits (docs/seppo.md §6, Setup A).
#   make experiment-seppo [SEEDS="0 1 2 3 4" BASE_STEPS=4000 STEPS=210 BETA=2000 LR=0.0001 PER_CLASS=50 THREADS=1 JOBS=1]
# Cost at the defaults, per seed on one thread: ≈ 4–6 min for the base model, ≈ 1 min per alignment
# (with the held-out diagnostics), ≈ 10 s per scoring — about 15 min per seed.
# Once: the held-out scorer (scorer split only). Per seed: a base model on clean + degraded digits,
# then every method from that base with the same number of updates and preferred digits per update
# (Base, SFT, Diffusion-DPO on oracle pairs, SPIN, SePPO with ref ∈ {random, initial, latest} and
# flip ∈ {sign, indicator, off}); each model is sampled with the same DDIM seed (paired samples) and
# scored (diffuse seppo score); during alignment the held-out scorer also logs a score-vs-step curve
# and the flipper's precision (diagnostics only; the scorer never enters a loss). Rows go to experiments/results/seppo.jsonl; experiments/seppo_table.py
# writes docs/seppo-results.md; base-vs-aligned grids go to docs/figures/seppo-*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"0 1 2 3 4"}
BASE_STEPS=${BASE_STEPS:-4000}
STEPS=${STEPS:-210}
BANK_EVERY=${BANK_EVERY:-30}
BETA=${BETA:-2000}
LR=${LR:-0.0001}
PER_CLASS=${PER_CLASS:-50}
SCORE_STEPS=${SCORE_STEPS:-50}
EVAL_EVERY=${EVAL_EVERY:-30}      # score-vs-step curve and flip precision (held-out diagnostics, not training signal)
THREADS=${THREADS:-1}
JOBS=${JOBS:-1}                   # seeds run in parallel (each with THREADS threads); 2 on a 2-core machine
METHODS=${METHODS:-"sft dpo spin seppo:random:sign seppo:random:indicator seppo:random:off seppo:initial:sign seppo:latest:sign"}
OUT=experiments/results
RESULTS=${RESULTS:-docs/seppo-results.md}   # the table (a smoke run can write elsewhere)
FIGURES=${FIGURES:-docs/figures}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK" "$FIGURES"
. experiments/lib.sh
experiment_binary   # D: a private copy of the release binary
ROWS=${ROWS:-$OUT/seppo.jsonl}
: > "$ROWS"
row() {  # row METHOD SEED ALIGN-JSON SCORE-JSON → one JSON line in the seed's own file (seeds may run in parallel)
  python3 -c "import json,sys; a=json.loads(sys.argv[3]); s=json.loads(sys.argv[4]); s.update(method=sys.argv[1], seed=int(sys.argv[2]), align=a); print(json.dumps(s))" "$@" >> "$ROWS.seed$2"
}
# Artifacts already in WORK are reused (runs are deterministic for a seed and thread count).
[ -f "$WORK/scorer.safetensors" ] || "$D" seppo train-scorer --seed 0 --threads "$THREADS" -o "$WORK/scorer.safetensors" 2> /dev/null
run_seed() {
  local seed=$1
  : > "$ROWS.seed$seed"
  base="$WORK/base-$seed.safetensors"
  [ -f "$base" ] || "$D" seppo train-base --steps "$BASE_STEPS" --seed "$seed" --threads "$THREADS" --log-every "$BASE_STEPS" \
    --checkpoint-every "$BASE_STEPS" -o "$base" > /dev/null 2>&1
  score() {  # score MODEL [PNG] → JSON; the sampling seed is shared by all methods of this seed (paired samples)
    "$D" seppo score --model "$1" --scorer "$WORK/scorer.safetensors" --per-class "$PER_CLASS" --steps "$SCORE_STEPS" \
      --seed $((1000 + seed)) --threads "$THREADS" --json ${2:+--png "$2"}
  }
  row base "$seed" '{}' "$(score "$base" "$([ "$seed" = 0 ] && echo "$FIGURES/seppo-base.png")")"
  for spec in $METHODS; do
    IFS=: read -r method ref flip <<< "$spec"
    name=${spec//:/-}
    extra=()
    [ -n "${ref:-}" ] && extra+=(--ref "$ref")
    [ -n "${flip:-}" ] && extra+=(--flip "$flip")
    out="$WORK/$name-$seed.safetensors"
    start=$(date +%s.%N)
    align=$("$D" seppo align --base "$base" --method "$method" "${extra[@]}" --steps "$STEPS" --bank-every "$BANK_EVERY" --beta "$BETA" \
      --lr "$LR" --seed "$seed" --threads "$THREADS" --log-every "$STEPS" --checkpoint-every "$STEPS" --scorer "$WORK/scorer.safetensors" \
      --eval-every "$EVAL_EVERY" --json -o "$out" 2> /dev/null)
    echo "seed $seed $name: $(python3 -c "print(f'{$(date +%s.%N) - $start:.0f}')") s" >&2
    png=""
    [ "$seed" = 0 ] && [ "$name" = "seppo-random-sign" ] && png="$FIGURES/seppo-aligned.png"
    [ "$seed" = 0 ] && [ "$name" = "sft" ] && png="$FIGURES/seppo-sft.png"
    row "$name" "$seed" "$align" "$(score "$out" "$png")"
  done
}
pids=()
for seed in $SEEDS; do
  run_seed "$seed" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
done
for pid in "${pids[@]}"; do wait "$pid"; done   # set -e: a failed seed stops here
for seed in $SEEDS; do cat "$ROWS.seed$seed"; rm -f "$ROWS.seed$seed"; done >> "$ROWS"
python3 experiments/seppo_table.py "$ROWS" "$RESULTS" --svg "$FIGURES/seppo-curves.svg" \
  --command "make experiment-seppo SEEDS=\"$SEEDS\" BASE_STEPS=$BASE_STEPS STEPS=$STEPS BANK_EVERY=$BANK_EVERY BETA=$BETA LR=$LR PER_CLASS=$PER_CLASS SCORE_STEPS=$SCORE_STEPS EVAL_EVERY=$EVAL_EVERY THREADS=$THREADS JOBS=$JOBS"
