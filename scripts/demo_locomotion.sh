#!/usr/bin/env bash
# `make demo-locomotion`: PGD and FISOR on the MuJoCo halfcheetah from the shipped checkpoints (issue #28;
# Checkpoints/manifest.json says how each was made). Kept apart from `make demo` so that one stays near a
# minute. Writes HDF5 files to ./out/ and prints a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo_common.sh

echo "1/2  Policy-Guided Diffusion on halfcheetah: 4,000 synthetic transitions from the shipped generator (medium-replay data), guided toward the shipped TD3+BC agent (λ = 1) and unguided"
"$D" pgd generate --model "$C/halfcheetah-trajectory.safetensors" --policy "$C/halfcheetah-td3bc.safetensors" --guidance 1 -n 4000 \
  --seed 0 -o "$OUT/pgd-halfcheetah.hdf5" "${T[@]}" > /dev/null
"$D" pgd generate --model "$C/halfcheetah-trajectory.safetensors" -n 4000 --seed 0 -o "$OUT/unguided-halfcheetah.hdf5" "${T[@]}" > /dev/null
"$D" dataset collect --env halfcheetah --quality medium-replay --steps 1000000 --seed 0 -o "$OUT/real-halfcheetah.hdf5" "${T[@]}" > /dev/null
E=(pgd evaluate --env halfcheetah --real "$OUT/real-halfcheetah.hdf5" --policy "$C/halfcheetah-td3bc.safetensors" --json "${T[@]}")
pgd=$("$D" "${E[@]}" --data "$OUT/pgd-halfcheetah.hdf5")
unguided=$("$D" "${E[@]}" --data "$OUT/unguided-halfcheetah.hdf5")
agent=$("$D" eval --policy "$C/halfcheetah-td3bc.safetensors" --episodes 3 --seed 0 --json "${T[@]}")

echo "2/2  FISOR on halfcheetah-velocity (cost 1 at each step above the speed limit): the shipped policy (best-Q_r feasible candidate) and the SAC expert, 3 episodes (same seeds), κ = 10"
fisor=$("$D" eval --policy "$C/halfcheetah-velocity-fisor.safetensors" --cost-limit 10 --episodes 3 --seed 0 --json "${T[@]}")
expert=$("$D" eval --policy "$C/halfcheetah-sac-expert.safetensors" --env halfcheetah-velocity --cost-limit 10 --episodes 3 --seed 0 --json "${T[@]}")

echo
echo "| method | result | files in $OUT/ |"
echo "|---|---|---|"
echo "| PGD (halfcheetah) | relative dynamics error $(num "$(get "$pgd" relativeDynamicsError)") (unguided $(num "$(get "$unguided" relativeDynamicsError)")); mean log π(a|s) under the target agent $(num "$(get "$pgd" meanLogLikelihood)") (unguided $(num "$(get "$unguided" meanLogLikelihood)")); the target agent scores $(num "$(get "$agent" normalizedScoreMean)" 1) (D4RL-normalized) | pgd-halfcheetah.hdf5, unguided-halfcheetah.hdf5, real-halfcheetah.hdf5 |"
echo "| FISOR (halfcheetah-velocity) | normalized return $(num "$(get "$fisor" normalizedReturnMean)"), normalized cost $(num "$(get "$fisor" normalizedCostMean)"), safe: $(safe "$fisor") (the unconstrained SAC expert: $(num "$(get "$expert" normalizedReturnMean)"), $(num "$(get "$expert" normalizedCostMean)"), safe: $(safe "$expert"); docs/fisor-results.md) | – |"
echo
echo "How each checkpoint was made: Checkpoints/manifest.json (make checkpoints SECTIONS=locomotion). Experiments: docs/pgd-results.md, docs/fisor-results.md."
