# mt2kd-edge developer entry points. `make help` lists them.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SETUP_STAMP := $(VENV)/.setup-done
CORE_STAMP := $(VENV)/.core-built
CORE_SOURCES := CMakeLists.txt $(shell find runtime -type f \( -name '*.cc' -o -name '*.h' \) 2>/dev/null)

.PHONY: help setup demo test test-fast cpp-test model model-session model-status paper-table clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

setup: $(CORE_STAMP)  ## create .venv, install Debian + Python deps, build the C++ core (idempotent)

# Re-run the full setup only when the dependency definitions change.
$(SETUP_STAMP): pyproject.toml requirements/constraints.txt scripts/setup.sh
	bash scripts/setup.sh
	touch $@

# Rebuild just the C++ extension when its sources change (build/ keeps the CMake cache).
$(CORE_STAMP): $(SETUP_STAMP) $(CORE_SOURCES)
	$(PY) -m pip --disable-pip-version-check -q install --no-build-isolation --no-deps -e .
	touch $@

demo: setup  ## the bundled model on its demo clip, through the C++ runtime (ExecuTorch int8)
	bash scripts/demo.sh

test: setup  ## the whole suite (Python and C++)
	$(PY) -m pytest -q tests

test-fast: setup  ## the suite without the slow tests
	$(PY) -m pytest -q -m "not slow" tests

cpp-test: setup  ## build and run the C++ unit tests with CMake + ctest, outside Python
	$(VENV)/bin/cmake -S . -B build/cpp -G Ninja -DCMAKE_MAKE_PROGRAM=$(abspath $(VENV))/bin/ninja -DPython_EXECUTABLE=$(abspath $(PY))
	$(VENV)/bin/cmake --build build/cpp
	$(VENV)/bin/ctest --test-dir build/cpp --output-on-failure

model: setup  ## the whole recipe behind models/default, in the background (resumable; log: exp/make_model.log)
	@mkdir -p exp
	nohup bash scripts/make_model.sh >> exp/make_model.log 2>&1 &
	@echo "started; follow it with: make model-status   (or tail -f exp/make_model.log)"

model-session: setup  ## one session's corpus + training + bundle, in the background (resumable; log: exp/session_model.log)
	@mkdir -p exp
	nohup bash scripts/session_model.sh >> exp/session_model.log 2>&1 &
	@echo "started; follow it with: tail -f exp/session_model.log"

model-status:  ## follow the background log of `make model` or `make model-session`, whichever wrote last
	@log=$$(ls -t exp/make_model.log exp/session_model.log 2>/dev/null | head -n 1); \
	if [ -z "$$log" ]; then echo "no training log yet: start one with make model (or make model-session)"; exit 1; fi; \
	echo "following $$log (Ctrl-C stops following, not the training)"; tail -n 30 -f "$$log"

paper-table: setup  ## train + evaluate every row of the MT2KD results table (hours; resumable) -> reports/paper_table.*
	bash scripts/make_model.sh prepare
	$(PY) -m train.paper_table --corpus data/corpus-default --exp exp/table --jobs 2

clean:  ## remove build outputs (keeps .venv)
	rm -rf build $(CORE_STAMP)
