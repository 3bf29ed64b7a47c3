# The two commands of the README: `make run` (the demo, offline) and `make test` (the whole suite).
# Both create .venv and install what a fresh machine lacks (Python packages, redis-server).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test bench lint deps redis-server clean

run: deps
	$(VENV)/bin/wirewatch demo

test: deps
	$(PY) -m pytest

bench: deps
	$(PY) -m tests.bench

# ruff (style, imports sorted), mypy (strict on core, settings, infra) and the import rules of pyproject.toml.
lint: deps
	$(VENV)/bin/ruff check workers tests scripts
	$(VENV)/bin/ruff format --check workers tests scripts
	$(VENV)/bin/mypy workers
	$(VENV)/bin/lint-imports

deps: $(VENV)/.installed redis-server

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

# redis-server from Debian's package when missing (root on a fresh machine runs apt-get update first), and
# redis-cli (Debian's redis-tools, a dependency of redis-server) that the tests' Redis Cluster is created with.
redis-server:
	@{ command -v redis-server || test -x /usr/bin/redis-server; } >/dev/null 2>&1 && \
	  { command -v redis-cli || test -x /usr/bin/redis-cli; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing redis-server and redis-tools"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null); \
	  else echo "redis-server or redis-cli is missing: sudo apt-get install -y redis-server redis-tools"; exit 1; fi; }

clean:
	rm -rf $(VENV) .wirewatch .pytest_cache
