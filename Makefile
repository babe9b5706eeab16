# The two commands: `make demo` (the platform end to end, locally) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench up clean system-deps emulators web browser-deps bytecode

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The project's bytecode, compiled up front (about a second on 2 cores): where PYTHONDONTWRITEBYTECODE
# is set (as on our CI machines) every process would otherwise recompile what it imports from source
# each time it starts: `farm up`, each job, runtime and sandboxed agent (imports before `farm up`
# serves: 0.7 s instead of 2.4 s). Python ignores a compiled file whose source has changed since.
# Not tests/: its agent folders are zipped into bundles, where compiled files are refused.
bytecode: $(STAMP)
	@$(PY) -m compileall -q -j 0 shared functions farm runtime jobs ingester main.py > /dev/null

system-deps:
	@bash scripts/install-system-deps.sh

# The website (web/, built into web/dist, served by `farm up` at /): Node from Debian when
# missing, npm packages from web/package-lock.json.
web:
	@bash scripts/build-web.sh

# Debian's chromium for the website's browser tests (never fatal: they skip and say why).
browser-deps:
	@bash scripts/install-browser.sh

demo: $(STAMP) system-deps web bytecode
	$(VENV)/bin/farm demo
	@echo "The website: run 'make up', then open http://127.0.0.1:$${FARM_PORT:-8080}/"

# Side virtualenvs for test-only tools whose pins clash with the project's (never fatal:
# their tests skip with the reason when an install fails).
emulators:
	@bash scripts/install-bqemulator.sh
	@bash scripts/install-checkov.sh

# Lint, then the type checker (pyproject.toml says what it checks), then the tests.
test: $(STAMP) system-deps emulators web browser-deps bytecode
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) system-deps web browser-deps bytecode
	$(PY) -m pytest -m benchmark -p no:randomly bench $(PYTEST_ARGS)

up: $(STAMP) web bytecode
	$(VENV)/bin/farm up

clean:
	rm -rf $(VENV) .venv-* .farm .pytest_cache web/dist web/node_modules
