# PolicyDiffusion — the two commands a newcomer needs are `make demo` and `make test`.
SWIFT ?= swift
RELEASE = -c release
TEST_FLAGS = -c release -Xswiftc -enable-testing
BENCH_DIR = .build-bench
DIFFUSE = .build/release/diffuse
THREADS ?= 2

.PHONY: setup build demo test bench-build bench bench-train-agent bench-compare checkpoints clean experiment-agents experiment-pgd experiment-seppo experiment-fisor

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build $(RELEASE)

# Sets up, builds, and runs the main job on shipped defaults: the shipped two-moons diffusion model
# sampled into .npy and SVG, a fresh toy model trained, a pendulum dataset collected and a TD3+BC
# agent trained and evaluated on it, and the benchmarks.
demo: build
	$(DIFFUSE) sample --model Checkpoints/two-moons-edm.safetensors -n 2000 -o .build/demo-samples.npy --svg .build/demo-samples.svg
	$(DIFFUSE) train toy --dist checkerboard --objective ddpm --seed 0 -o .build/demo-checkerboard.safetensors
	$(DIFFUSE) sample --model .build/demo-checkerboard.safetensors -n 2000 --sampler ddim --steps 50 --svg .build/demo-checkerboard.svg
	$(DIFFUSE) eval regression --model Checkpoints/toy-regression.safetensors
	$(DIFFUSE) env list
	$(DIFFUSE) dataset collect --env pendulum --quality mixed --steps 50000 -o .build/demo-pendulum.hdf5
	$(DIFFUSE) dataset info .build/demo-pendulum.hdf5
	$(DIFFUSE) train agent --algo td3bc --data .build/demo-pendulum.hdf5 --steps 5000 --log-every 1000 -o .build/demo-td3bc.safetensors
	$(DIFFUSE) eval --policy .build/demo-td3bc.safetensors --episodes 50
	$(DIFFUSE) bench core --threads $(THREADS) --repeats 20
	@echo "plots: .build/demo-samples.svg .build/demo-checkerboard.svg"

# The whole test suite, in release mode (what .ci/run calls).
# Open MPI comes too: the data-parallel tests run two ranks with mpirun (PD_REQUIRE_MPI: no skipping).
test:
	@PD_SETUP_PYTHON=1 PD_SETUP_MPI=1 bash scripts/setup.sh
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	PD_REQUIRE_MPI=1 $(SWIFT) test --skip-build $(TEST_FLAGS)

# The benchmark binary, in its own build folder (results go to bench-results/).
bench-build: setup
	$(SWIFT) build $(RELEASE) --scratch-path $(BENCH_DIR) --product diffuse
	@mkdir -p bench-results

# Benchmarks: JSON in bench-results/ and a markdown table on stdout.
bench: bench-build
	$(BENCH_DIR)/release/diffuse bench core --threads $(THREADS) -o bench-results/core.json

# End-to-end wall time of `diffuse train agent` (TD3+BC, 10k updates, 50k pendulum transitions).
bench-train-agent: bench-build
	bash bench/train_agent_wall.sh $(BENCH_DIR)/release/diffuse

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

# Regenerates the shipped checkpoints with the commands recorded in their metadata.
checkpoints: build
	$(DIFFUSE) train regression --seed 0 -o Checkpoints/toy-regression.safetensors
	$(DIFFUSE) train toy --dist two-moons --objective edm --seed 0 -o Checkpoints/two-moons-edm.safetensors

clean:
	rm -rf .build $(BENCH_DIR) bench-results

# Experiment of issue D: TD3+BC and IQL vs BC on mixed pendulum / pointmaze data (3 seeds);
# writes docs/offline-agents.md. About 25 minutes on 2 cores at the default STEPS.
experiment-agents: setup
	STEPS=$(or $(STEPS),30000) bash experiments/offline_agents.sh

# Experiment of issue E: policy-guided diffusion on pointmaze-umaze and pendulum (λ sweep of
# likelihood and dynamics error, world-model baseline, optional downstream agents: DOWNSTREAM=1);
# writes docs/pgd-results.md and docs/figures/pgd-*.svg. Knobs: see experiments/pgd.sh.
experiment-pgd: setup
	bash experiments/pgd.sh

# Experiment of issue G: SePPO vs Diffusion-DPO, SFT and SPIN on 8×8 digits (5 seeds; held-out score,
# paired win rates with bootstrap CIs, flip rate); writes docs/seppo-results.md and docs/figures/seppo-*.png.
# Knobs: see experiments/seppo.sh.
experiment-seppo: setup
	bash experiments/seppo.sh

# FISOR vs BC-All / BC-Safe on safe-circle and safe-goal, κ ∈ {10, 20, 40} (issue F): writes
# docs/fisor-results.md. Knobs: see experiments/fisor.sh.
experiment-fisor: setup
	bash experiments/fisor.sh
