# PolicyDiffusion — the two commands a newcomer needs are `make demo` and `make test`.
SWIFT ?= swift
RELEASE = -c release
TEST_FLAGS = -c release -Xswiftc -enable-testing
BENCH_DIR = .build-bench
DIFFUSE = .build/release/diffuse
THREADS ?= 2

.PHONY: setup build demo demo-locomotion test run-samples fuzz fuzz-build fuzz-minimize fuzz-replay gemm-split-check bench-build bench bench-contention bench-rounds bench-rounds-diffusion-policies bench-ab bench-twin-gemm bench-train-agent bench-distributed bench-compare checkpoints datasets clean experiment-agents experiment-pgd experiment-seppo experiment-seppo-shapes experiment-fisor experiment-diffusion-policies experiment-fidelity experiment-fidelity-knobs stress-fisor kill-soak test-tsan test-tsan-ci test-asan

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build $(RELEASE)

# Sets up, builds, and runs the three methods on the shipped checkpoints (scripts/demo.sh): a PGD
# synthetic pointmaze dataset and its dynamics error, the FISOR policy on safe-circle, base vs
# SePPO-aligned digits; files in ./out/, a summary table on stdout. Benchmarks: make bench.
demo: build
	bash scripts/demo.sh

# PGD and FISOR on the MuJoCo halfcheetah from the shipped checkpoints (scripts/demo_locomotion.sh; issue #28).
demo-locomotion: build
	bash scripts/demo_locomotion.sh

# The whole test suite, in release mode (what .ci/run calls).
# Open MPI comes too: the data-parallel tests run two ranks with mpirun (PD_REQUIRE_MPI: no skipping).
test:
	@PD_SETUP_PYTHON=1 PD_SETUP_MPI=1 bash scripts/setup.sh
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	PD_REQUIRE_MPI=1 $(SWIFT) test --skip-build $(TEST_FLAGS)
	@$(MAKE) --no-print-directory run-samples
	@$(MAKE) --no-print-directory fuzz-replay
	python3 experiments/seppo_pick.py --self-test
	@$(MAKE) --no-print-directory kill-soak
	@$(MAKE) --no-print-directory test-tsan-ci

# Issue #32: the in-process FISOR resume suite beside other suites, RUNS times under LOAD spinning processes.
stress-fisor: setup
	RUNS=$(or $(RUNS),50) LOAD=$(or $(LOAD),2) bash scripts/stress_fisor.sh

# Issue #32: the suite under ThreadSanitizer / AddressSanitizer (debug builds, our C targets instrumented too;
# any report fails the run). FILTER narrows it, e.g. make test-tsan FILTER='TensorCoreTests|NNTests|FISORTests'.
# Suppressions, each with its reason: scripts/sanitizers/*.supp.
SANITIZER_FILTER = $(if $(FILTER),--filter '$(FILTER)') $(if $(SKIP),--skip '$(SKIP)')
test-tsan: setup
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS="suppressions=$(CURDIR)/scripts/sanitizers/tsan.supp halt_on_error=0 exitcode=66" \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan $(SANITIZER_FILTER)
# CI's short TSan job (part of make test): the tensor, NN and FISOR suites, minus the two-state HJ chain —
# 60,000 updates on a batch of 2 that never reaches the thread pool, 9 minutes under TSan (make test-tsan runs it).
test-tsan-ci:
	@$(MAKE) --no-print-directory test-tsan FILTER='TensorCoreTests|NNTests|FISORTests' SKIP='twoStateChainConvergesToItsClosedFormHJValue'
test-asan: setup
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS="detect_leaks=0" $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan $(SANITIZER_FILTER)

# Issue #32: every resumable trainer killed with SIGKILL at KILLS random moments and requeued with --resume
# ends bit-identical to a straight run, never leaving half a file (scripts/kill_soak.sh; short size in make test).
kill-soak:
	KILLS=$(or $(KILLS),10) SIZE=$(or $(SIZE),short) bash scripts/kill_soak.sh

# Every program in Samples/ (built with the package), at short settings: each is a user's story
# through the library API (Samples/README.md).
SAMPLES = QuickStart OfflineAgent CustomGuidance PolicyGuidedData "SafePolicy 20" "AlignDigits 10" "DiffusionPolicy 100"
run-samples:
	@for s in $(SAMPLES); do echo "== Samples/$$s"; .build/release/$$s || exit 1; done

