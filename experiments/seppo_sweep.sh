#!/usr/bin/env bash
# Experiment (issue #29): each alignment method at its best setting, picked on a validation judge, then
# reported on the test judge over SEEDS.
#   make experiment-seppo SWEEP=1 [SETUP=digits|trajectories SEEDS="0 1 2 3 4" VAL_SEED=0 JOBS=2
#                                  BETA_SCALED="15 50 150 500" LRS="0.0001 0.0003" STEPS_GRID="210 630"
#                                  EXTEND=1 TEST=0|1]
# 1. Selection: on VAL_SEED's base model, every method of METHODS at every setting of the grid — β × error
#    scale in BETA_SCALED (β = BETA_SCALED / ERR_SCALE: the preference logit is β/2 times a difference of
#    per-sample errors, so the same β means a different sharpness on an objective whose errors are larger;
#    ERR_SCALE is the median per-sample error of the reference model measured at the end of alignment,
#    align.final_metrics.mse_ref in the earlier runs' rows: digits 0.076 (DDPM ε-MSE per pixel), windows
#    0.31 (EDM's weighted x0-error per element)), learning rate in LRS and updates in STEPS_GRID (snapshots
#    of one run per β and lr: the learning rate is constant, so they equal separate runs), the same
#    grid and the same batch for every method (SFT has no β). Scored by experiments/seppo.sh with
#    JUDGE=validation: digits by a judge trained on the evaluation split (the test judge never sees it and
#    is not trained in this phase), windows by the exact path score on other sampling seeds (2000 + seed).
# 2. Pick: experiments/seppo_pick.py reads the selection rows only (it refuses a row any test judge
#    scored) → one setting per method; docs/figures/$TAG-sweep-beta.svg plots validation score vs β.
# 3. Test: experiments/seppo.sh at the picked settings over SEEDS with the test judge (sampling seeds
#    1000 + seed), table and win rates → docs/$TAG-sweep-results.md.
# Rows: experiments/results/$TAG-sweep-validation.jsonl, $TAG-sweep-picks.json, $TAG-sweep.jsonl.
# EXTEND=1 keeps the validation rows already in $TAG-sweep-validation.jsonl and adds this call's grid (for
# METHODS only), so a grid whose pick sits at its edge (seppo_pick.py names them) grows without rerunning the
# rest; TEST=0 stops after the pick (several extensions, then one test phase). Models already in WORK are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
export SETUP=${SETUP:-digits}
SEEDS=${SEEDS:-"0 1 2 3 4"}
VAL_SEED=${VAL_SEED:-0}
JOBS=${JOBS:-1}
EXTEND=${EXTEND:-0}
TEST=${TEST:-1}   # SWEEP_COMMAND: the table's "Command:" line when the grid came from several calls
METHODS=${METHODS:-"sft dpo seppo:random:sign seppo:random:indicator seppo:random:off seppo:latest:sign"}
BETA_SCALED=${BETA_SCALED:-"15 50 150 500"}
LRS=${LRS:-"0.0001 0.0003"}
STEPS_GRID=${STEPS_GRID:-"210 630"}
if [ "$SETUP" = trajectories ]; then TAG=seppo-trajectories; ERR_SCALE=${ERR_SCALE:-0.31}
else TAG=seppo; ERR_SCALE=${ERR_SCALE:-0.076}; fi
OUT=${OUT:-experiments/results}
FIGURES=${FIGURES:-docs/figures}
RESULTS=${RESULTS:-docs/$TAG-sweep-results.md}
export WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK"
. experiments/lib.sh
experiment_binary
export DIFFUSE=$D
VAL_ROWS=$OUT/$TAG-sweep-validation.jsonl

# 1. Selection. The base model first (one process trains it), then one seppo.sh per method, JOBS at a time.
export PNGS=0   # the main experiment's figures stay
EVAL_EVERY=1000000 JUDGE=validation SEEDS=$VAL_SEED METHODS="" ROWS="$WORK/val-base.jsonl" TABLE=0 bash experiments/seppo.sh
for m in $METHODS; do
  specs=()
  # The update counts are snapshots of one run per (β, lr): 210+630 (experiments/seppo.sh).
  steps=$(tr ' ' '\n' <<< "$STEPS_GRID" | sort -n | paste -sd+)
  for lr in $LRS; do
    if [ "${m%%:*}" = sft ]; then specs+=("$m@2000,$lr,$steps")   # β unused by SFT
    else for c in $BETA_SCALED; do specs+=("$m@$(python3 -c "print(round($c / $ERR_SCALE))"),$lr,$steps"); done; fi
  done
  # No score-vs-step diagnostics while selecting (EVAL_EVERY past the last update: the start only).
  rm -f "$WORK/val-${m//:/-}.done"
  ( EVAL_EVERY=1000000 JUDGE=validation SEEDS=$VAL_SEED METHODS="${specs[*]}" ROWS="$WORK/val-${m//:/-}.jsonl" TABLE=0 bash experiments/seppo.sh \
      && touch "$WORK/val-${m//:/-}.done" ) &
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
done
wait   # then check each method's end marker (see experiments/seppo.sh)
for m in $METHODS; do
  [ -f "$WORK/val-${m//:/-}.done" ] || { echo "seppo_sweep.sh: the selection runs of $m failed" >&2; exit 1; }
done
# This call's rows (only METHODS' files were rewritten above), after the kept ones when extending; a setting
# scored twice keeps its newest row (runs are deterministic, so only the seconds differ).
if [ "$EXTEND" = 1 ] && [ -f "$VAL_ROWS" ]; then kept=$VAL_ROWS; else kept=/dev/null; fi
new=("$WORK/val-base.jsonl")
for m in $METHODS; do new+=("$WORK/val-${m//:/-}.jsonl"); done
python3 experiments/seppo_pick.py --merge "$kept" "${new[@]}" > "$WORK/val-merged.jsonl"
mv "$WORK/val-merged.jsonl" "$VAL_ROWS"

# 2. Pick (validation rows only).
PICKED=$(python3 experiments/seppo_pick.py "$VAL_ROWS" --json "$OUT/$TAG-sweep-picks.json" --svg "$FIGURES/$TAG-sweep-beta.svg" \
  --title "$SETUP: validation score vs β (seed $VAL_SEED)")
echo "picked: $PICKED" >&2
[ "$TEST" = 1 ] || exit 0

# 3. Test: the picked settings over SEEDS, scored by the test judge.
JUDGE=test SEEDS=$SEEDS METHODS="$PICKED" JOBS=$JOBS ROWS="$OUT/$TAG-sweep.jsonl" RESULTS="$RESULTS" TABLE=1 \
  CURVES="$FIGURES/$TAG-sweep-curves.svg" \
  COMMAND="${SWEEP_COMMAND:-make experiment-seppo SWEEP=1 SETUP=$SETUP SEEDS=\"$SEEDS\" VAL_SEED=$VAL_SEED BETA_SCALED=\"$BETA_SCALED\" LRS=\"$LRS\" STEPS_GRID=\"$STEPS_GRID\" ERR_SCALE=$ERR_SCALE (picks: $OUT/$TAG-sweep-picks.json)}" \
  bash experiments/seppo.sh
