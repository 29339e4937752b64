#!/usr/bin/env bash
# Experiment (issue #29): grows the digits sweep's grid where its first picks sat at the edge
# (docs/seppo-sweep-results.md, seppo_pick.py names the edges), then runs the test phase at the new picks.
#   bash experiments/seppo_sweep_digits_extend.sh   [WORK=the first sweep's work folder, to reuse its models]
# First grid (make experiment-seppo SWEEP=1 STEPS_GRID=210): β × scale {15, 50, 150, 500}, lr {1e-4, 3e-4}.
# Edges it left: Diffusion-DPO, SePPO random + sign and SePPO without AAF at the largest β and lr; SePPO
# random + indicator and SFT at the largest lr; SePPO latest at the smallest β and lr. Added here:
#   - largest-β methods: β × scale 1500 at lr 3e-4 and 1e-3, and every first-grid β at lr 1e-3;
#   - SePPO random + indicator: every first-grid β at lr 1e-3;
#   - SePPO latest: β × scale 5 at lr 3e-5 and 1e-4, every first-grid β at lr 3e-5;
#   - SFT: lr 1e-3.
# All at 210 updates, the first grid's count. The validation rows of both grids are picked together.
set -euo pipefail
cd "$(dirname "$0")/.."
export SETUP=digits EXTEND=1 STEPS_GRID=210
export SWEEP_COMMAND="make experiment-seppo SWEEP=1 SETUP=digits STEPS_GRID=210, then bash experiments/seppo_sweep_digits_extend.sh (picks: experiments/results/seppo-sweep-picks.json)"
grow() { TEST=0 bash experiments/seppo_sweep.sh; }
METHODS="dpo seppo:random:off seppo:random:sign" BETA_SCALED="1500" LRS="0.0003 0.001" grow
METHODS="dpo seppo:random:off seppo:random:sign seppo:random:indicator" BETA_SCALED="15 50 150 500" LRS="0.001" grow
METHODS="seppo:latest:sign" BETA_SCALED="5" LRS="0.00003 0.0001" grow
METHODS="seppo:latest:sign" BETA_SCALED="15 50 150 500" LRS="0.00003" grow
# The last addition, then the test phase over every method's pick (models already in WORK are reused).
METHODS="sft" LRS="0.001" TEST=1 bash experiments/seppo_sweep.sh