# The benchmark binary, in its own build folder (results go to bench-results/).
bench-build: setup
	$(SWIFT) build $(RELEASE) --scratch-path $(BENCH_DIR) --product diffuse
	@mkdir -p bench-results

# Benchmarks: JSON in bench-results/ and a markdown table on stdout.
bench: bench-build
	$(BENCH_DIR)/release/diffuse bench core --threads $(THREADS) -o bench-results/core.json

# Issue #30 item 4: 1 vs 2 threads, alone and beside a busy process (bench/contention.py);
# BASELINE=/path/to/old/diffuse puts another build in the same rounds; SPINS="25 50 100" adds the new
# build at those PD_POOL_SPIN_US values (µs a worker spins before parking).
bench-contention: bench-build
	python3 bench/contention.py --diffuse $(BENCH_DIR)/release/diffuse $(if $(BASELINE),--baseline $(BASELINE)) \
	  $(foreach s,$(SPINS),--variant spin$(s):PD_POOL_SPIN_US=$(s)) --rounds $(or $(ROUNDS),5)

# End-to-end wall time of `diffuse train agent` (TD3+BC, 10k updates, 50k pendulum transitions).
bench-train-agent: bench-build
	bash bench/train_agent_wall.sh $(BENCH_DIR)/release/diffuse

# Issue L's method-level ratios as the median of ROUNDS paired rounds (bench/rounds.py), into
# docs/bench-methods-rounds.md. About 2.5 minutes per round.
ROUNDS ?= 3
METHODS = td3bc_update,iql_update,fisor_update,pgd_generate,unet2d_train_step,seppo_dpo_step,mlp_train_step,fisor_select_action_1,op_overhead
bench-rounds: bench-build
	@test -x .venv-bench/bin/python || python3 -m venv .venv-bench
	@.venv-bench/bin/python -c "import torch" 2>/dev/null || .venv-bench/bin/pip install -q torch numpy
	python3 bench/rounds.py --diffuse $(BENCH_DIR)/release/diffuse --python .venv-bench/bin/python --threads $(THREADS) \
	  --rounds $(ROUNDS) --only $(METHODS) --goals td3bc_update=2,iql_update=2,unet2d_train_step=1.5,fisor_update=1.5,pgd_generate=1.5,seppo_dpo_step=1.5 \
	  --markdown docs/bench-methods-rounds.md --command "make bench-rounds ROUNDS=$(ROUNDS) THREADS=$(THREADS)"

# Issue #27's diffusion-policy workloads (update and batch-1 selection) beside PyTorch, into
# docs/bench-diffusion-policies.md (quote THREADS=1 on a shared machine: see that file).
DPOL = diffusion_bc_update,idql_update,dql_update,diffusion_bc_select_action_1,idql_select_action_1,dql_select_action_1
bench-rounds-diffusion-policies: bench-build
	@test -x .venv-bench/bin/python || python3 -m venv .venv-bench
	@.venv-bench/bin/python -c "import torch" 2>/dev/null || .venv-bench/bin/pip install -q torch numpy
	python3 bench/rounds.py --diffuse $(BENCH_DIR)/release/diffuse --python .venv-bench/bin/python --threads $(THREADS) \
	  --rounds $(ROUNDS) --only $(DPOL) \
	  --goals diffusion_bc_update=1.5,idql_update=1.5,dql_update=1.5,diffusion_bc_select_action_1=2,idql_select_action_1=2,dql_select_action_1=2 \
	  --markdown bench-results/diffusion-policies-rounds.md --command "make bench-rounds-diffusion-policies ROUNDS=$(ROUNDS) THREADS=$(THREADS)"

# A/B of two builds of ours on the same noisy machine (bench/paired.py alternating turns):
# make bench-ab BASELINE=/path/to/old/diffuse ONLY=unet2d_train_step,td3bc_update
bench-ab: bench-build
	@test -n "$(BASELINE)" || { echo "bench-ab: set BASELINE=/path/to/another/diffuse"; exit 2; }
	python3 bench/paired.py --diffuse $(BENCH_DIR)/release/diffuse --baseline $(BASELINE) --threads $(THREADS) \
	  $(if $(ONLY),--only $(ONLY)) bench-results/ab.json bench-results/ab-baseline.json

