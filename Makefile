# The two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean chromium

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m jengu.devrun

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The browser tests drive the system Chromium (Playwright downloads nothing here).
CHROMIUM := /usr/bin/chromium
chromium:
	test -x $(CHROMIUM) || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

test: lint chromium
	$(PY) -m pytest

# One process per benchmark module: workers, servers and caches of one benchmark
# never skew (or stall) the next.
bench: $(STAMP)
	for module in tests/benchmarks/test_*.py; do \
		$(PY) -m pytest $$module -p no:cacheprovider -s -q || exit 1; \
	done

clean:
	rm -rf $(VENV) .local .pytest_cache .ruff_cache .import_linter_cache
