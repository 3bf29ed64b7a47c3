# The two commands of the README: `make run` (the demo, offline) and `make test` (the whole suite).
# Both create .venv and install what a fresh machine lacks (Python packages, redis-server).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test bench lint deps redis-server chromium screenshots clean

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

deps: $(VENV)/.installed redis-server chromium

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

# redis-server from Debian's package when missing (root on a fresh machine runs apt-get update first).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || test -x /usr/bin/redis-server || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing redis-server"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null); \
	  else echo "redis-server is missing: sudo apt-get install -y redis-server"; exit 1; fi; }

# Debian's chromium and chromium-driver for the console's browser tests (Selenium drives them; nothing is downloaded).
# Without root they are only suggested: the browser tests skip, saying why.
chromium:
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium and chromium-driver"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null); \
	  else echo "chromium is missing (browser tests will skip): sudo apt-get install -y chromium chromium-driver"; fi; }

# The README's console screenshots, taken by the browser tests into docs/screenshots/.
screenshots: deps
	WIREWATCH_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/integration/test_console_browser.py

clean:
	rm -rf $(VENV) .wirewatch .pytest_cache