# Split vs grouped GEMMs for twin critics (bench/twin_gemm.c; docs/bench-methods.md).
bench-twin-gemm: setup
	@mkdir -p $(BENCH_DIR)
	clang -O2 bench/twin_gemm.c -o $(BENCH_DIR)/twin_gemm -lopenblas -lpthread
	$(BENCH_DIR)/twin_gemm

# Row splits of OpenBLAS sgemm at multiples of 16 and 48 against the unsplit call (why pd_sgemm splits at 48).
gemm-split-check: setup
	@mkdir -p $(BENCH_DIR)
	clang -O2 bench/gemm_split_check.c -o $(BENCH_DIR)/gemm_split_check -lopenblas
	$(BENCH_DIR)/gemm_split_check 16; $(BENCH_DIR)/gemm_split_check 48
	@# The kernels the library may run (scripts' OpenBLAS alone can fall back to Prescott on a masked CPU).
	OPENBLAS_CORETYPE=Haswell $(BENCH_DIR)/gemm_split_check 48
	@if grep -qw avx512bw /proc/cpuinfo; then echo OPENBLAS_CORETYPE=SkylakeX; OPENBLAS_CORETYPE=SkylakeX $(BENCH_DIR)/gemm_split_check 48; fi

# Issue #32: libFuzzer on one parser (Sources/Apps/FuzzParsers; TARGET: safetensors npy npz hdf5 checkpoint
# digits arguments) for SECONDS, in a coverage-instrumented build in .build-fuzz (lld: gold fails on the
# instrumented objects), from the committed corpus fuzz/corpus/TARGET (valid files made by dev/make_fuzz_seeds.sh plus what
# earlier runs found); new inputs go to fuzz-corpus/TARGET, crashes to fuzz-crashes/. fuzz-minimize merges both
# into the smallest set with the same coverage and replaces fuzz/corpus/TARGET with it (commit the result).
TARGET ?= safetensors
SECONDS ?= 60
FUZZ_BIN = .build-fuzz/release/FuzzParsers
FUZZ_TARGETS = safetensors npy npz hdf5 checkpoint digits arguments png images
fuzz-build: setup
	$(SWIFT) build -c release --build-path .build-fuzz --product FuzzParsers -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
fuzz: fuzz-build
	mkdir -p fuzz-corpus/$(TARGET) fuzz-crashes fuzz/corpus/$(TARGET)
	PD_FUZZ_TARGET=$(TARGET) $(FUZZ_BIN) -max_total_time=$(SECONDS) -rss_limit_mb=4096 -timeout=20 \
	  -artifact_prefix=fuzz-crashes/$(TARGET)- fuzz-corpus/$(TARGET) fuzz/corpus/$(TARGET)
fuzz-minimize: fuzz-build
	rm -rf fuzz-corpus/$(TARGET).min && mkdir -p fuzz-corpus/$(TARGET).min fuzz-corpus/$(TARGET)
	PD_FUZZ_TARGET=$(TARGET) $(FUZZ_BIN) -merge=1 -rss_limit_mb=4096 fuzz-corpus/$(TARGET).min fuzz/corpus/$(TARGET) fuzz-corpus/$(TARGET)
	rm -rf fuzz/corpus/$(TARGET) && mv fuzz-corpus/$(TARGET).min fuzz/corpus/$(TARGET)
