# The two commands: `make demo` (the platform end to end, locally) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench up clean system-deps emulators

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

demo: $(STAMP) system-deps
	$(VENV)/bin/farm demo

# Side virtualenvs for test-only tools whose pins clash with the project's (never fatal:
# their tests skip with the reason when an install fails).
emulators:
	@bash scripts/install-bqemulator.sh
	@bash scripts/install-checkov.sh

test: $(STAMP) system-deps emulators
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) system-deps
	$(PY) -m pytest -m benchmark -p no:randomly bench $(PYTEST_ARGS)

up: $(STAMP)
	$(VENV)/bin/farm up

clean:
	rm -rf $(VENV) .venv-* .farm .pytest_cache
