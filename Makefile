# The two commands of the README: `make run` (the demo, offline) and `make test` (the whole suite).
# Both create .venv and install what a fresh machine lacks (Python packages, redis-server).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test bench lint deps test-tools redis-server jq promtool chromium screenshots clean

run: deps
	$(VENV)/bin/wirewatch demo

test: deps test-tools
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

# What only the tests use (the demo needs none of it): jq, promtool, and a browser for the console's pages.
test-tools: jq promtool chromium

# pip's own output is long (one line per requirement) or silent (-q): one line per package downloaded or
# installed instead, so a first install (a few minutes on a slow link) shows that it is moving.
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || { echo "creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing wirewatch and its Python packages into $(VENV) (first time: 1-3 minutes)"
	@$(PY) -m pip install --disable-pip-version-check --progress-bar off -e '.[dev]' > $(VENV)/pip.log 2>&1 & pid=$$!; \
	  shown=0; while kill -0 $$pid 2>/dev/null; do \
	    n=$$(grep -c '^Collecting\|^Processing' $(VENV)/pip.log 2>/dev/null || true); \
	    if [ "$$n" != "$$shown" ]; then echo "  $$n packages resolved: $$(grep '^Collecting\|^Processing' $(VENV)/pip.log | tail -1 | cut -d' ' -f2)"; shown=$$n; fi; \
	    sleep 2; done; \
	  if wait $$pid; then grep '^Successfully installed' $(VENV)/pip.log | awk '{print "  installed " NF-2 " packages"}'; \
	  else tail -20 $(VENV)/pip.log; echo "pip install failed: full log in $(VENV)/pip.log"; exit 1; fi
	@touch $@

# redis-server from Debian's package when missing (root on a fresh machine runs apt-get update first), and
# redis-cli (Debian's redis-tools, a dependency of redis-server) that the tests' Redis Cluster is created with.
redis-server:
	@{ command -v redis-server || test -x /usr/bin/redis-server; } >/dev/null 2>&1 && \
	  { command -v redis-cli || test -x /usr/bin/redis-cli; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing redis-server and redis-tools"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null); \
	  else echo "redis-server or redis-cli is missing: sudo apt-get install -y redis-server redis-tools"; exit 1; fi; }

# jq: the log tests read every JSON log line with it, as an operator would (Debian package, as redis-server).
jq:
	@command -v jq >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing jq"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null); \
	  else echo "jq is missing (the log tests skip their jq check): sudo apt-get install -y jq"; fi; }

# promtool (Debian package prometheus): the tests check the shipped rules and each daemon's /metrics with it.
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing promtool (Debian package prometheus)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null); \
	  else echo "promtool is missing (the Prometheus tests skip): sudo apt-get install -y prometheus"; fi; }

# Debian's chromium and chromium-driver for the console's browser tests (Selenium drives them; nothing is downloaded).
# Without root they are only suggested: the browser tests skip, saying why.
chromium:
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium and chromium-driver"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null); \
	  else echo "chromium is missing (browser tests will skip): sudo apt-get install -y chromium chromium-driver"; fi; }

# The README's console screenshots, taken by the browser tests into docs/screenshots/.
screenshots: deps chromium
	WIREWATCH_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/integration/test_console_browser.py

clean:
	rm -rf $(VENV) .wirewatch .pytest_cache
