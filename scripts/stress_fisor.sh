#!/usr/bin/env bash
# Stress of issue #32's flake: the in-process FISOR train/resume/evaluate suite, RUNS times, each time in
# one test process beside other suites that allocate and compute concurrently (tensor kernels, NN layers,
# the thread pool, the diffusion policies), on a machine kept busy by LOAD extra spinning processes.
# Every other run sets PD_POISON_BUFFERS=1 (pooled buffers NaN-filled when taken and when given back).
#   make stress-fisor [RUNS=50 LOAD=2]
# Prints one line per run and the count of failures; exit 1 if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-50}
LOAD=${LOAD:-2}
FLAGS=(-c release -Xswiftc -enable-testing)
FILTER='FISORCLITests|FISORTests|OpsTests|GradientTests|ThreadPoolTests|ModuleTests|DiffusionPoliciesTests|ConvolutionTests'
swift build --build-tests "${FLAGS[@]}" >/dev/null || exit 1
spinners=()
for ((i = 0; i < LOAD; i++)); do (while :; do :; done) & spinners+=($!); done
trap 'kill "${spinners[@]}" 2>/dev/null' EXIT
failed=0
for ((run = 1; run <= RUNS; run++)); do
  poison=$((run % 2 == 0 ? 1 : 0))
  log=$(PD_POISON_BUFFERS=$poison swift test --skip-build "${FLAGS[@]}" --filter "$FILTER" 2>&1)
  if grep -q "✘" <<< "$log" || ! grep -q "Test run with .* passed" <<< "$log"; then
    failed=$((failed + 1)); echo "run $run (poison $poison): FAILED"; grep "✘" <<< "$log" | head -5
  else
    echo "run $run (poison $poison): $(grep -o 'Test run with [0-9]* tests in [0-9]* suites passed after [0-9.]* seconds' <<< "$log")"
  fi
done
echo "$failed of $RUNS runs failed"
[ "$failed" = 0 ]
