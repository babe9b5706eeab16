#!/usr/bin/env bash
# Install checkov into its own virtualenv, .venv-checkov. Checkov pins many libraries (and its
# own fork of the HCL parser, importable as `hcl2` like the project's python-hcl2), so it stays
# out of the project's venv. Idempotent: does nothing when the stamp is current. Never fatal:
# tests/infra/test_checkov.py skips with a reason when the venv is missing.
set -uo pipefail

cd "$(dirname "$0")/.."
VENV=.venv-checkov
PINS=(checkov==3.3.30)
STAMP="$VENV/.installed-$(printf '%s ' "${PINS[@]}" | sha1sum | cut -c1-12)"
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

[ -f "$STAMP" ] && exit 0

install() {
  test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV" || return 1
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" || return 1
  touch "$STAMP"
}

if install; then
  echo "install-checkov: ready in $VENV"
else
  echo "install-checkov: could not install; checkov tests will be skipped" >&2
fi
exit 0
