# kclient's set-up and checks. Needs only python3 (with venv) and, for `make test`,
# apt-get (tinyproxy is installed on first run). See CONTRIBUTING.md, "Set up".

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Re-made whenever pyproject.toml or this Makefile changes, so the venv follows them.
STAMP := $(VENV)/.kclient-installed

# JupyterLab refuses to start as root unless told.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ARGS ?=

.PHONY: help venv lab test pythons lint typecheck unit notebooks docs docs-serve test-slow test-browser reliability bench system-deps clean

help:
	@echo "make lab           set up .venv, then JupyterLab on notebooks/"
	@echo "make test          set up .venv and system packages, then ruff, mypy, pytest, the notebooks, the docs and the browser tests"
	@echo "make lint | typecheck | unit | notebooks | docs   one step of make test"
	@echo "make docs-serve    build the manual (docs/), then serve it on http://127.0.0.1:8001"
	@echo "make pythons       the core subset on the supported Pythons other than .venv's (make core-3.12 for one)"
	@echo "make test-slow     only the tests marked slow (make test runs them too)"
	@echo "make test-browser  only the tests marked browser (JupyterLab in Chromium)"
	@echo "make reliability   the reliability suite (-m reliability), then its table for docs/reliability.md"
	@echo "make bench         all benchmarks: import time, engines vs aiohttp, httpx, pyreqwest, pycurl and the lean loop on asyncio and uvloop (requests/s and instructions), streaming memory"
	@echo "make clean         remove caches (keeps the venvs); rm -rf .venv .venv-3.* for a fresh start"

venv: $(STAMP)

# The browser tests' tools (tests/browser/requirements.txt) are a second step, and no extra of
# kclient's: on Python 3.11 Playwright needs greenlet 3 while httpbin declares greenlet < 3
# (it runs with 3), so resolved together they refuse to install. Every extra of kclient's
# installs with the others in one step (tests/test_packaging.py).
$(STAMP): pyproject.toml Makefile tests/browser/requirements.txt
	@test -x $(PY) || { echo "Creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	$(PY) -m pip install --disable-pip-version-check -q -r tests/browser/requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

lab: $(STAMP)
	$(PY) -m jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

system-deps:
	bash scripts/install-system-deps.sh

# The steps of `make test`, in the order it runs them. pytest's exit status 5 ("no tests
# collected") fails the run like any other failure.
LINT := $(PY) -m ruff check kclient magics tests bench hatch_build.py docs/conf.py docs/_ext
TYPECHECK := $(PY) -m mypy
UNIT := $(PY) -m pytest -m "not browser"
# Every cell must run without error and print the outputs stored in the notebook, up to what
# tests/nbval-sanitize.cfg masks (ports, durations, dates). scripts/execute-notebooks.py stores them.
NOTEBOOKS := $(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval-sanitize.cfg notebooks/
# The manual (docs/, Sphinx with MyST and myst-nb), offline, with every warning an error: a broken
# link or reference, a bad docstring, a settings table or error tree that no longer draws.
DOCS := $(PY) -m sphinx -E -W --keep-going -n -q -b html docs docs/_build/html
DOCS_PORT ?= 8001
# JupyterLab in headless Chromium (tests/browser): the widgets as a person sees them.
BROWSER := $(PY) -m pytest -m browser tests/browser

# The supported Pythons other than .venv's run the core subset: every test but the slow,
# reliability, bench and browser ones, with kclient's network engines narrowed to CORE_ENGINES
# (CIO is kclient's own code, Aiohttp a C extension; Httpx and Urllib3 are pure Python and
# their matrix runs on 3.11). Each gets .venv-X.Y from scripts/find-python.sh, which fails
# naming the version when the machine lacks it. See CONTRIBUTING.md, "Set up".
SUPPORTED_PYTHONS := 3.11 3.12 3.13
OTHER_PYTHONS = $(filter-out $(shell test -x $(PY) && $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'),$(SUPPORTED_PYTHONS))
CORE_EXTRAS := jupyter,aiohttp,urllib3,http2,socks,compression,progress,demo,websocket,record,cache,test
CORE_ENGINES := CIO,Aiohttp
CORE := -m "not browser and not slow and not reliability and not bench"

.PRECIOUS: .venv-%/.kclient-installed
.venv-%/.kclient-installed: pyproject.toml Makefile
	@python="$$(bash scripts/find-python.sh $*)"; \
	test -x .venv-$*/bin/python || { echo "Creating .venv-$* with $$python"; "$$python" -m venv .venv-$*; }
	.venv-$*/bin/python -m pip install --disable-pip-version-check -q -e '.[$(CORE_EXTRAS)]'
	@touch $@

# make core-3.12, make core-3.13: the core subset on that Python.
core-%: .venv-%/.kclient-installed system-deps
	KCLIENT_TEST_ENGINES=$(CORE_ENGINES) .venv-$*/bin/python -m pytest $(CORE)

pythons: $(addprefix core-,$(OTHER_PYTHONS))

test: $(STAMP) system-deps
	$(LINT)
	$(TYPECHECK)
	$(UNIT)
	$(NOTEBOOKS)
	$(DOCS)
	$(BROWSER)
	$(MAKE) --no-print-directory pythons

lint: $(STAMP)
	$(LINT)

typecheck: $(STAMP)
	$(TYPECHECK)

unit: $(STAMP)
	$(UNIT)

notebooks: $(STAMP)
	$(NOTEBOOKS)

docs: $(STAMP)
	$(DOCS)

docs-serve: docs
	$(PY) -m http.server $(DOCS_PORT) --bind 127.0.0.1 --directory docs/_build/html

test-slow: $(STAMP) system-deps
	$(PY) -m pytest -m slow

test-browser: $(STAMP) system-deps
	$(BROWSER)

# The table is printed even when a scenario failed (then the target fails too).
reliability: $(STAMP) system-deps
	status=0; $(PY) -m pytest -m reliability --reliability-report=reliability.json || status=$$?; \
	$(PY) scripts/reliability-table.py reliability.json; exit $$status

bench: $(STAMP) system-deps
	$(PY) bench/import_time.py
	$(PY) bench/engines.py
	$(PY) bench/instructions.py
	$(PY) bench/stream_memory.py
	$(PY) bench/plugin_overhead.py
	$(PY) bench/reentrant_tasks.py
	$(PY) bench/sse.py
	$(PY) bench/ws.py

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)*' -prune -exec rm -rf {} +
