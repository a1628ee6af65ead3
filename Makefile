# Set-up: make venv (the .venv; every target below also creates it on first use) and, as root,
#   make slurm-deps (the one-node SLURM cluster the tests marked slurm need).
#   make ablation   the main job: the local classic-control Rainbow ablation, then its figures
#   make test       everything CI runs: ruff, the default suite, the slow learning tests, the SLURM tests
#   make test-fast  the default suite only (a few minutes)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch lies on local disk on the dev machines; an unpinned torch would pull a
# multi-GB CUDA build. pyproject.toml leaves torch unpinned so cluster users keep their own.
TORCH ?= torch==2.13.0
PYTEST_TIMEOUT ?= 900

.PHONY: setup venv test test-fast lint ablation ablation-full bench slurm-deps clean

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[all]"
	touch $@

lint: venv
	$(VENV)/bin/ruff check .

test-fast: venv
	$(PY) -m pytest -q

# SLURM (Debian's slurm-wlm) is only installable as root; elsewhere the slurm tests skip.
slurm-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then bash slurm/install_dev_cluster.sh; \
	else echo "not root: skipping the SLURM dev-cluster install (tests marked slurm will skip)"; fi

# The venv (pip, from local disk) and the SLURM packages (apt) install side by side: about a
# minute off a fresh machine's `make test`.
setup:
	$(MAKE) --no-print-directory -j2 venv slurm-deps

# Every test, on one pytest-xdist worker per core (the SLURM tests on one of them: they share the
# dev cluster), slowest 30 named at the end.
# lint runs from the recipe, after setup: a prerequisite of its own would make `make -j test`
# build the venv twice at once (setup's sub-make and lint's venv).
test: setup
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q -m "" --timeout=$(PYTEST_TIMEOUT) -n auto --dist loadgroup --durations=30

ablation: venv
	$(VENV)/bin/dqnlab sweep experiments/classic_ablation.py --sweep-dir results/classic_ablation
	$(VENV)/bin/dqnlab analyze results/classic_ablation --out results/classic_ablation/figures

ablation-full: venv
	$(VENV)/bin/dqnlab sweep experiments/classic_ablation.py --full --sweep-dir results/classic_ablation_full
	$(VENV)/bin/dqnlab analyze results/classic_ablation_full --out results/classic_ablation_full/figures

bench: venv
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
