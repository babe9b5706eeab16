#!/usr/bin/env bash
# Install the BigQuery emulator (bqemulator) into its own virtualenv, .venv-bqemulator.
# It needs duckdb 1.5.5 while the project pins a newer duckdb, hence the separate venv. Its
# spatial and avro extensions come from PyPI wheels so it never downloads them at start-up
# (which fails offline). Idempotent: does nothing when the stamp is current. Never fatal: the
# BigQuery contract tests skip with a reason when the venv is missing.
set -uo pipefail

cd "$(dirname "$0")/.."
VENV=.venv-bqemulator
PINS=(bqemulator==1.4.0 duckdb==1.5.5 numpy duckdb-extension-spatial==1.5.5 duckdb-extension-avro==1.5.5)
STAMP="$VENV/.installed-$(printf '%s ' "${PINS[@]}" | sha1sum | cut -c1-12)"
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

[ -f "$STAMP" ] && exit 0

install() {
  test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV" || return 1
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" || return 1
  # Copy the wheels' extension binaries into DuckDB's extension directory under $VENV/home,
  # the HOME the test fixture gives the emulator, so `INSTALL spatial` finds them offline.
  mkdir -p "$VENV/home"
  HOME="$PWD/$VENV/home" "$VENV/bin/python" - <<'PY' || return 1
import importlib, pathlib, duckdb
con = duckdb.connect()
for name in ("spatial", "avro"):
    package = importlib.import_module(f"duckdb_extension_{name}")
    binary = next(pathlib.Path(package.__file__).parent.glob(f"extensions/*/{name}.duckdb_extension"))
    con.execute(f"INSTALL '{binary}'")
    con.execute(f"LOAD {name}")
PY
  touch "$STAMP"
}

if install; then
  echo "install-bqemulator: ready in $VENV"
else
  echo "install-bqemulator: could not install; BigQuery emulator tests will be skipped" >&2
fi
exit 0
