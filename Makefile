# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo studio test bench-studio test-distributed bench-discovery bench facts golden fuzz mutants lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,experiments,studio,calibrate]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cxsim-demo

# The what-if page on 127.0.0.1 (its URL is printed; Ctrl+C stops it).
studio: $(STAMP)
	$(BIN)/cxsim-studio

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

# Ray and its Hydra launcher (large, and they pin cloudpickle below what joblib asks for),
# in an environment of their own so cxsim's .venv stays what a user has; then a 4-job sweep
# on a local Ray instance, collected and compared with the basic launcher's table
# (docs/scaling.md).
RAY_VENV := .venv-ray
test-distributed:
	test -x $(RAY_VENV)/bin/python || $(PYTHON) -m venv $(RAY_VENV)
	$(RAY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RAY_VENV)/bin/python -m pip install --quiet -e ".[dev,experiments]" "ray[default]>=2,<3" \
		"hydra-ray-launcher>=1.2.2" "hydra-core>=1.3.2,<1.4"
	$(RAY_VENV)/bin/python -c "import hydra_plugins.hydra_ray_launcher"  # fail here, not skip
	$(RAY_VENV)/bin/python -m pytest -p no:xdist -q -rs tests/test_sweeps.py -k "ray_launcher"

# The stylised facts measured afresh (CXSIM_REFRESH_FACTS: record, do not compare with the
# docs), then the table "What emerges, from what, and what kills it" in docs/model.md.
facts: $(STAMP)
	CXSIM_REFRESH_FACTS=1 $(BIN)/python -m pytest -n 2 -q tests/test_stylised_facts.py
	$(BIN)/python tests/facts.py

# The golden figures re-run and rewritten (tests/test_golden.py): only in a commit that
# changes the model or its draws on purpose, and says why.
golden: $(STAMP)
	CXSIM_REFRESH_GOLDEN=1 $(BIN)/python -m pytest -n 2 -q tests/test_golden.py

# Generated bad input, thousands of cases (tests/fuzz.py); the table goes to outputs/fuzz.md,
# each finding's input to outputs/fuzz-findings/<kind>-<n>/ (replay: tests/fuzz.py --replay DIR).
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz.py --cases 5000

# Each mechanism of the facts table broken in turn (tests/mutants/*.patch) in a scratch copy,
# and the fact tests that catch it; the table goes to stdout (12 mutants, 1-2 minutes each).
mutants: $(STAMP)
	$(BIN)/python tests/mutants.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Issue 31's side by side: cxsim and SIMOD on BPIC 2012, their measures cross-checked with
# log-distance-measures (table 14 of benchmarks/RESULTS.md). SIMOD needs Python < 3.13 and
# pandas < 3 (and Java for Split Miner): its own environment, never cxsim's.
DISCOVERY_VENV := benchmarks/discovery/.venv
DISCOVERY_PYTHON ?= python3.11
bench-discovery: $(STAMP)
	test -x $(DISCOVERY_VENV)/bin/python || $(DISCOVERY_PYTHON) -m venv $(DISCOVERY_VENV)
	$(DISCOVERY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DISCOVERY_VENV)/bin/python -m pip install --quiet "simod==5.2.1" "log-distance-measures==2.2.0" "pandas<3"
	$(DISCOVERY_VENV)/bin/python -c "import simod, log_distance_measures"  # fail here, not later
	java -version
	$(BIN)/python benchmarks/discovery/run.py

# The studio page timed in headless Chromium: Run, and logs dropped into it (tables 10 and 10b
# of benchmarks/RESULTS.md).
bench-studio: $(STAMP)
	$(BIN)/python benchmarks/run.py --only studio uploads

lint: $(STAMP)
	$(BIN)/ruff check cxsim tests benchmarks experiments

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
