#!/usr/bin/env bash
# `make demo`: the three methods from the shipped checkpoints (Checkpoints/manifest.json says how each
# was made), about a minute after the build. Writes HDF5, PNG and SVG files to ./out/ and prints a
# summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo_common.sh

echo "1/3  Policy-Guided Diffusion: 2,000 synthetic pointmaze-umaze transitions from the shipped transition generator, guided toward the shipped TD3+BC agent (λ = 1)"
"$D" pgd generate --model "$C/pointmaze-trajectory.safetensors" --policy "$C/pointmaze-td3bc.safetensors" --guidance 1 -n 2000 \
  --seed 0 -o "$OUT/pgd-pointmaze.hdf5" "${T[@]}" > /dev/null
"$D" pgd generate --model "$C/pointmaze-trajectory.safetensors" -n 2000 --seed 0 -o "$OUT/unguided-pointmaze.hdf5" "${T[@]}" > /dev/null
"$D" dataset collect --env pointmaze-umaze --quality mixed --steps 20000 --seed 1 -o "$OUT/real-pointmaze.hdf5" "${T[@]}" > /dev/null
"$D" plot trajectories "$OUT/pgd-pointmaze.hdf5" --compare "$OUT/real-pointmaze.hdf5" --episodes 2000 --compare-episodes 20 --svg "$OUT/pgd-pointmaze.svg" \
  --title "pointmaze-umaze: PGD synthetic steps s → s′ (blue) vs real episodes (orange)" > /dev/null
# Measured in the real data's σ units against the real episodes (docs/pgd.md §6.1); the real data
# against itself gives its own roughness and the floor of every error.
E=(pgd evaluate --env pointmaze-umaze --real "$OUT/real-pointmaze.hdf5" --policy "$C/pointmaze-td3bc.safetensors" --json "${T[@]}")
pgd=$("$D" "${E[@]}" --data "$OUT/pgd-pointmaze.hdf5")
unguided=$("$D" "${E[@]}" --data "$OUT/unguided-pointmaze.hdf5")
real=$("$D" "${E[@]}" --data "$OUT/real-pointmaze.hdf5")

echo "2/3  FISOR: the shipped safe-circle policy and BC-Safe on the same data, 10 episodes (same seeds), cost limit κ = 10"
fisor=$("$D" eval --policy "$C/safe-circle-fisor.safetensors" --cost-limit 10 --episodes 10 --seed 0 --json "${T[@]}")
bcsafe=$("$D" eval --policy "$C/safe-circle-bc-safe.safetensors" --cost-limit 10 --episodes 10 --seed 0 --json "${T[@]}")

echo "3/3  SePPO: digits from the base model and from its SePPO-aligned version (same noise), judged by the held-out scorer"
for m in base seppo; do
  "$D" sample --model "$C/digits-$m.safetensors" -n 80 --sampler ddim --steps 50 --seed 0 --png "$OUT/digits-$m.png" "${T[@]}" > /dev/null
done
base=$("$D" seppo score --model "$C/digits-base.safetensors" --scorer "$C/digits-scorer.safetensors" --per-class 20 --seed 0 --json "${T[@]}")
seppo=$("$D" seppo score --model "$C/digits-seppo.safetensors" --scorer "$C/digits-scorer.safetensors" --per-class 20 --seed 0 --json "${T[@]}")
"$D" sample --model "$C/two-moons-edm.safetensors" -n 2000 --seed 0 --svg "$OUT/two-moons.svg" "${T[@]}" > /dev/null

echo
echo "| method | result | files in $OUT/ |"
echo "|---|---|---|"
echo "| PGD (pointmaze-umaze) | relative dynamics error $(num "$(get "$pgd" relativeDynamicsError)") (unguided $(num "$(get "$unguided" relativeDynamicsError)"); below 1 beats \"nothing moves\"); mean log π(a|s) $(num "$(get "$pgd" meanLogLikelihood)") (unguided $(num "$(get "$unguided" meanLogLikelihood)")) | pgd-pointmaze.hdf5, unguided-pointmaze.hdf5, real-pointmaze.hdf5, pgd-pointmaze.svg |"
echo "| FISOR (safe-circle) | normalized return $(num "$(get "$fisor" normalizedReturnMean)"), normalized cost $(num "$(get "$fisor" normalizedCostMean)"), safe: $(safe "$fisor") (BC-Safe: $(num "$(get "$bcsafe" normalizedReturnMean)"), $(num "$(get "$bcsafe" normalizedCostMean)"), safe: $(safe "$bcsafe"); docs/fisor.md on why FISOR earns less here) | – |"
echo "| SePPO (8×8 digits) | held-out score $(num "$(get "$base" mean_score)") → $(num "$(get "$seppo" mean_score)"), accuracy $(num "$(get "$base" accuracy)") → $(num "$(get "$seppo" accuracy)") | digits-base.png, digits-seppo.png |"
echo "| EDM toy (two moons) | 2,000 samples | two-moons.svg |"
echo
echo "PGD fidelity, in σ units of real-pointmaze.hdf5 (docs/pgd.md §6.1): relative dynamics error = error ÷ the real mean one-step change;"
echo "roughness = mean squared second difference per window (– : one-transition samples have none); W1 = per-dimension 1-D Wasserstein distance to the real data."
echo
echo "| data | relative dynamics error mean / median / p90 | roughness obs / actions | W1 obs max / actions max | out of bounds |"
echo "|---|---|---|---|---|"
pct() { awk -v x="$1" 'BEGIN { printf "%.1f", 100 * x }'; }
for row in "guided (λ = 1):pgd" "unguided:unguided" "real:real"; do
  var=${row##*:}
  j=${!var}
  echo "| ${row%%:*} | $(num "$(get "$j" relativeDynamicsError)") / $(num "$(get "$j" relativeDynamicsErrorMedian)") / $(num "$(get "$j" relativeDynamicsErrorP90)") |" \
       "$(num "$(get "$j" roughnessObservations)" 4) / $(num "$(get "$j" roughnessActions)" 4) |" \
       "$(num "$(get "$j" observationW1Max)") / $(num "$(get "$j" actionW1Max)") | $(pct "$(get "$j" outOfBoundsFraction)") % |"
done
echo
echo "How each checkpoint was made: Checkpoints/manifest.json (make checkpoints). Benchmarks: make bench."
