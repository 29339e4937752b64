#!/usr/bin/env bash
# Experiment (issue E): Policy-Guided Diffusion on pointmaze-umaze and pendulum.
#   make experiment-pgd [SEEDS="0 1 2" TRAJ_STEPS=8000 AGENT_STEPS=30000 LAMBDAS="0 0.1 0.3 1 3" DOWNSTREAM=1
#                        TRAJ_ARGS="--network window-mlp" WM=1 ALGO=td3bc|iql DOWN_LAMBDAS="0 1" TERMINALS=rule|model]
# Per environment and seed: a mixed dataset (100k transitions; the MuJoCo robots: D4RL's medium-replay
# recipe, every row of the shipped replay buffer — docs/environments.md §7), a target TD3+BC agent trained on it
# (also the real-data-only baseline), a trajectory model (diffuse train trajectory), synthetic data
# for every λ guided by the target agent, and an autoregressive world-model baseline rolled out under
# the same agent; each synthetic set is measured by `diffuse pgd evaluate` (dynamics and reward error
# against the exact environment, log π(a|s)). With DOWNSTREAM=1, agents are also trained on PGD data
# (λ = LAMBDA_STAR) and on unguided data (λ = 0) and evaluated. Raw rows go to
# experiments/results/pgd.jsonl; experiments/pgd_table.py writes docs/pgd-results.md and SVG plots.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"0 1 2"}
ENVS=${ENVS:-"pointmaze-umaze pendulum"}
DATA_STEPS=${DATA_STEPS:-100000}
LOCO_QUALITY=${LOCO_QUALITY:-medium-replay}   # halfcheetah / hopper / walker2d
LOCO_DATA_STEPS=${LOCO_DATA_STEPS:-1000000}    # medium-replay: at most this many rows of the replay buffer
TRAJ_STEPS=${TRAJ_STEPS:-8000}
TRAJ_ARGS=${TRAJ_ARGS:-}          # extra `train trajectory` options, e.g. "--network window-mlp"
WM=${WM:-1}                       # 0: skip the autoregressive world-model baseline
AGENT_STEPS=${AGENT_STEPS:-30000}
LAMBDAS=${LAMBDAS:-"0 0.1 0.3 1 3"}
LAMBDA_STAR=${LAMBDA_STAR:-1}
N_EVAL=${N_EVAL:-8128}            # 64 windows of 128 rows
SAMPLE_STEPS=${SAMPLE_STEPS:-256} # EDM steps (docs/pgd.md §3)
WM_STEPS=${WM_STEPS:-20000}
DOWNSTREAM=${DOWNSTREAM:-0}
POOL=${POOL:-20000}
REGEN=${REGEN:-$((AGENT_STEPS / 4))}   # pool regenerations within a run (PGD regenerates every 10k of 1M steps)
POOL_SAMPLE_STEPS=${POOL_SAMPLE_STEPS:-$SAMPLE_STEPS}  # EDM steps per regenerated pool
ALGO=${ALGO:-td3bc}   # downstream agents: td3bc | iql
# Terminals of synthetic rows (docs/pgd.md §6): the environment's termination rule (hopper, walker2d), or the
# generator's own (model: every row before the rule existed). Rows record it; synthetic sets and agents made with
# the model's terminals keep their old file names, the rule's get a "-rule" suffix.
TERMINALS=${TERMINALS:-rule}
case $TERMINALS in rule) SUFFIX=-rule ;; model) SUFFIX= ;; *) echo "TERMINALS must be rule or model" >&2; exit 2 ;; esac
DOWN_LAMBDAS=${DOWN_LAMBDAS:-"0 $LAMBDA_STAR"}   # guidance of the downstream pools (0: unguided)
THREADS=${THREADS:-2}
DOWN_CHECKPOINT=${DOWN_CHECKPOINT:-5000}   # downstream agents checkpoint this often (a rerun resumes them)
OUT=experiments/results
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK"
. experiments/lib.sh
experiment_binary   # D: a private copy of the release binary
ROWS=${ROWS:-$OUT/pgd.jsonl}   # parallel runs (one per env) write separate files, then concatenate
: > "$ROWS"
row() {  # row KIND ENV SEED LAMBDA JSON-METRICS → one JSON line
  python3 -c "import json,sys; m=json.loads(sys.argv[5]); m.update(kind=sys.argv[1], env=sys.argv[2], seed=int(sys.argv[3]), guidance=float(sys.argv[4]), terminals=sys.argv[6]); print(json.dumps(m))" "$@" "$TERMINALS" >> "$ROWS"
}
for env in $ENVS; do
  # Artifacts already in WORK are reused (runs are deterministic for a seed and thread count, so a
  # rerun with the same knobs would produce the same files).
  case $env in
    halfcheetah|hopper|walker2d) quality=$LOCO_QUALITY; data_steps=$LOCO_DATA_STEPS ;;
    *) quality=mixed; data_steps=$DATA_STEPS ;;
  esac
  [ -f "$WORK/$env.hdf5" ] || "$D" dataset collect --env "$env" --quality "$quality" --steps "$data_steps" --seed 0 -o "$WORK/$env.hdf5" > /dev/null
  for seed in $SEEDS; do
    tag="$WORK/$env-$seed"
    # Target policy (and the real-data-only baseline).
    [ -f "$tag-agent.safetensors" ] || "$D" train agent --algo td3bc --data "$WORK/$env.hdf5" --steps "$AGENT_STEPS" --seed "$seed" --threads "$THREADS" \
      --log-every "$AGENT_STEPS" --checkpoint-every "$AGENT_STEPS" -o "$tag-agent.safetensors" > /dev/null 2>&1
    real_row() {  # real_row ALGO AGENT → the real-data-only baseline row for ALGO
      row real "$env" "$seed" 0 "$("$D" eval --policy "$2" --episodes 50 --seed 1000 --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({"normalized_score": r["normalizedScoreMean"], "return_mean": r["returnMean"], "algo": sys.argv[1]}))' "$1")"
    }
    real_row td3bc "$tag-agent.safetensors"
    if [ "$DOWNSTREAM" = 1 ] && [ "$ALGO" != td3bc ]; then  # the downstream algorithm on real data only
      [ -f "$tag-$ALGO-real.safetensors" ] || "$D" train agent --algo "$ALGO" --data "$WORK/$env.hdf5" --steps "$AGENT_STEPS" --seed "$seed" --threads "$THREADS" \
        --log-every "$AGENT_STEPS" --checkpoint-every "$AGENT_STEPS" -o "$tag-$ALGO-real.safetensors" > /dev/null 2>&1
      real_row "$ALGO" "$tag-$ALGO-real.safetensors"
    fi
    # Trajectory model.
    [ -f "$tag-traj.safetensors" ] || "$D" train trajectory --data "$WORK/$env.hdf5" --steps "$TRAJ_STEPS" --seed "$seed" --threads "$THREADS" \
      --log-every "$TRAJ_STEPS" --checkpoint-every "$TRAJ_STEPS" $TRAJ_ARGS -o "$tag-traj.safetensors" > /dev/null 2>&1
    # λ sweep: likelihood under the target policy and fidelity to the true dynamics.
    for lambda in $LAMBDAS; do
      [ -f "$tag-pgd-$lambda$SUFFIX.hdf5" ] || "$D" pgd generate --model "$tag-traj.safetensors" --policy "$tag-agent.safetensors" --guidance "$lambda" -n "$N_EVAL" --terminals "$TERMINALS" \
        --steps "$SAMPLE_STEPS" --seed "$seed" --threads "$THREADS" -o "$tag-pgd-$lambda$SUFFIX.hdf5" > /dev/null 2>&1
      row pgd "$env" "$seed" "$lambda" "$("$D" pgd evaluate --data "$tag-pgd-$lambda$SUFFIX.hdf5" --real "$WORK/$env.hdf5" --policy "$tag-agent.safetensors" --json)"
    done
    # Autoregressive world model under the same policy, same number of transitions and horizon.
    if [ "$WM" = 1 ] && "$D" train world-model --help > /dev/null 2>&1; then
      [ -f "$tag-wm.safetensors" ] || "$D" train world-model --data "$WORK/$env.hdf5" --steps "$WM_STEPS" --seed "$seed" --threads "$THREADS" \
        --checkpoint-every "$WM_STEPS" --log-every "$WM_STEPS" -o "$tag-wm.safetensors" > /dev/null 2>&1
      [ -f "$tag-wm$SUFFIX.hdf5" ] || "$D" world-model rollout --model "$tag-wm.safetensors" --data "$WORK/$env.hdf5" --policy "$tag-agent.safetensors" -n "$N_EVAL" --terminals "$TERMINALS" \
        --horizon 127 --seed "$seed" --threads "$THREADS" -o "$tag-wm$SUFFIX.hdf5" > /dev/null 2>&1
      row world-model "$env" "$seed" 0 "$("$D" pgd evaluate --data "$tag-wm$SUFFIX.hdf5" --real "$WORK/$env.hdf5" --policy "$tag-agent.safetensors" --json)"
    fi
    if [ "$DOWNSTREAM" = 1 ]; then
      # The same agent loop on three pool generators: PGD (λ*), unguided diffusion (λ = 0) and the
      # world model rolled out under the current actor (kind downstream-wm). --resume: a rerun after an
      # interruption continues each agent from its last checkpoint (a finished one is only evaluated again,
      # the same score; its row's seconds are then that evaluation's).
      down() {  # down KIND LAMBDA GENERATOR-ARGS… → one row
        local kind=$1 lambda=$2; shift 2
        local r
        r=$("$D" pgd train-agent --data "$WORK/$env.hdf5" "$@" --algo "$ALGO" --guidance "$lambda" --terminals "$TERMINALS" \
              --steps "$AGENT_STEPS" --pool "$POOL" --regenerate-every "$REGEN" --sample-steps "$POOL_SAMPLE_STEPS" --eval-episodes 50 --seed "$seed" --threads "$THREADS" \
              --log-every "$AGENT_STEPS" --checkpoint-every "$DOWN_CHECKPOINT" --resume --json -o "$tag-$kind-${ALGO/td3bc/agent}-$lambda$SUFFIX.safetensors" 2>/dev/null)
        row "$kind" "$env" "$seed" "$lambda" "$(echo "$r" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({"normalized_score": r["normalized_score"], "return_mean": r["return_mean"], "seconds": r["seconds"], "algo": sys.argv[1]}))' "$ALGO")"
      }
      for lambda in $DOWN_LAMBDAS; do down downstream "$lambda" --model "$tag-traj.safetensors"; done
      [ "$WM" = 1 ] && [ -f "$tag-wm.safetensors" ] && down downstream-wm 0 --world-model "$tag-wm.safetensors"
    fi
  done
done
[ "${TABLE:-1}" = 1 ] || exit 0
python3 experiments/pgd_table.py "$ROWS" docs/pgd-results.md --work "$WORK" \
  --command "make experiment-pgd SEEDS=\"$SEEDS\" ENVS=\"$ENVS\" TRAJ_STEPS=$TRAJ_STEPS${TRAJ_ARGS:+ TRAJ_ARGS=\"$TRAJ_ARGS\"} WM=$WM AGENT_STEPS=$AGENT_STEPS LAMBDAS=\"$LAMBDAS\" N_EVAL=$N_EVAL SAMPLE_STEPS=$SAMPLE_STEPS DOWNSTREAM=$DOWNSTREAM POOL=$POOL REGEN=$REGEN POOL_SAMPLE_STEPS=$POOL_SAMPLE_STEPS ALGO=$ALGO WM_STEPS=$WM_STEPS THREADS=$THREADS"
cat docs/pgd-results.md
