# Shared by the experiment scripts (sourced, not run). experiment_binary: a private copy of the
# release `diffuse` in $WORK, so rebuilds during a long run cannot change the binary it uses; sets D.
# DIFFUSE=path copies an already built binary instead of building one.
experiment_binary() {
  mkdir -p "$WORK"
  if [ ! -x "$WORK/diffuse" ]; then
    if [ -z "${DIFFUSE:-}" ]; then swift build -c release --product diffuse; DIFFUSE=.build/release/diffuse; fi
    cp "$DIFFUSE" "$WORK/diffuse"
  fi
  D="$WORK/diffuse"
}

# fisor_rule_row POLICY RULE DATASET SEED CRITIC_STEPS ACTOR_ITERATIONS TOTAL_ITERATIONS SECONDS MARGIN: evaluates a
# FISOR checkpoint with one candidate rule (min-qh | max-qr | feasible-sample, or raw: one candidate; only the
# settings the policy reads are rewritten, dev/fisor_patch_checkpoint.py) over $EPISODES seeded episodes at
# κ = $KAPPA with $D and $THREADS, and prints one row of experiments/fisor_actor_curve.sh's format.
fisor_rule_row() {
  local policy=$1 rule=$2 patched
  patched=$(mktemp --suffix .safetensors)
  case $rule in
    raw) python3 dev/fisor_patch_checkpoint.py "$policy" "$patched" candidates=1 ;;
    *) python3 dev/fisor_patch_checkpoint.py "$policy" "$patched" "selection=\"$rule\"" ;;
  esac
  "$D" eval --policy "$patched" --episodes "$EPISODES" --seed 1000 --cost-limit "$KAPPA" --threads "$THREADS" --json 2>/dev/null | python3 -c '
import json, sys
e = json.load(sys.stdin)
ds, seed, rule, critic, actor, total, secs, margin = sys.argv[1:]
print(json.dumps(dict(dataset=ds, seed=int(seed), critic_steps=int(critic), actor_iterations=int(actor), total_iterations=int(total), rule=rule,
      train_seconds=float(secs), kappa=e["costLimit"], normalized_return=e["normalizedReturnMean"], normalized_cost=e["normalizedCostMean"],
      return_mean=e["returnMean"], cost_mean=e["costMean"], episodes=e["episodes"], **({"feasible_margin": float(margin)} if float(margin) > 0 else {}))))' \
    "$3" "$4" "$rule" "$5" "$6" "$7" "$8" "$9"
  rm -f "$patched"
}