# Every committed corpus file through its parser with the plain release build (part of make test: a parser
# change that makes a known input crash, trap or hang fails the suite without a fuzzer build).
fuzz-replay:
	@for t in $(FUZZ_TARGETS); do .build/release/FuzzParsers $$t fuzz/corpus/$$t/* || exit 1; done
	@.build/release/FuzzParsers hdf5 Tests/OfflineRLTests/Fixtures/libhdf5-crashes/*

# Data-parallel scaling, 1 vs 2 ranks under mpirun (docs/distributed.md); needs Open MPI.
bench-distributed:
	@PD_SETUP_MPI=1 bash scripts/setup.sh
	bash bench/distributed.sh

# Same workloads in eager PyTorch (CPU, same thread count) in a local venv, run beside ours with
# short turns (≥ 0.3 s) alternating between the two processes (bench/paired.py: both sides of a
# ratio see the same machine states on a shared VM); prints ratios and writes docs/bench-core.md.
# A development tool: torch is never a runtime dependency.
bench-compare: bench-build
	@test -x .venv-bench/bin/python || python3 -m venv .venv-bench
	@.venv-bench/bin/python -c "import torch" 2>/dev/null || .venv-bench/bin/pip install -q torch numpy
	python3 bench/paired.py --diffuse $(BENCH_DIR)/release/diffuse --python .venv-bench/bin/python \
	  --threads $(THREADS) bench-results/core.json bench-results/core-torch.json
	python3 bench/compare.py bench-results/core.json bench-results/core-torch.json --markdown docs/bench-core.md \
	  --command "make bench-compare THREADS=$(THREADS)"

# Regenerates Checkpoints/ and its manifest with the commands recorded there (about 2.5 hours on 2 cores, most of
# it SAC; needs python3). SECTIONS="locomotion" (or toys pointmaze safe-circle sac digits) remakes only those files.
checkpoints: build
	$(if $(SECTIONS),SECTIONS="$(SECTIONS)") bash scripts/checkpoints.sh

# The D4RL-style locomotion datasets (docs/environments.md §7) from the SAC agents in Checkpoints/,
# without training: data/locomotion/<env>-<quality>.hdf5. STEPS=1000000 (D4RL's size) by default.
datasets: build
	bash scripts/datasets.sh

clean:
	rm -rf .build $(BENCH_DIR) bench-results

# Experiment of issue D: TD3+BC and IQL vs BC on mixed pendulum / pointmaze data (3 seeds);
# writes docs/offline-agents.md. About 25 minutes on 2 cores at the default STEPS.
experiment-agents: setup
	STEPS=$(or $(STEPS),30000) bash experiments/offline_agents.sh

# Experiment of issue #27: diffusion-bc / IDQL / DQL next to BC / TD3+BC / IQL on pendulum and
# pointmaze-umaze mixed data (ENVS= adds hopper / halfcheetah / walker2d medium-replay), 3 seeds;
# writes experiments/results/diffusion_policies.{jsonl,md} (ROWS=, TABLE= elsewhere).
experiment-diffusion-policies: setup
	STEPS=$(or $(STEPS),30000) bash experiments/diffusion_policies.sh

# Experiment of issue E: policy-guided diffusion on pointmaze-umaze and pendulum (λ sweep of
# likelihood and dynamics error, world-model baseline, optional downstream agents: DOWNSTREAM=1);
# writes docs/pgd-results.md and docs/figures/pgd-*.svg. Knobs: see experiments/pgd.sh.
experiment-pgd: setup
	bash experiments/pgd.sh

# Experiment of issue G: SePPO vs Diffusion-DPO, SFT and SPIN on 8×8 digits (5 seeds; held-out score,
# paired win rates with bootstrap CIs, flip rate); writes docs/seppo-results.md and docs/figures/seppo-*.png.
# Knobs: see experiments/seppo.sh. SWEEP=1 (issue #29): every method at its best setting of a β × lr ×
# updates grid, picked on a validation judge, then 5 seeds on the test judge (experiments/seppo_sweep.sh).
experiment-seppo: setup
	bash experiments/$(if $(filter 1,$(SWEEP)),seppo_sweep.sh,seppo.sh)

# Issue #31: SFT and SePPO toward warm colours on the project's RGB shapes, judged exactly (no learned scorer);
# writes docs/seppo-shapes-results.md. Knobs: see experiments/seppo_shapes.sh.
experiment-seppo-shapes: setup
	bash experiments/seppo_shapes.sh

# FISOR vs BC-All / BC-Safe on safe-circle and safe-goal, κ ∈ {10, 20, 40} (issue F): writes
# docs/fisor-results.md. Knobs: see experiments/fisor.sh.
experiment-fisor: setup
	bash experiments/fisor.sh

# Issue #26: trajectory-model fidelity (validation loss, relative dynamics error, marginal W1, roughness)
# against training wall-clock minutes, over steps and sampling length vs the training horizon; rows in
# experiments/results/fidelity.jsonl, table in experiments/results/fidelity.md. Knobs: see experiments/fidelity.sh.
experiment-fidelity: setup
	bash experiments/fidelity.sh

experiment-fidelity-knobs: setup
	bash experiments/fidelity_knobs.sh
